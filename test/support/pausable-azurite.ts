import type { App } from '../../src/app.js';
import { type RunningAzurite, startAzurite } from '../../src/storage/azurite.js';
import { until } from './until.js';

/**
 * An Azurite of the caller's own whose table service can be frozen (SIGSTOP) and thawed, for tests of
 * storage that does not answer. Never the shared test Azurite: pausing it would stall every other file.
 */
export interface PausableAzurite {
  readonly azurite: RunningAzurite;
  readonly connectionString: string;
  pause(): void;
  resume(): void;
  /** Thaws it if a test left it paused, then stops it. */
  stop(): Promise<void>;
}

export async function startPausableAzurite(): Promise<PausableAzurite> {
  const azurite = await startAzurite();
  let paused = false;
  const signal = (sig: NodeJS.Signals) => process.kill(azurite.pid('table')!, sig);
  const resume = () => {
    signal('SIGCONT');
    paused = false;
  };
  return {
    azurite,
    connectionString: azurite.connectionString,
    pause() {
      signal('SIGSTOP');
      paused = true;
    },
    resume,
    async stop() {
      if (paused) resume();
      await azurite.stop();
    },
  };
}

/**
 * App options for a file that pauses its storage: a storage call gives up after 1.5 s rather than 4 s, and once one has,
 * the next ones after 0.25 s rather than 1 s until one is answered, so each press while paused (a turn makes several
 * calls, one after another) is answered sooner. A call to storage that answers never comes near 1.5 s; 0.25 s only
 * applies until storage answers again, which `answering` waits for after each thaw.
 */
export const PAUSED_STORAGE_OPTIONS = { storageTimeoutMs: 1_500, storageSuspectTimeoutMs: 250 } as const;

/**
 * Waits until each app's storage answers once (Azurite thawed): its calls have their 1.5 s again, not the 0.25 s of a
 * storage that has just timed out, before the test goes on with storage that answers.
 */
export async function answering(...apps: App[]): Promise<void> {
  for (const app of apps) await until('storage to answer again', () => app.tables.ping().then(() => true, () => false), 30_000, 10);
}
