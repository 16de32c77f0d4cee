/**
 * Copies the files under src/ that tsc does not emit (today the Azurite orphan guard, a .cjs file the
 * embedded storage starts beside itself) into the build's dist/, so the compiled app finds them where the
 * sources do. `npm run build` and the tests' production build both call it.
 */
import { cpSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The paths (relative to src/) of the runtime files tsc leaves out. */
function serverAssets(srcDir = path.join(ROOT, 'src')): string[] {
  return readdirSync(srcDir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.ts'))
    .map((e) => path.relative(srcDir, path.join(e.parentPath, e.name)))
    .sort();
}

export function copyServerAssets(distDir = path.join(ROOT, 'dist'), srcDir = path.join(ROOT, 'src')): string[] {
  const files = serverAssets(srcDir);
  for (const file of files) cpSync(path.join(srcDir, file), path.join(distDir, file));
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) copyServerAssets();
