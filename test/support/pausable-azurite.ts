import { type RunningAzurite, startAzurite } from '../../src/storage/azurite.js';

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
 * App options for a file that pauses its storage: a storage call gives up after 1.5 s rather than 4 s, so each press
 * while paused is answered sooner. A call to storage that answers never comes near it (after a timeout the app already
 * gives calls 1 s until one is answered, and these files pass with that).
 */
export const PAUSED_STORAGE_OPTIONS = { storageTimeoutMs: 1_500 } as const;
