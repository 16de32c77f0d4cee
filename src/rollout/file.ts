import { WatchedFile } from '../files/watched-file.js';
import { EMPTY_ROLLOUT, parseRollout, type Rollout } from './model.js';

/**
 * The rollout file (`ROLLOUT_FILE`), kept current without a restart. A file that can't be read keeps the
 * last good version; each bad entry is named through `onWarning` on every load, the rest is used.
 */
export async function openRolloutFile(
  file: string,
  opts: { onWarning?: (message: string) => void; pollMs?: number; debounceMs?: number } = {},
): Promise<WatchedFile<Rollout>> {
  const watched = await WatchedFile.open(file, {
    ...opts,
    missing: EMPTY_ROLLOUT,
    parse: (text, source) => {
      const rollout = parseRollout(text, source);
      for (const problem of rollout.problems) opts.onWarning?.(`${problem}; the entry is left out`);
      return rollout;
    },
  });
  return watched;
}
