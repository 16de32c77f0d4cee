import { WatchedFile } from '../files/watched-file.js';
import { EMPTY_ROLLOUT, parseRollout, type Rollout } from './model.js';

/**
 * About 125 bytes a person as the sample writes them (one line each: Entra id, name, groups, cohort), so
 * 20,000 people take some 2.5 MB; 3 MB leaves room for longer names and more groups. Parsing that much
 * still takes a few seconds (synchronous), so the cap is what bounds a pasted dump, not a budget to fill.
 */
export const ROLLOUT_MAX_BYTES = 3 * 1024 * 1024;

/**
 * The rollout file (`ROLLOUT_FILE`), kept current without a restart. A file that can't be read keeps the
 * last good version (so does one over ROLLOUT_MAX_BYTES, refused unread); each bad entry is named through `onWarning` on every load, the rest is used.
 */
export async function openRolloutFile(
  file: string,
  opts: { onWarning?: (message: string) => void; pollMs?: number; debounceMs?: number } = {},
): Promise<WatchedFile<Rollout>> {
  const watched = await WatchedFile.open(file, {
    ...opts,
    missing: EMPTY_ROLLOUT,
    maxBytes: ROLLOUT_MAX_BYTES,
    parse: (text, source) => {
      const rollout = parseRollout(text, source);
      for (const problem of rollout.problems) opts.onWarning?.(`${problem}; the entry is left out`);
      return rollout;
    },
  });
  return watched;
}
