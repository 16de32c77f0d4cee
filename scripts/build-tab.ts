/**
 * npm run build:tab — bundles the dashboard tab's TypeScript (tab/src) with esbuild into the files the
 * server serves from tab/ (git-ignored): dashboard-bundle.js and config-bundle.js. `--watch` rebuilds on
 * change. `npm start` and the tests build it first; a server package ships the built files (the bundling
 * tools are devDependencies), so `--if-needed` keeps existing bundles when the tools are not installed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const TAB_BUILD: BuildOptions = {
  entryPoints: {
    'dashboard-bundle': path.join(ROOT, 'tab/src/dashboard.ts'),
    'config-bundle': path.join(ROOT, 'tab/src/config-page.ts'),
  },
  outdir: path.join(ROOT, 'tab'),
  bundle: true,
  format: 'iife',
  target: ['es2020'],
  platform: 'browser',
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
};

/** Bundles the tab into tab/, or into `outdir` (a production build of its own, in the tests). */
export async function buildTab(outdir = TAB_BUILD.outdir): Promise<void> {
  const { build } = await import('esbuild');
  await build({ ...TAB_BUILD, outdir });
}

/** Whether the bundling tools and the tab's browser libraries are installed (not with `npm ci --omit=dev`). */
function toolsInstalled(): boolean {
  try {
    for (const pkg of ['esbuild', 'chart.js', '@fluentui/tokens']) import.meta.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = ['dashboard-bundle.js', 'config-bundle.js'].every((f) => existsSync(path.join(ROOT, 'tab', f)));
  if (process.argv.includes('--if-needed') && !toolsInstalled()) {
    if (!built) {
      console.error('The tab is not built and the bundling tools are not installed: run "npm install" then "npm run build:tab".');
      process.exit(1);
    }
    console.error('Bundling tools not installed: serving the tab bundles already built.');
  } else if (process.argv.includes('--watch')) {
    const { context } = await import('esbuild');
    const ctx = await context(TAB_BUILD);
    await ctx.watch();
    console.error('Watching tab/src …');
  } else {
    await buildTab();
    console.error('Built tab/dashboard-bundle.js and tab/config-bundle.js');
  }
}
