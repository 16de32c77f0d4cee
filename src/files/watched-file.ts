import { EventEmitter } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { FileTooLargeError, readCappedText } from './capped-read.js';

/**
 * A settings file the rollout team edits while the app runs (the rollout's people, the office-hours
 * schedule): read once at start, then kept current without a restart — fs.watch on its folder plus a
 * stat poll, debounced. `parse` turns the text into a value or throws (or rejects) for a file that can't be
 * used at all (the value in use stays); problems with single entries are the parser's to report inside the
 * value, so one bad entry never hides the rest. A parser of a large file runs it in a worker thread
 * (parse-in-worker.ts) and is async: reads are taken one at a time, so a slow parse of an older text never
 * replaces the value of a newer one.
 */
export interface WatchedFileOptions<T> {
  parse: (text: string, source: string) => T | Promise<T>;
  /** The value when the file does not exist. */
  missing: T;
  onWarning?: (message: string) => void;
  /** Quiet time after the last change before re-reading; editors write files in bursts. */
  debounceMs?: number;
  /** A stat check this often, next to fs.watch (0 turns it off). */
  pollMs?: number;
  /**
   * A larger file is refused unread, like a bad one: a pasted dump would take the parser minutes (and hold
   * every user's turn for as long, where it runs on the main thread). Required so that no settings file goes without one.
   */
  maxBytes: number;
  /**
   * For a caller that keeps a bad file's problems as values (the plan file): the value for a file refused
   * for its size. Without it the file is refused like one `parse` throws for.
   */
  tooLarge?: (problem: string) => T;
}

interface WatchedFileEvents<T> {
  changed: [T];
}

export class WatchedFile<T> extends EventEmitter<WatchedFileEvents<T>> {
  private value: T;
  private signature = '';
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The read under way: the next one starts after it. */
  private reading: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly options: WatchedFileOptions<T>,
  ) {
    super();
    this.value = options.missing;
  }

  /** Reads the file once (a file that can't be used throws), then watches it. */
  static async open<T>(file: string, options: WatchedFileOptions<T>): Promise<WatchedFile<T>> {
    const watched = new WatchedFile(file, options);
    const first = await watched.read();
    if (first) watched.value = first.value;
    watched.startWatching();
    return watched;
  }

  get current(): T {
    return this.value;
  }

  /**
   * Re-reads now; resolves true when a changed value was taken into use. `force`: parse it again even if the
   * text is unchanged, for a `parse` that also depends on something else which changed (the plan on the rollout).
   */
  reload(opts: { force?: boolean } = {}): Promise<boolean> {
    const run = this.reading.then(() => this.reloadNow(opts));
    this.reading = run.catch(() => {});
    return run;
  }

  private async reloadNow(opts: { force?: boolean }): Promise<boolean> {
    if (this.closed) return false;
    if (opts.force) this.signature = '';
    let next: { value: T } | undefined;
    try {
      next = await this.read();
    } catch (error) {
      this.options.onWarning?.(`${(error as Error).message}; the previous version stays in use`);
      return false;
    }
    if (!next || this.closed) return false;
    this.value = next.value;
    this.emit('changed', next.value);
    return true;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.removeAllListeners();
  }

  /** The file's value, or undefined when it hasn't changed since the last read. */
  private async read(): Promise<{ value: T } | undefined> {
    let text: string;
    try {
      text = await readCappedText(this.file, this.options.maxBytes);
    } catch (error) {
      if (error instanceof FileTooLargeError && this.options.tooLarge) {
        const signature = `\0too-large:${error.size}`;
        if (signature === this.signature) return undefined;
        this.signature = signature;
        return { value: this.options.tooLarge(error.message) };
      }
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (this.signature === '\0missing') return undefined;
      this.options.onWarning?.(`${this.file}: not found; starting empty`);
      this.signature = '\0missing';
      return { value: this.options.missing };
    }
    if (text === this.signature) return undefined;
    const value = await this.options.parse(text, path.basename(this.file));
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
