/**
 * npm run build:tab — bundles the dashboard tab's TypeScript (tab/src) with esbuild into the files the
 * server serves from tab/ (git-ignored): dashboard-bundle.js and config-bundle.js. `--watch` rebuilds on
 * change. `npm start` and the tests build it first.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, context, type BuildOptions } from 'esbuild';

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

export async function buildTab(): Promise<void> {
  await build(TAB_BUILD);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--watch')) {
    const ctx = await context(TAB_BUILD);
    await ctx.watch();
    console.log('Watching tab/src …');
  } else {
    await buildTab();
    console.log('Built tab/dashboard-bundle.js and tab/config-bundle.js');
  }
}
