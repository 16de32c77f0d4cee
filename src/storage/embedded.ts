import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { type AzuriteService, type RunningAzurite, serviceDir, startAzurite } from './azurite.js';
import { CallBudget, StorageUnavailableError } from './call-policy.js';
import { syncDir, syncFile } from './durable-file.js';
import { TableJournal } from './journal.js';
import { replay } from './replay.js';
import { clientOptions, type TablesOptions, tableClient } from './tables.js';

/*
 * Embedded Azurite, supervised: started with the app, restarted on the same ports and folder when it dies,
 * and — when it keeps data on disk — backed by a write journal (journal.ts) so that nothing a caller was
 * told is saved is lost when Azurite is killed before its next save.
 *
 * When is a journal record safe to drop? Azurite (LokiJS) saves its whole memory every 5 s when anything
 * changed: it serialises, writes `__azurite_db_table__.json~`, then renames it over the database file, one
 * save after another. Every few seconds we note the database file's identity (inode, times, size) and the
 * last journal number answered before that look. If the file changed between looks k-1 and k, a save ended
 * in between; any save seen later began after that one ended, so it holds every write answered before
 * look k-1. So when a second change is seen, records up to the number noted at the look before the first
 * change are on disk (we also fsync the file, which Azurite does not) and their segments are deleted.
 * A restart of Azurite starts this reasoning afresh, after the journal has been replayed.
 */

export type StorageHealth =
  | { status: 'ok' }
  | { status: 'recovering'; reason: string }
  | { status: 'down'; reason: string };

const CHECK_EVERY_MS = 2_000;
const RESTART_BACKOFF_MS = [500, 1_000, 2_000];
const RETRY_DOWN_EVERY_MS = 30_000;
const DB_FILE = '__azurite_db_table__.json';

export class EmbeddedStorage {
  private state: StorageHealth = { status: 'ok' };
  private gateOpen: Promise<void> = Promise.resolve();
  private openGate: () => void = () => {};
  private failGate: (err: Error) => void = () => {};
  private inFlight = 0;
  /** Bumped whenever the table process changes: looks at the database file compare only within one. */
  private generation = 0;
  private lastLook: { sig: string; seq: number } | undefined;
  private safeOnNextSave: number | undefined;
  private checker: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private recovering = new Map<AzuriteService, Promise<void>>();
  private stopped = false;

  private constructor(
    private readonly azurite: RunningAzurite,
    private readonly journal: TableJournal | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * Starts Azurite (data under `location`, or in memory), replays the journal's tail, and watches it.
   * `checkEveryMs`: how often Azurite's saves are looked for (tests shorten it; the default is production's).
   */
  static async start(opts: { location?: string; log: Logger; checkEveryMs?: number }): Promise<EmbeddedStorage> {
    const journal = opts.location ? await TableJournal.open(path.join(opts.location, 'journal')) : undefined;
    let azurite: RunningAzurite;
    try {
      azurite = await startAzurite({ location: opts.location });
    } catch (err) {
      await journal?.close();
      throw err;
    }
    const storage = new EmbeddedStorage(azurite, journal, opts.log);
    try {
      await storage.replayJournal('start');
    } catch (err) {
      await storage.stop();
      throw err;
    }
    azurite.onUnexpectedExit((service, detail) => void storage.recover(service, detail));
    if (journal) {
      storage.checker = setInterval(() => {
        storage.checking ??= storage.checkSaved().finally(() => (storage.checking = undefined));
      }, opts.checkEveryMs ?? CHECK_EVERY_MS);
      storage.checker.unref();
    }
    return storage;
  }

  get connectionString(): string {
    return this.azurite.connectionString;
  }
  get tablePort(): number {
    return this.azurite.tablePort;
  }
  get queuePort(): number {
    return this.azurite.queuePort;
  }
  /** The Azurite process of a service (tests kill it). */
  pid(service: AzuriteService): number | undefined {
    return this.azurite.pid(service);
  }

  /** Options for `Tables`: the journal, and the gate that holds calls while Azurite is being recovered. */
  tablesOptions(): TablesOptions {
    return {
      journal: this.journal,
      gate: () => this.gateOpen,
      inFlight: { add: (n) => (this.inFlight += n) },
    };
  }

  health(): StorageHealth {
    return this.state;
  }

  /** Resolves once storage is up again (tests; a restart waits for it). */
  async whenUp(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.state.status !== 'ok') {
      if (Date.now() > end) throw new Error(`embedded storage is not up: ${this.state.reason}`);
      await sleep(50);
    }
  }

  private closeGate(reason: string): void {
    this.state = { status: 'recovering', reason };
    this.gateOpen = new Promise<void>((resolve, reject) => {
      this.openGate = resolve;
      this.failGate = reject;
    });
    this.gateOpen.catch(() => {}); // callers handle it; an unobserved gate must not crash the process
  }

  private async recover(service: AzuriteService, detail: string): Promise<void> {
    if (this.stopped || this.recovering.has(service)) return;
    const run = this.restartLoop(service, detail).finally(() => this.recovering.delete(service));
    this.recovering.set(service, run);
    await run;
  }

  private async restartLoop(service: AzuriteService, detail: string): Promise<void> {
    this.log.error({ service, detail }, `embedded Azurite ${service} service stopped unexpectedly; restarting it`);
    if (service === 'table') {
      this.generation++;
      this.lastLook = undefined;
      this.safeOnNextSave = undefined;
      if (!this.journal) {
        // In memory there is nothing to recover: a fresh, empty store would hand out issue numbers again.
        const reason = `the in-memory table service ${detail}; its data is gone: restart the app`;
        this.state = { status: 'down', reason };
        this.gateOpen = Promise.reject(new StorageUnavailableError(`storage is down: ${reason}`));
        this.gateOpen.catch(() => {});
        this.log.error({ service }, `STORAGE IS DOWN: ${reason}`);
        return;
      }
      this.closeGate(`the embedded table service ${detail} and is being restarted`);
      // Tries already sent must end (they fail fast: the port is closed) before a new process can answer.
      const end = Date.now() + 10_000;
      while (this.inFlight > 0 && Date.now() < end) await sleep(20);
    }
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.azurite.restart(service);
        if (service === 'table') {
          await this.replayJournal('restart');
          this.generation++;
          this.state = { status: 'ok' };
          this.gateOpen = Promise.resolve();
          this.openGate();
        } else {
          this.log.warn('queue messages written in the seconds before the crash may be lost (not journaled)');
        }
        this.log.info({ service, attempt: attempt + 1 }, `embedded Azurite ${service} service restarted`);
        return;
      } catch (err) {
        const wait = RESTART_BACKOFF_MS[attempt] ?? RETRY_DOWN_EVERY_MS;
        if (attempt + 1 >= RESTART_BACKOFF_MS.length) {
          // /healthz shows the reason to anyone: the error itself (paths, addresses) goes to the log only.
          const reason = `embedded Azurite ${service} service could not be restarted`;
          if (service === 'table' && this.state.status !== 'down') {
            this.state = { status: 'down', reason };
            this.failGate(new StorageUnavailableError(`storage is down: ${reason}`));
          }
          this.log.error({ err, service }, `STORAGE IS DOWN: ${reason}; trying again every 30 s`);
        } else {
          this.log.warn({ err, service, attempt: attempt + 1 }, 'Azurite restart failed; trying again');
        }
        await sleep(wait, true);
      }
    }
  }

  /** Writes the journal's records onto Azurite (after a crash they hold what it lost). */
  private async replayJournal(when: 'start' | 'restart'): Promise<void> {
    if (!this.journal) return;
    const records = await this.journal.records();
    if (!records.length) return;
    // Replay bypasses the gate (it is what the gate waits for) and gets a longer deadline.
    const options = clientOptions(this.azurite.connectionString, new CallBudget({ timeoutMs: 60_000 }));
    const result = await replay(records, (t) => tableClient(this.azurite.connectionString, t, options));
    this.log.info({ ...result, when }, 'storage journal replayed onto embedded Azurite');
  }

  /** One look at Azurite's database file; trims the journal when a save certainly holds its records. */
  private async checkSaved(): Promise<void> {
    const journal = this.journal;
    if (!journal || this.state.status !== 'ok' || this.stopped) return;
    const generation = this.generation;
    try {
      // A segment per look, so "everything up to the number noted at a look" is whole files.
      await journal.rotateIfUsed();
      const seq = journal.lastSeq; // before the look: every write up to here was answered by Azurite
      const dbFile = path.join(serviceDir(this.azurite.location!, 'table'), DB_FILE);
      const sig = await signature(dbFile);
      if (generation !== this.generation || this.state.status !== 'ok') return;
      const previous = this.lastLook;
      this.lastLook = { sig, seq };
      if (!previous || previous.sig === sig) return;
      const safe = this.safeOnNextSave;
      this.safeOnNextSave = previous.seq;
      if (safe === undefined) return;
      await syncFile(dbFile); // Azurite does not sync its saves; a power cut must not undo them either
      await syncDir(path.dirname(dbFile));
      await journal.trimThrough(safe);
    } catch (err) {
      this.log.warn({ err }, 'could not trim the storage journal; will try again');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.checker) clearInterval(this.checker);
    await this.checking;
    await this.azurite.stop();
    await this.journal?.close();
  }
}

async function signature(file: string): Promise<string> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'missing';
  }
}

/** `unref`: a retry that is waiting must not keep a stopping process alive. */
const sleep = (ms: number, unref = false) =>
  new Promise((r) => {
    const t = setTimeout(r, ms);
    if (unref) t.unref();
  });
