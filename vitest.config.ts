import { defineConfig } from 'vitest/config';
import SlowFirst from './test/support/slow-first.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/azurite.global.ts', 'test/support/tab-build.global.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Generous: a test asserts behaviour, not speed; a loaded 2-core CI machine can take several times as long.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time: most of the suite's time is spent waiting on Azurite, browsers and child
    // processes, so a second worker overlaps those waits (Vitest's default on 2 cores is one worker).
    maxWorkers: 2,
    sequence: { sequencer: SlowFirst },
  },
});
