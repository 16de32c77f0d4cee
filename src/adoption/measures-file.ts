import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileTooLargeError, readCappedText } from '../files/capped-read.js';
import { parseInWorker, workerParser } from '../files/parse-in-worker.js';
import { WatchedFile, type WatchedFileOptions } from '../files/watched-file.js';
import { applyMeasureEdit, type FieldErrors, type Measure, type MeasureEdit, MeasuresError, parseMeasures, versionOf } from './measures.js';

/**
 * The measures file kept current without a restart (src/files/watched-file.ts: fs.watch on its folder
 * plus a stat poll, debounced), and edited from Teams: an edit names the version of the file its card
 * showed, is applied to the text as it is now (comments kept), checked, and written atomically (temp
 * file + rename) under a lock file, so two editors — or two instances sharing the file — never lose a
 * change. A bad hand edit keeps the measures in use and is reported with the entry at fault.
 */

/** The measures with the text they came from (its version is what edit cards carry). */
interface Loaded {
  text: string;
  measures: Measure[];
}

export type MeasuresFileOptions = Omit<WatchedFileOptions<Loaded>, 'parse' | 'missing' | 'maxBytes' | 'tooLarge'>;

/** At most 30 measures of about 200 bytes each (the sample's); 64 KB leaves room for comments. */
export const MEASURES_MAX_BYTES = 64 * 1024;

export type MeasuresWrite =
  | { ok: true; measures: Measure[]; version: string }
  /** The file changed since the card was made: the fresh measures, to show again. */
  | { ok: false; stale: true; measures: Measure[]; version: string }
  | { ok: false; stale?: false; errors: FieldErrors };

const LOCK_STALE_MS = 30_000;

/** The watched file is read in a worker thread (src/files/parse-in-worker.ts); an edit from Teams, 64 KB at most, here. */
const PARSE_MEASURES = workerParser(import.meta.url, './measures', 'parseMeasures');

export class MeasuresFile {
  private constructor(private readonly watched: WatchedFile<Loaded>) {}

  /** Reads the file once (a bad file throws, naming the entry; a missing one is no measures), then watches it. */
  static async open(file: string, options: MeasuresFileOptions = {}): Promise<MeasuresFile> {
    return new MeasuresFile(
      await WatchedFile.open<Loaded>(file, {
        ...options,
        parse: async (text, source) => ({ text, measures: await parseInWorker<Measure[]>(PARSE_MEASURES, text, source) }),
        missing: { text: '', measures: [] },
        maxBytes: MEASURES_MAX_BYTES,
      }),
    );
  }

  get file(): string {
    return this.watched.file;
  }

  get current(): Measure[] {
    return this.watched.current.measures;
  }

  /** The version of the text the current measures came from (edit cards carry it). */
  get version(): string {
    return versionOf(this.watched.current.text);
  }

  /** Re-reads now; true when changed measures were taken into use. */
  reload(): Promise<boolean> {
    return this.watched.reload();
  }

  on(event: 'changed', listener: (measures: Measure[]) => void): this {
    this.watched.on(event, (loaded) => listener(loaded.measures));
    return this;
  }

  /** Applies an edit made on a card that showed `version`; refused as stale if the file changed since. */
  async edit(edit: MeasureEdit, version: string): Promise<MeasuresWrite> {
    return this.withLock(async () => {
      let text: string;
      let current: Measure[];
      try {
        text = (await this.readText()) ?? '';
        current = parseMeasures(text, path.basename(this.file));
      } catch (error) {
        if (error instanceof FileTooLargeError) {
          return { ok: false, errors: { form: `The measures file is too large to read, so it can't be edited from Teams until it is trimmed: ${error.message}` } };
        }
        if (!(error instanceof MeasuresError)) throw error;
        return { ok: false, errors: { form: `The measures file has a mistake, so it can't be edited from Teams until it is fixed: ${error.message}` } };
      }
      if (versionOf(text) !== version) {
        // The same edit pressed twice (a double click): the second finds the first one's result in the file.
        if (alreadyApplied(text, current, edit)) return { ok: true, measures: current, version: versionOf(text) };
        await this.watched.reload();
        return { ok: false, stale: true, measures: current, version: versionOf(text) };
      }
      const out = applyMeasureEdit(text, edit);
      if (!out.ok) return out;
      // A file this edit would push past the limit could not be read back: refuse it rather than write it.
      if (Buffer.byteLength(out.text) > MEASURES_MAX_BYTES) {
        return { ok: false, errors: { form: `The measures file would be larger than the ${MEASURES_MAX_BYTES / 1024} KB it may be; trim its comments or measures first.` } };
      }
      const temp = `${this.file}.${process.pid}.tmp`;
      try {
        await writeFile(temp, out.text, 'utf8');
        await rename(temp, this.file);
      } catch (error) {
        await rm(temp, { force: true });
        const code = (error as NodeJS.ErrnoException).code;
        return {
          ok: false,
          errors: {
            form: `The measures file could not be saved (${code ?? 'write failed'}). Set MEASURES_FILE to a writable place, e.g. /home/data/measures.yaml on App Service.`,
          },
        };
      }
      await this.watched.reload();
      return { ok: true, measures: out.measures, version: versionOf(out.text) };
    });
  }

  close(): void {
    this.watched.close();
  }

  private async readText(): Promise<string | undefined> {
    try {
      return await readCappedText(this.file, MEASURES_MAX_BYTES);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** One writer at a time across processes: an exclusive lock file, broken when older than 30 s (a crashed writer). */
  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.file}.lock`;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lock, 'wx');
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > LOCK_STALE_MS) await rm(lock, { force: true });
        else if (attempt > 100) throw new Error('the measures file is being edited by someone else; try again', { cause: error });
        else await new Promise((r) => setTimeout(r, 20));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }
}

/** Whether the file already holds what `edit` would make of it (so applying it again changes nothing). */
function alreadyApplied(text: string, current: readonly Measure[], edit: MeasureEdit): boolean {
  if (edit.kind === 'remove') return !current.some((m) => m.id === edit.id);
  const id = edit.kind === 'add' ? (edit.input.id ?? '').trim() : edit.id;
  if (!id || !current.some((m) => m.id === id)) return false;
  const again = applyMeasureEdit(text, { kind: 'update', id, input: edit.input });
  return again.ok && again.text === text;
}
