/**
 * Teams' published limits as sliding windows, and the arithmetic to stay under them: plain functions over
 * plain data, so the shared budget rows (budget.ts) and the tests use the same rules.
 */

/** One limit: at most `count` requests in any `ms` window. */
export interface Window {
  count: number;
  ms: number;
}

/** Per bot, per conversation (msteams-docs: bots/how-to/rate-limit). */
export const CONVERSATION_WINDOWS: readonly Window[] = [
  { count: 7, ms: 1_000 },
  { count: 8, ms: 2_000 },
  { count: 60, ms: 30_000 },
  { count: 1_800, ms: 3_600_000 },
];

const MINUTE = 60_000;

/**
 * What a conversation has been sent lately, small enough for one table row: exact times for the short
 * windows, counts per minute for the hour (a minute partly inside the hour is counted whole: never too few).
 */
export interface WindowLog {
  /** Request times (ms), ascending, kept as long as the longest exact window needs them. */
  times: number[];
  /** Minute number (time / 60 000) → requests in that minute, for windows longer than `exactMs`. */
  minutes: Record<string, number>;
  /** Teams answered 429: nothing before this time (ms). */
  pausedUntil?: number;
}

export const emptyLog = (): WindowLog => ({ times: [], minutes: {} });

/** Windows up to this length are checked on exact times; longer ones on minute counts. */
const exactLimit = (windows: readonly Window[]) =>
  Math.max(0, ...windows.filter((w) => w.ms <= 5 * MINUTE).map((w) => w.ms));

/**
 * The earliest time ≥ `from` at which one more request fits every window, each window measured `guardMs`
 * longer than published (a request leaves a little after the time it was planned for, and arrives later still).
 * Requests are planned in order: the answer is never before the last one logged.
 */
export function earliestAllowed(
  log: WindowLog,
  windows: readonly Window[],
  from: number,
  guardMs: number,
): number {
  const exactMs = exactLimit(windows);
  let t = Math.max(from, log.pausedUntil ?? 0, log.times.at(-1) ?? 0);
  for (let moved = true; moved; ) {
    moved = false;
    for (const w of windows) {
      const span = w.ms + guardMs;
      let next = t;
      if (w.ms <= exactMs) {
        // The request that must leave the window first is the count-th most recent one.
        const inWindow = log.times.filter((x) => x > t - span).length;
        if (inWindow >= w.count) next = (log.times[log.times.length - w.count] ?? 0) + span;
      } else {
        const entries = Object.entries(log.minutes)
          .map(([m, n]) => [Number(m), n] as const)
          .filter(([m]) => (m + 1) * MINUTE > t - span)
          .sort((a, b) => a[0] - b[0]);
        let total = entries.reduce((sum, [, n]) => sum + n, 0);
        for (const [m, n] of entries) {
          if (total < w.count) break;
          next = (m + 1) * MINUTE + span; // once this minute has left the window
          total -= n;
        }
      }
      if (next > t) {
        t = next;
        moved = true;
      }
    }
  }
  return t;
}

/** The log with one more request at `at`, trimmed to what the windows still need. */
export function recordRequest(log: WindowLog, windows: readonly Window[], at: number, guardMs: number): WindowLog {
  const exactMs = exactLimit(windows) + guardMs;
  const longest = Math.max(...windows.map((w) => w.ms)) + guardMs;
  const times = [...log.times, at].filter((x) => x > at - exactMs);
  const minutes: Record<string, number> = {};
  const oldest = Math.floor((at - longest) / MINUTE);
  for (const [m, n] of Object.entries(log.minutes)) if (Number(m) >= oldest) minutes[m] = n;
  const key = String(Math.floor(at / MINUTE));
  minutes[key] = (minutes[key] ?? 0) + 1;
  return { times, minutes, ...(log.pausedUntil && log.pausedUntil > at ? { pausedUntil: log.pausedUntil } : {}) };
}

/**
 * The log without one request recorded at `at` (a plan given up before its request left), so the windows count
 * only requests that may have been made. Unchanged when its exact time is no longer logged (older than the exact
 * windows: then it counts only in the hour's minute counts, as a request would).
 */
export function forgetRequest(log: WindowLog, at: number): WindowLog {
  const i = log.times.lastIndexOf(at);
  if (i < 0) return log;
  const times = [...log.times.slice(0, i), ...log.times.slice(i + 1)];
  const key = String(Math.floor(at / MINUTE));
  const minutes = { ...log.minutes };
  const inMinute = minutes[key] ?? 0;
  if (inMinute > 1) minutes[key] = inMinute - 1;
  else delete minutes[key];
  return { ...log, times, minutes };
}

/** Counts requests in the busiest `ms` window of a list of times (ascending): what the stand-in and tests check. */
export function busiest(times: readonly number[], ms: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while ((times[j] ?? 0) - (times[i] ?? 0) >= ms) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}
