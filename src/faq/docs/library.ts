import { EventEmitter } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type LoadedGuidance, loadGuidanceDir, type SkippedDoc } from './load.js';
import type { GuidanceDoc, GuidanceSection } from './types.js';

/** What the library serves at one moment: the docs and the index built from them. */
export interface GuidanceSnapshot<TIndex> {
  docs: GuidanceDoc[];
  sections: GuidanceSection[];
  skipped: SkippedDoc[];
  index: TIndex;
  loadedAt: Date;
}

export interface ReloadedEvent {
  /** Doc paths added, changed or removed (or newly unreadable) since the previous snapshot; or the glossary file. */
  changed: string[];
}

export interface GuidanceLibraryOptions<TIndex> {
  buildIndex: (sections: GuidanceSection[]) => TIndex;
  onWarning?: (message: string) => void;
  /** Quiet time after the last change before rebuilding; editors write files in bursts. */
  debounceMs?: number;
  /**
   * Safety net next to fs.watch: a stat-only scan this often (0 turns it off). fs.watch can
   * miss events (network mounts, editors that replace files, folders made after start).
   */
  pollMs?: number;
  /** Called on close: whatever else the index was built from (a glossary file) stops watching too. */
  onClose?: () => void;
}

interface LibraryEvents {
  reloaded: [ReloadedEvent];
}

/**
 * Serves the guidance docs of a folder and keeps them current without a restart: changes
 * are noticed by fs.watch plus a cheap stat poll, debounced, and the index is rebuilt off the
 * request path; searches keep using the previous snapshot until the new one is ready.
 */
export class GuidanceLibrary<TIndex> extends EventEmitter<LibraryEvents> {
  private snapshot: GuidanceSnapshot<TIndex>;
  private sources = new Map<string, string>();
  private skippedPaths = new Set<string>();
  private statSignature = '';
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private closed = false;
  private loadedOnce = false;

  private constructor(
    readonly dir: string,
    private readonly options: GuidanceLibraryOptions<TIndex>,
  ) {
    super();
    this.snapshot = {
      docs: [],
      sections: [],
      skipped: [],
      index: options.buildIndex([]),
      loadedAt: new Date(),
    };
  }

  /** Loads the folder once, then starts watching it. */
  static async open<TIndex>(
    dir: string,
    options: GuidanceLibraryOptions<TIndex>,
  ): Promise<GuidanceLibrary<TIndex>> {
    const library = new GuidanceLibrary(dir, options);
    await library.reload();
    library.startWatching();
    return library;
  }

  get current(): GuidanceSnapshot<TIndex> {
    return this.snapshot;
  }

  get index(): TIndex {
    return this.snapshot.index;
  }

  /** Rebuilds now (tests, or an admin "reload" command); resolves when the new snapshot is live. */
  async reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = this.reloadLoop().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  /**
   * Rebuilds the index from the docs already loaded, because something else it is built from
   * changed (the glossary); `reason` is reported as the changed path.
   */
  rebuild(reason: string): void {
    if (this.closed) return;
    this.snapshot = { ...this.snapshot, index: this.options.buildIndex(this.snapshot.sections), loadedAt: new Date() };
    this.emit('reloaded', { changed: [reason] });
  }

  close(): void {
    if (!this.closed) this.options.onClose?.();
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.removeAllListeners();
  }

  private async reloadLoop(): Promise<void> {
    do {
      this.reloadAgain = false;
      const signature = await statSignature(this.dir);
      const loaded = await loadGuidanceDir(
        this.dir,
        this.options.onWarning ? { onWarning: this.options.onWarning } : {},
      );
      if (this.closed) return;
      this.statSignature = signature;
      this.apply(loaded);
    } while (this.reloadAgain && !this.closed);
  }

  private apply(loaded: LoadedGuidance): void {
    const changed = changedDocs(this.sources, loaded.sources, this.skippedPaths, loaded.skipped);
    // Nothing new (an editor touched a file without changing it): keep the index we have.
    if (this.loadedOnce && changed.length === 0) return;
    this.loadedOnce = true;
    this.snapshot = {
      docs: loaded.docs,
      sections: loaded.sections,
      skipped: loaded.skipped,
      index: this.options.buildIndex(loaded.sections),
      loadedAt: new Date(),
    };
    this.sources = loaded.sources;
    this.skippedPaths = new Set(loaded.skipped.map((skip) => skip.path));
    if (changed.length > 0) this.emit('reloaded', { changed });
  }

  private startWatching(): void {
    if (this.closed) return;
    try {
      this.watcher = watch(this.dir, { recursive: true }, () => this.scheduleReload());
      this.watcher.on('error', (error) => {
        this.options.onWarning?.(`guidance: watching ${this.dir} failed (${error.message}); polling only`);
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      this.options.onWarning?.(
        `guidance: cannot watch ${this.dir} (${(error as Error).message}); polling only`,
      );
    }
    const pollMs = this.options.pollMs ?? 2000;
    if (pollMs > 0) {
      this.pollTimer = setInterval(() => void this.pollOnce(), pollMs);
      this.pollTimer.unref();
    }
  }

  private async pollOnce(): Promise<void> {
    if (this.closed || this.reloading) return;
    const signature = await statSignature(this.dir);
    if (signature !== this.statSignature) this.scheduleReload();
  }

  private scheduleReload(): void {
    if (this.closed) return;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.reload().catch((error: unknown) => {
        this.options.onWarning?.(`guidance: reload failed: ${(error as Error).message}`);
      });
    }, this.options.debounceMs ?? 200);
    this.debounceTimer.unref();
  }
}

function changedDocs(
  before: Map<string, string>,
  after: Map<string, string>,
  skippedBefore: Set<string>,
  skippedAfter: SkippedDoc[],
): string[] {
  const changed = new Set<string>();
  for (const [path, text] of after) if (before.get(path) !== text) changed.add(path);
  for (const path of before.keys()) if (!after.has(path)) changed.add(path);
  for (const { path } of skippedAfter) if (!skippedBefore.has(path) && !before.has(path)) changed.add(path);
  return [...changed].sort();
}

/** Paths, sizes and mtimes of everything under dir: cheap to take, changes when any file does. */
async function statSignature(dir: string): Promise<string> {
  const parts: string[] = [];
  async function walk(current: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      parts.push(`!${current}`);
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.toLowerCase().endsWith('.md')) {
        try {
          const info = await stat(full);
          parts.push(`${full}:${info.size}:${info.mtimeMs}`);
        } catch {
          parts.push(`${full}:?`);
        }
      }
    }
  }
  await walk(dir);
  return parts.sort().join('\n');
}
