import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import SlowFirst from './test/support/slow-first.js';

const TESTS = 'test/**/*.test.ts';

/**
 * What makes a test file need modules of its own (Vitest's default, `isolate: true`): it starts the app or a
 * browser (their module graphs hold state: telemetry sinks, the served tab, the console's routing), patches
 * what other files use (vi.mock, spies on prototypes, fake timers, globals, environment variables), or imports
 * a module that keeps state between calls (worker threads, the adapter's console routing, the tab's files).
 */
const NEEDS_OWN_MODULES = new RegExp(
  [
    String.raw`src/app\.js`,
    String.raw`support/(app|my-data|tab-api|table-reads|production|outbound-child)\.js`,
    String.raw`e2e/`,
    String.raw`\bvi\.(mock|doMock|unmock|spyOn|stubGlobal|stubEnv|useFakeTimers|resetModules|hoisted)\b`,
    String.raw`recordTakenSlots`,
    String.raw`process\.(env|on|once|chdir|exit|exitCode)\b`,
    String.raw`globalThis`,
    String.raw`telemetry/(metrics|exceptions)|teams/adapter|files/parse-in-worker|http/server`,
  ].join('|'),
);

/**
 * The rest are plain unit tests of feature rules and storage: they run one after another in a worker that
 * keeps the modules it has imported (`isolate: false`), so each file no longer pays to import the same graph
 * again (a third of a unit file's time).
 */
const SHARED = readdirSync('test', { recursive: true, encoding: 'utf8' })
  .map((file) => path.posix.join('test', file.replaceAll('\\', '/')))
  .filter((file) => file.endsWith('.test.ts') && !file.includes('/e2e/') && !NEEDS_OWN_MODULES.test(readFileSync(file, 'utf8')));

/** Both projects' settings; the projects differ only in their files and in isolation. */
const project: TestProjectInlineConfiguration['test'] = {
  globalSetup: ['test/support/azurite.global.ts', 'test/support/tab-build.global.ts'],
  // Generous: a test asserts behaviour, not speed; a loaded 2-core CI machine can take several times as long.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: 'forks',
};

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Two files at a time: most of the suite's time is spent waiting on Azurite, browsers and child
    // processes, so a second worker overlaps those waits (Vitest's default on 2 cores is one worker).
    maxWorkers: 2,
    sequence: { sequencer: SlowFirst },
    projects: [
      { test: { ...project, name: 'isolated', include: [TESTS], exclude: SHARED } },
      { test: { ...project, name: 'shared', include: SHARED, isolate: false } },
    ],
  },
});
