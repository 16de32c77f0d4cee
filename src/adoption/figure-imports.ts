import { randomBytes } from 'node:crypto';
import { odata, TableTransaction } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { DurableJobs } from '../durable-jobs.js';
import type { PostStore } from '../conversations/posts.js';
import type { OutboundMessage } from '../outbound/message.js';
import { importCard } from './cards.js';
import { fromJsonColumn, readEntity, toJsonColumn, updateIfUnchanged } from '../storage/entities.js';
import { collect, type Tables } from '../storage/tables.js';
import { isSubject, type Pseudonym, type Subject } from '../privacy/personal-data.js';
import { BATCH_ROWS, type Figure, type FigureInput, type FigureStore, type Replaced } from './figures.js';

/*
 * A large figure import (more than one transaction's BATCH_ROWS), checked whole by the turn and then written off it
 * in batches: a 10,000-row export takes a hundred transactions, longer than Teams gives a turn. The turn stages the
 * checked figures here and answers at once; this job writes one batch at a time, recording after each how far it
 * got, and the importer's card (or the tab) follows it. The pattern is `my data`'s (src/privacy/my-data-jobs.ts):
 * the job row is claimed by one instance until `claimedUntil` (renewed with each batch, ETag-guarded), and the
 * scheduled upkeep resumes a job whose instance stopped. A batch written but not yet recorded is written again on
 * resume: the same measure and date replace themselves, and the figure rows know which save wrote them
 * (FigureStore.save), so nothing is lost and no figure, or replaced figure, is counted twice.
 *
 * The importer is read from the job row before each batch: `forget` puts the stand-in there (forgetImporter), and a
 * batch written meanwhile under the old name fails its record (the row's ETag moved) and is written again.
 *
 * Table `AdoptionFigureImports`: PK the import's id (random), RK 'job' → who imported, when, via, state, the totals,
 * how many batches are written, the count of figures replaced and the first few (measure, date and value only: whose
 * they were is read from the figure rows when shown, which `forget` keeps right; the importer's id and name are
 * cleared when it is done); RK 'b0000'… → one batch's figures (JSON), written before the job row (a job row exists
 * only with all its batches) and deleted once all are written; each says when its staging began (`stagedAt`). A
 * finished job row is deleted FINISHED_KEPT_DAYS after the import began. Batches a staging left without a job row (a
 * fault part-way: nothing was imported) are deleted by the upkeep ABANDONED_STAGING_MS after their staging began. The
 * upkeep lists the running job rows and the first batch of each import under way (a handful), never the finished
 * ones or the figures.
 */

export const IMPORTS_TABLE = 'AdoptionFigureImports';
/** The post (src/conversations/posts.ts) of the importer's card, redrawn as batches land. */
export const IMPORT_POST = 'adoption-import';
/** The version of the card that shows the end (progress versions are figures written: at most MAX_IMPORT_ROWS). */
const FINAL_VERSION = 1_000_000;
const JOB = 'job';
/** The first few figures replaced, named on the final message; the rest are counted. */
const REPLACED_SHOWN = 3;
/** How long a finished import's record (its totals, the first few figures it replaced) is kept for its card. */
export const FINISHED_KEPT_DAYS = 30;
/** Batches this long after their staging began with no job row are a staging that failed (one takes a turn: seconds). */
export const ABANDONED_STAGING_MS = 60 * 60_000;

/** An import as the importer sees it: how far it is, and at the end what it replaced. */
export interface ImportView {
  id: string;
  total: number;
  written: number;
  replacedCount: number;
  /** The first REPLACED_SHOWN figures it replaced (the rest are counted in `replacedCount`). */
  replaced: Replaced[];
  state: 'running' | 'done';
  by: { id: string; name: string };
  via: Figure['via'];
  at: string;
}

interface Job extends ImportView {
  batches: number;
  done: number;
  holder: string;
  claimedUntil: number;
  etag: string;
}

export interface FigureImportsDeps {
  figures: Pick<FigureStore, 'save' | 'replacedBy'>;
  clock: Clock;
  /** This instance, as a claim names it. */
  holderId: string;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /**
   * Told as batches land (about ten times in all) and once at the end, so the importer's card can follow; a fault
   * here is logged and loses nothing (the job goes on, and its state is read again on the next look).
   */
  progress?: (view: ImportView) => Promise<void>;
  /** How long a claim holds without renewal (default 3 min); each batch renews it. */
  claimMs?: number;
}

/**
 * The importer's card redrawn to show `view` (through the outbound path, off the job: the card from a Teams import;
 * the tab follows its import by asking). Keyed by how far it is, so a repeat is sent once.
 */
export function importCardUpdate(view: ImportView): OutboundMessage {
  const version = view.state === 'done' ? FINAL_VERSION : view.written;
  return { op: 'update', key: `${IMPORT_POST}|${view.id}|${version}`, post: { kind: IMPORT_POST, id: view.id }, version, content: importCard(view) };
}

/** Whether the importer's card follows this import (one from the tab has none). */
export const hasCard = (view: ImportView): boolean => view.via !== 'tab';

/** The cards' posts of finished imports, once they show the end: where they are is needed no more. */
export function dropShownImportCards(posts: Pick<PostStore, 'removeShown'>): Promise<void> {
  return posts.removeShown(IMPORT_POST, FINAL_VERSION);
}

const batchKey = (n: number) => `b${String(n).padStart(4, '0')}`;

export class FigureImports extends DurableJobs<FigureImportsDeps> {
  protected readonly failure = { msg: 'figure import stopped; the upkeep resumes it once its claim lapses', field: 'import' };

  static async open(tables: Tables, deps: FigureImportsDeps): Promise<FigureImports> {
    return new FigureImports(await tables.table(IMPORTS_TABLE), deps);
  }

  /**
   * The turn's side: the checked figures written as batch rows (one transaction per hundred batches), then the job
   * row, claimed by this instance. A fault before the job row leaves only unreferenced batch rows: nothing imported.
   */
  async stage(figures: readonly FigureInput[], by: { id: string; name: string; via: Figure['via'] }): Promise<ImportView> {
    const id = randomBytes(8).toString('hex');
    const at = new Date(this.nowMs).toISOString();
    const batches: FigureInput[][] = [];
    for (let i = 0; i < figures.length; i += BATCH_ROWS) batches.push(figures.slice(i, i + BATCH_ROWS));
    for (let i = 0; i < batches.length; i += 100) {
      const tx = new TableTransaction();
      batches.slice(i, i + 100).forEach((b, j) => tx.createEntity({ partitionKey: id, rowKey: batchKey(i + j), stagedAt: at, figures: toJsonColumn(b) }));
      await this.table.submitTransaction(tx.actions);
    }
    await this.table.createEntity({
      partitionKey: id,
      rowKey: JOB,
      total: figures.length,
      batches: batches.length,
      done: 0,
      state: 'running',
      replacedCount: 0,
      replaced: toJsonColumn([]),
      byId: by.id,
      byName: by.name.slice(0, 120),
      via: by.via,
      at,
      ...this.claims.columns(),
    });
    return { id, total: figures.length, written: 0, replacedCount: 0, replaced: [], state: 'running', by: { id: by.id, name: by.name }, via: by.via, at };
  }

  /** How an import stands; undefined for an id no import has. */
  async status(id: string): Promise<ImportView | undefined> {
    if (!/^[0-9a-f]{16}$/.test(id)) return undefined;
    const job = await this.get(id);
    return job ? this.viewOf(job) : undefined;
  }

  /** The person's imports (`my data`): running ones name their importer; a finished one names nobody. */
  async jobsOf(subject: Subject): Promise<ImportView[]> {
    const jobs = await this.jobRows();
    return jobs.filter((j) => isSubject(subject, j.by.id)).map((j) => ({ ...j, replaced: [] }));
  }

  /**
   * `forget`: the stand-in put where the person is named as importer on a job row (ETag-guarded: a batch recorded
   * meanwhile is read again). The running job reads its importer from here before each batch. Returns how many.
   */
  async forgetImporter(subject: Subject, pseudonym: Pseudonym): Promise<number> {
    let changed = 0;
    for (const j of await this.jobRows()) {
      let job: Job | undefined = j;
      while (job && isSubject(subject, job.by.id)) {
        const entity = { partitionKey: job.id, rowKey: JOB, byId: pseudonym.id, byName: pseudonym.name.slice(0, 120) };
        if ((await updateIfUnchanged(this.table, entity, 'Merge', job.etag)) !== undefined) {
          changed++;
          break;
        }
        job = await this.get(job.id);
      }
    }
    return changed;
  }

  private async jobRows(filter = odata`RowKey eq ${JOB}`): Promise<Job[]> {
    const rows = await collect(this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } }));
    return rows.map((r) => jobOf(String(r.partitionKey), r, String(r.etag)));
  }

  /** The view of a job; the figures it replaced named as the figure rows now say (a `forget` since shows the stand-in). */
  private async viewOf(job: Job): Promise<ImportView> {
    const { id, total, written, replacedCount, replaced, state, by, via, at } = job;
    const names = replaced.length ? await this.d.figures.replacedBy(replaced, id) : [];
    return { id, total, written, replacedCount, replaced: replaced.map((r, i) => ({ ...r, enteredBy: names[i] ?? '' })), state, by, via, at };
  }

  private async get(id: string): Promise<Job | undefined> {
    const e = await readEntity<Record<string, unknown>>(this.table, id, JOB);
    return e ? jobOf(id, e, e.etag) : undefined;
  }

  /** Takes the job for this instance: free, lapsed, or already ours (renewed). */
  private claim(id: string): Promise<Job | undefined> {
    return this.claims.claim({ partitionKey: id, rowKey: JOB }, () => this.get(id), { runnable: (job) => job.state !== 'done' });
  }

  /** Writes the batches not yet recorded as written, recording each; the last one marks the import done. */
  run(id: string): Promise<void> {
    return this.alone(id, { partitionKey: id, rowKey: JOB }, () => this.writeBatches(id));
  }

  private async writeBatches(id: string): Promise<void> {
    let job = await this.claim(id);
    if (!job) return;
    const every = Math.max(1, Math.ceil(job.batches / 10));
    while (job.done < job.batches) {
      // Read again before each batch: `forget` may have put a stand-in where the importer was.
      const fresh: Job | undefined = await this.get(id);
      if (!fresh || fresh.state === 'done' || fresh.holder !== this.d.holderId || fresh.done !== job.done) return;
      job = fresh;
      // Shutdown: stops after the batch it recorded and lets the claim go (on the row as just read, so a record that
      // lost its ETag race does not keep it), so another instance resumes at its next upkeep.
      if (await this.stopsHere({ partitionKey: id, rowKey: JOB }, job.etag)) return;
      const by = { id: job.by.id, name: job.by.name, via: job.via, at: new Date(job.at), saveId: id };
      const row = await readEntity<{ figures: string }>(this.table, id, batchKey(job.done));
      const figures = fromJsonColumn<FigureInput[]>(row?.figures, []);
      const replaced = await this.d.figures.save(figures, by);
      const next: Job = {
        ...job,
        done: job.done + 1,
        written: job.written + figures.length,
        replacedCount: job.replacedCount + replaced.length,
        // Whose they were is not kept here: the figure rows say it, and `forget` rewrites them there.
        replaced: [...job.replaced, ...replaced.map(({ measureId, date, value }) => ({ measureId, date, value, enteredBy: '' }))].slice(0, REPLACED_SHOWN),
      };
      if (next.done === next.batches) next.state = 'done';
      const etag = await updateIfUnchanged(
        this.table,
        {
          partitionKey: id,
          rowKey: JOB,
          done: next.done,
          written: next.written,
          replacedCount: next.replacedCount,
          replaced: toJsonColumn(next.replaced.map(({ measureId, date, value }) => ({ measureId, date, value }))),
          state: next.state,
          // Each batch recorded renews the claim.
          claimedUntil: this.claims.until(),
          // Done, the record names nobody: the figures themselves say who entered them (`my data`, `forget`).
          ...(next.state === 'done' ? { byId: '', byName: '' } : {}),
        },
        'Merge',
        job.etag,
      );
      // Changed meanwhile: another instance took the lapsed job over (the re-read above then stops here), or
      // `forget` renamed the importer (the batch is written again under the stand-in; it counts once).
      if (etag === undefined) continue;
      job = { ...next, etag };
      if (job.done % every === 0 || job.state === 'done') await this.tell(job);
    }
    this.d.log.info({ import: id, figures: job.written, replaced: job.replacedCount }, 'figures imported');
    await this.dropBatches(id, job.batches);
  }

  private async tell(job: Job): Promise<void> {
    if (!this.d.progress) return;
    await this.d.progress(await this.viewOf(job)).catch((err: unknown) => this.d.log.warn({ err, import: job.id }, 'could not show how far a figure import got'));
  }

  /** The written batches' rows go; the job row stays as the import's record (a few hundred bytes). */
  private async dropBatches(id: string, batches: number): Promise<void> {
    for (let i = 0; i < batches; i += 100) {
      const tx = new TableTransaction();
      for (let n = i; n < Math.min(batches, i + 100); n++) tx.deleteEntity(id, batchKey(n));
      await this.table.submitTransaction(tx.actions).catch((err: unknown) => this.d.log.warn({ err, import: id }, 'could not delete the written batches of a figure import'));
    }
  }

  /**
   * Resumes every import whose claim lapsed (its instance stopped), listing only the running ones; deletes the
   * records of imports begun more than FINISHED_KEPT_DAYS ago, and the batches of stagings that failed part-way.
   * Returns how many it took up.
   */
  async upkeep(): Promise<number> {
    const rows = await collect(
      this.table.listEntities<{ claimedUntil: number }>({
        // A running job names its importer (or the stand-in); a finished one nobody. Not `state`: rows staged before
        // it was kept have none, and a filter on a missing column matches nothing.
        queryOptions: { filter: odata`RowKey eq ${JOB} and byId ne ''`, select: ['PartitionKey', 'claimedUntil'] },
      }),
    );
    const taken = await this.resumeLapsed(rows, (r) => String(r.partitionKey));
    await this.dropFinished();
    await this.dropAbandoned();
    return taken;
  }

  /**
   * The batches of a staging that failed before its job row was written (nothing imported, nothing to resume), once
   * ABANDONED_STAGING_MS old: sooner, the staging may still be under way on another instance. Found by their first
   * batch, which every staging writes: one row per import under way. Also the batches a finished import could not
   * delete at its end.
   */
  private async dropAbandoned(): Promise<void> {
    const before = this.nowMs - ABANDONED_STAGING_MS;
    const firsts = await collect(
      this.table.listEntities<{ stagedAt?: string }>({ queryOptions: { filter: odata`RowKey eq ${batchKey(0)}`, select: ['PartitionKey', 'stagedAt', 'Timestamp'] } }),
    );
    for (const r of firsts) {
      // Staged before `stagedAt` was kept: when storage wrote it.
      const stagedAt = Date.parse(String(r.stagedAt ?? r.timestamp ?? ''));
      if (!(stagedAt < before)) continue;
      const id = String(r.partitionKey);
      try {
        const job = await this.get(id);
        if (job?.state === 'running') continue;
        const rows = await collect(this.table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${id} and RowKey ne ${JOB}`, select: ['RowKey'] } }));
        for (let i = 0; i < rows.length; i += 100) {
          const tx = new TableTransaction();
          for (const b of rows.slice(i, i + 100)) tx.deleteEntity(id, String(b.rowKey));
          await this.table.submitTransaction(tx.actions);
        }
        this.d.log.info({ import: id, batches: rows.length }, job ? 'deleted the batches a finished figure import left' : 'deleted the batches of a figure import whose staging failed');
      } catch (err) {
        this.d.log.warn({ err, import: id }, 'could not delete the batches of a figure import whose staging failed');
      }
    }
  }

  /** Finished imports' records past FINISHED_KEPT_DAYS: their card shows the end already, and they hold who was replaced. */
  private async dropFinished(): Promise<void> {
    const before = new Date(this.nowMs - FINISHED_KEPT_DAYS * 86_400_000).toISOString();
    const old = await collect(
      this.table.listEntities({ queryOptions: { filter: odata`RowKey eq ${JOB} and byId eq '' and at lt ${before}`, select: ['PartitionKey'] } }),
    );
    for (const r of old) {
      await this.table.deleteEntity(String(r.partitionKey), JOB).catch((err: unknown) => this.d.log.warn({ err, import: r.partitionKey }, 'could not delete a finished figure import'));
    }
  }
}

function jobOf(id: string, e: Record<string, unknown>, etag: string): Job {
  return {
    id,
    total: Number(e.total ?? 0),
    written: Number(e.written ?? 0),
    replacedCount: Number(e.replacedCount ?? 0),
    replaced: fromJsonColumn<Replaced[]>(e.replaced, []),
    state: e.state === 'done' ? 'done' : 'running',
    by: { id: String(e.byId ?? ''), name: String(e.byName ?? '') },
    via: (e.via as Figure['via']) ?? 'csv',
    at: String(e.at ?? ''),
    batches: Number(e.batches ?? 0),
    done: Number(e.done ?? 0),
    holder: String(e.holder ?? ''),
    claimedUntil: Number(e.claimedUntil ?? 0),
    etag,
  };
}
