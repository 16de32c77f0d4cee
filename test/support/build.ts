import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTab } from '../../scripts/build-tab.js';
import { copyServerAssets } from '../../scripts/copy-server-assets.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The folders the compiled app reads beside `dist/` (see src/paths.ts) as they are; tab/ is built. */
const RUNTIME_FOLDERS = ['cards', 'sample'];
const BUNDLE = /-bundle\.js(\.map)?$/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** A digest of everything the compiler reads, so a build is reused exactly while the sources are unchanged. */
function sourceDigest(): string {
  const hash = createHash('sha256');
  const inputs = [
    ...filesUnder(path.join(REPO_ROOT, 'src')),
    ...filesUnder(path.join(REPO_ROOT, 'tab')).filter((f) => !BUNDLE.test(f)),
    ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => path.join(REPO_ROOT, f)),
  ];
  for (const file of inputs) hash.update(path.relative(REPO_ROOT, file)).update('\0').update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`)),
    );
  });
}

/**
 * A production build of the current sources — what `npm run build` makes — in a folder of its own:
 * `dist/` (tsc with tsconfig.build.json), the tab with its bundles built, `package.json`, and the other
 * runtime folders linked in. Test files share it through node_modules/.cache, keyed by a digest of the
 * sources; building into a private temporary folder and renaming it into place keeps parallel test files
 * from seeing half a build.
 */
export async function productionBuild(): Promise<string> {
  const cache = path.join(REPO_ROOT, 'node_modules', '.cache', 'rollout-desk-build');
  const dir = path.join(cache, sourceDigest());
  if (existsSync(path.join(dir, 'dist', 'main.js'))) return dir;
  mkdirSync(cache, { recursive: true });
  const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(tmp, 'dist')], REPO_ROOT);
    copyServerAssets(path.join(tmp, 'dist'));
    copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(tmp, 'package.json'));
    for (const folder of RUNTIME_FOLDERS) symlinkSync(path.join(REPO_ROOT, folder), path.join(tmp, folder), 'dir');
    // The tab as `npm run build` leaves it: its pages, and the bundles built from tab/src (not the repo's own).
    cpSync(path.join(REPO_ROOT, 'tab'), path.join(tmp, 'tab'), { recursive: true, filter: (src) => !BUNDLE.test(src) });
    await buildTab(path.join(tmp, 'tab'));
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another test file finished the same build first: use theirs.
    if (existsSync(path.join(dir, 'dist', 'main.js'))) return dir;
    throw err;
  }
  return dir;
}
