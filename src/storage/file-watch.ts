import { watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

export interface FileWatchOptions {
  /** Quiet time after the last change before `onChange`; editors write files in bursts. */
  debounceMs?: number;
  /** A stat check this often, next to fs.watch, for file systems where watching misses changes (0 turns it off). */
  pollMs?: number;
}

/**
 * Calls `onChange` (debounced) when a file the rollout team edits by hand changes: fs.watch on its folder —
 * editors replace files, which ends a watch on the file itself — plus a stat poll. Returns a function that
 * stops watching.
 */
export function watchFile(file: string, onChange: () => void, options: FileWatchOptions = {}): () => void {
  let closed = false;
  let debounce: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (closed) return;
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      if (!closed) onChange();
    }, options.debounceMs ?? 200);
    debounce.unref();
  };
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(path.dirname(file), (_event, name) => {
      if (!name || name === path.basename(file)) schedule();
    });
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined;
    });
  } catch {
    // Polling below still notices changes.
  }
  let poll: NodeJS.Timeout | undefined;
  const pollMs = options.pollMs ?? 2000;
  if (pollMs > 0) {
    let last = '';
    poll = setInterval(() => {
      stat(file)
        .then(
          (info) => `${info.size}:${info.mtimeMs}`,
          () => 'missing',
        )
        .then((now) => {
          if (last && now !== last) schedule();
          last = now;
        });
    }, pollMs);
    poll.unref();
  }
  return () => {
    closed = true;
    watcher?.close();
    if (poll) clearInterval(poll);
    if (debounce) clearTimeout(debounce);
  };
}
