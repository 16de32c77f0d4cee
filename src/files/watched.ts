import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * A settings file the rollout team edits while the app runs (the communication plan, the rollout's people):
 * read and checked on open, watched (fs.watch on its folder plus a stat poll, debounced), and re-read on
 * change. A file that fails its check is never half-applied: the last good value stays in force and
 * `onInvalid` is told why. A missing file is `missing()` (an empty plan, say) rather than an error.
 */
export interface WatchedFileOptions<T> {
  /** Text → value; throws an Error whose message names what is wrong (the entry and the field). */
  parse(text: string, source: string): T;
  /** The value when the file does not exist. */
  missing(): T;
  /** A changed, valid file was taken into use. */
  onChange?(value: T): void;
  /** A changed file failed its check (or could not be read); the previous value stays. */
  onInvalid?(message: string): void;
  /** Quiet time after the last change before re-reading; editors write files in bursts. */
  debounceMs?: number;
  /** A stat check this often, next to fs.watch (0 turns it off). */
  pollMs?: number;
  /**
   * An invalid file on open: throw (the default: start-up says what is wrong), or report it through
   * `onInvalid`, start from `missing()` and keep watching for a good version.
   */
  tolerateInvalidOnOpen?: boolean;
}

export class WatchedFile<T> {
  private value: T;
  private signature = '';
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly options: WatchedFileOptions<T>,
  ) {
    this.value = options.missing();
  }

  /** Reads the file once (an invalid file throws, so start-up says what is wrong), then watches it. */
  static async open<T>(file: string, options: WatchedFileOptions<T>): Promise<WatchedFile<T>> {
    const watched = new WatchedFile(file, options);
    try {
      const first = await watched.read();
      if (first) watched.value = first.value;
    } catch (error) {
      if (!options.tolerateInvalidOnOpen) throw error;
      options.onInvalid?.((error as Error).message);
    }
    watched.startWatching();
    return watched;
  }

  get current(): T {
    return this.value;
  }

  /** Re-reads now; resolves true when a changed, valid file was taken into use. */
  async reload(): Promise<boolean> {
    let next: { value: T } | undefined;
    try {
      next = await this.read();
    } catch (error) {
      if (!this.closed) this.options.onInvalid?.((error as Error).message);
      return false;
    }
    if (!next || this.closed) return false;
    this.value = next.value;
    this.options.onChange?.(next.value);
    return true;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
  }

  /** The file's value, or undefined when its text has not changed since the last good read. */
  private async read(): Promise<{ value: T } | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (this.signature === '\0missing') return undefined;
      this.signature = '\0missing';
      return { value: this.options.missing() };
    }
    if (text === this.signature) return undefined;
    const value = this.options.parse(text, path.basename(this.file));
    this.signature = text;
    return { value };
  }

  private startWatching(): void {
    try {
      // The folder, not the file: editors replace files, which ends a watch on the file itself.
      this.watcher = watch(path.dirname(this.file), (_event, name) => {
        if (!name || name === path.basename(this.file)) this.scheduleReload();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // Polling below still notices changes.
    }
    const pollMs = this.options.pollMs ?? 2000;
    if (pollMs > 0) {
      let last = '';
      this.pollTimer = setInterval(() => {
        stat(this.file)
          .then(
            (info) => `${info.size}:${info.mtimeMs}`,
            () => 'missing',
          )
          .then((now) => {
            if (last && now !== last) this.scheduleReload();
            last = now;
          });
      }, pollMs);
      this.pollTimer.unref();
    }
  }

  private scheduleReload(): void {
    if (this.closed) return;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.reload();
    }, this.options.debounceMs ?? 200);
    this.debounceTimer.unref();
  }
}

/** "messages[3] (weekly-tip).when" — a list entry's own id helps the author find it in a long file. */
export function describePath(value: unknown, at: readonly PropertyKey[], idField = 'id'): string {
  if (at.length === 0) return 'the file';
  let out = '';
  let node: unknown = value;
  for (const key of at) {
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
    node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    const id = node && typeof node === 'object' ? (node as Record<string, unknown>)[idField] : undefined;
    if (typeof key === 'number' && (typeof id === 'string' || typeof id === 'number')) out += ` (${id})`;
  }
  return out;
}
