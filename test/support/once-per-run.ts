/**
 * Runs `start` once per test run however many projects run the global setup that calls it (vitest.config.ts
 * has two projects and each runs the global setups), and `stop` after the last of them has finished.
 * Global setups all run in Vitest's main process, so the one shared place is `globalThis`.
 */
export async function oncePerRun<T>(key: string, start: () => Promise<T>, stop: (value: T) => Promise<void>): Promise<{ value: T; release: () => Promise<void> }> {
  const runs = ((globalThis as { __rolloutDeskOnce?: Map<string, { value: Promise<T>; users: number }> }).__rolloutDeskOnce ??= new Map());
  let run = runs.get(key);
  if (!run) {
    run = { value: start(), users: 0 };
    runs.set(key, run);
  }
  run.users++;
  const value = await run.value;
  const held = run;
  return {
    value,
    release: async () => {
      if (--held.users > 0) return;
      runs.delete(key);
      await stop(value);
    },
  };
}
