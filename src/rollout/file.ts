import { parseInWorker, workerParser } from '../files/parse-in-worker.js';
import { WatchedFile } from '../files/watched-file.js';
import { EMPTY_ROLLOUT, type Rollout } from './model.js';

/**
 * About 125 bytes a person as the sample writes them (one line each: Entra id, name, groups, cohort), so
 * 20,000 people take some 2.5 MB; 3 MB leaves room for longer names and more groups (ROLLOUT_MAX_PEOPLE,
 * 25,000, is what it holds). Parsing that much takes a few seconds, in a worker thread (parse-in-worker.ts),
 * so the cap bounds a pasted dump, not a budget to fill.
 */
export const ROLLOUT_MAX_BYTES = 3 * 1024 * 1024;

const PARSE_ROLLOUT = workerParser(import.meta.url, './model', 'parseRollout');

/**
 * The rollout file (`ROLLOUT_FILE`), kept current without a restart. A file that can't be read keeps the
 * last good version (so does one over ROLLOUT_MAX_BYTES, refused unread, and one the worker thread that
 * checks it crashed or hung on); each bad entry is named through `onWarning` on every load, the rest is used.
 */
export async function openRolloutFile(
  file: string,
  opts: { onWarning?: (message: string) => void; pollMs?: number; debounceMs?: number } = {},
): Promise<WatchedFile<Rollout>> {
  const watched = await WatchedFile.open(file, {
    ...opts,
    missing: EMPTY_ROLLOUT,
    maxBytes: ROLLOUT_MAX_BYTES,
    parse: async (text, source) => {
      const rollout = await parseInWorker<Rollout>(PARSE_ROLLOUT, text, source);
      for (const problem of rollout.problems) opts.onWarning?.(`${problem}; the entry is left out`);
      return rollout;
    },
  });
  return watched;
}
