import type { Hold } from '../background-work.js';
import { AsyncResource } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { DurableJobs } from '../durable-jobs.js';
import type { PostStore } from '../conversations/posts.js';
import type { OutboundMessage, Outbox } from '../outbound/message.js';
import { fromJsonColumn, readEntity, toJsonColumn } from '../storage/entities.js';
import { storageCallsUntil } from '../storage/call-policy.js';
import { collect, deleteIfThere, isConflict, safeKey, type Tables } from '../storage/tables.js';
import { MY_DATA_FAILED_TEXT, myDataProgressCard } from './cards.js';
import { holdings, isSubject, type PersonalData, type Subject, type Tally } from './personal-data.js';

/*
 * `my data` as a durable background job: the file for someone with thousands of issues takes longer than Teams
 * waits for a turn, so the turn only writes this row and answers; the job reads every feature, saves the file
 * and sends the link 1:1. The pattern is `forget`'s (jobs.ts): the row is claimed by one instance until
 * `claimedUntil` (renewed while it works), every change is ETag-guarded, and the scheduled upkeep resumes a
 * job whose instance stopped. A renewal that finds the row changed (another instance took the lapsed job over,
 * or `forget` deleted it) means the job is not this instance's any more: it sends nothing, so only one
 * instance ever believes it holds the job.
 *
 * Table `PrivacyMyDataJobs`: PK 'job', RK the asker's user key (one `my data` per person at a time: pressing
 * again finds the one under way) → `run` (random per job: the link message's outbound key), the person's keys
 * and name (needed to resume), the claim, and when it was asked. The row goes once the link is queued; `forget`
 * deletes a person's row (MyDataJobsPersonalData).
 *
 * What the person sees: a card posted 1:1 at once through the outbound path ("Gathering your data… 0 of 14 parts",
 * post `privacy-my-data`/run), redrawn as parts are read — at most every `progressEveryMs`, as Teams throttles
 * edits — and replaced by the link at the end, or by what to do when a fault stopped the file. The card's post rows
 * (`Posts`, `PostsByChat`: they name the person's chat) go at the next upkeep once it shows that end.
 *
 * Shutdown (`stop`): the file's parts are read all at once, with no point between them to stop at, so a run making
 * the file stops waiting for it and lets its claim go; another instance makes the file afresh at its next upkeep.
 * Given up so (or the job taken over or forgotten meanwhile, as a renewal finds), the run's storage calls are refused
 * from then on (storageCallsUntil): the reads stop at their next page, and no file is saved that nobody would fetch.
 */

export const MY_DATA_TABLE = 'PrivacyMyDataJobs';
const PK = 'job';
/** The post of the person's progress card, by the job's run. */
export const MY_DATA_POST = 'privacy-my-data';
/** The link (or the fault) replaces every progress version of the card; the link replaces a fault shown before it. */
const FINAL_VERSION = 1_000_000;
const FAILED_VERSION = FINAL_VERSION - 1;

interface Row {
  run: string;
  ids: string;
  name: string;
  userKey: string;
  holder: string;
  claimedUntil: number;
  createdAt: string;
}

interface Job {
  key: string;
  run: string;
  subject: Subject;
  userKey: string;
  holder: string;
  claimedUntil: number;
  createdAt: string;
  etag: string;
}

export interface MyDataJobsDeps {
  /** Makes the person's file (PrivacyService.myData): every feature's part, saved as a download; `progress` hears each part read. */
  make(subject: Subject, userKey: string, progress: (done: number, total: number) => void): Promise<{ token: string; expiresAt: string }>;
  /** How many parts the file is read from (the card's "n of m" before any is read). */
  parts: () => number;
  /** Where the progress card is, once sent: the end is sent apart when the card never was; dropped once it shows its end. */
  posts: Pick<PostStore, 'state' | 'removeShown'>;
  /** The least time between two redraws of the card (default 5 s: Teams throttles edits of one message). */
  progressEveryMs?: number;
  /** The text of the message that carries the link to the file. */
  message(token: string, expiresAt: string): string;
  outbox: Outbox;
  clock: Clock;
  /** This instance, as a claim names it. */
  holderId: string;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** How long a claim holds without renewal (default 3 min); it is renewed every third of that while the file is made. */
  claimMs?: number;
  /** Runs `fn` every `ms` until the returned stop is called (default: an unref'd setInterval); tests fire it by hand. */
  every?: (ms: number, fn: () => unknown) => () => void;
}

const everyMs = (ms: number, fn: () => unknown): (() => void) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

export class MyDataJobs extends DurableJobs<MyDataJobsDeps> {
  // Not the job's key in the log: it is the person's.
  protected readonly failure = { msg: 'my data job stopped; the upkeep resumes it once its claim lapses' };

  static async open(tables: Tables, deps: MyDataJobsDeps): Promise<MyDataJobs> {
    return new MyDataJobs(await tables.table(MY_DATA_TABLE), deps);
  }

  private async get(key: string): Promise<Job | undefined> {
    const e = await readEntity<Row>(this.table, PK, key);
    return e ? jobOf(key, e, e.etag) : undefined;
  }

  /**
   * The turn's side, two storage calls at most however much the person left behind: a new job claimed by this
   * instance (`fresh`), or false when one for them is already under way (pressing again starts nothing).
   */
  async begin(subject: Subject, userKey: string): Promise<{ key: string; fresh: boolean }> {
    const key = safeKey(userKey);
    const now = this.nowMs;
    const row: Row = {
      run: randomBytes(8).toString('hex'),
      ids: toJsonColumn(subject.ids),
      name: subject.name ?? '',
      userKey,
      ...this.claims.columns(),
      createdAt: new Date(now).toISOString(),
    };
    try {
      await this.table.createEntity({ partitionKey: PK, rowKey: key, ...row });
    } catch (err) {
      if (!isConflict(err)) throw err;
      return { key, fresh: false };
    }
    try {
      // The card the person watches, posted at once (it shows before any part is read).
      await this.d.outbox.enqueue([
        {
          op: 'send',
          key: `${MY_DATA_POST}|${row.run}|start`,
          to: { kind: 'user', userKey },
          content: myDataProgressCard({ done: 0, total: this.d.parts() }),
          post: { kind: MY_DATA_POST, id: row.run, version: 0 },
        },
      ]);
    } catch (err) {
      // Nothing the person could see: asking again starts afresh rather than "already being prepared".
      await deleteIfThere(this.table, PK, key).catch(() => {});
      throw err;
    }
    return { key, fresh: true };
  }

  /** Takes the job for this instance: free, lapsed, or already ours (renewed). */
  private claim(key: string): Promise<Job | undefined> {
    return this.claims.claim(rowKeyOf(key), () => this.get(key));
  }

  /** Renews the claim if the row is as this instance last wrote it; changed (taken over, or deleted by `forget`), the job is not ours any more. */
  private renew(key: string, hold: Hold): Promise<void> {
    return this.claims.renew(rowKeyOf(key), hold, 'a my data job');
  }

  /** Makes the file and queues its link; the row goes then. Safe to run twice: the link's message key is the run's. */
  async run(key: string): Promise<void> {
    if (this.active.has(key)) return;
    this.active.add(key);
    let stop = () => {};
    try {
      const job = await this.claim(key);
      if (!job || (await this.stopsHere(rowKeyOf(key), job.etag))) return;
      const hold: Hold = { etag: job.etag, lost: false };
      // Given up (a shutdown, or the job taken over or forgotten), the file will never be linked: its reads stop.
      const abandon = new AbortController();
      // Renewed while the file is made, so the upkeep elsewhere does not start a second copy of a long one; one
      // renewal at a time, each on the ETag the one before got.
      let renewing = Promise.resolve();
      const renewOnce = () =>
        (renewing = renewing
          .then(() => this.renew(key, hold))
          .then(() => {
            if (hold.lost) abandon.abort();
          }));
      stop = (this.d.every ?? everyMs)(Math.max(1_000, this.claims.ms / 3), renewOnce);
      // The card is redrawn as parts are read, at most every progressEveryMs (from the card's first showing).
      const redrawMs = this.d.progressEveryMs ?? 5_000;
      let lastDrawn = this.nowMs;
      let drawing = Promise.resolve();
      // Only while the run waits for the file: reads it stopped waiting for (a shutdown) redraw nothing.
      let waiting = true;
      // Bound here: a redraw is this run's own storage work, not a read of the file that stops with it.
      const progress = AsyncResource.bind((done: number, total: number) => {
        if (!waiting || done >= total || this.nowMs - lastDrawn < redrawMs) return;
        lastDrawn = this.nowMs;
        drawing = drawing
          .then(() => this.d.outbox.enqueue([this.progressUpdate(job.run, done, total)]))
          .catch((err: unknown) => this.d.log.warn({ err }, 'could not redraw a my data progress card'));
      });
      const making = storageCallsUntil(abandon.signal, () => this.d.make(job.subject, job.userKey, progress)).then(
        (file) => ({ file }),
        (err: unknown) => ({ err }),
      );
      const made = await this.work.untilStop(making);
      waiting = false;
      stop();
      await drawing;
      if (!made) {
        // Shutdown while the file is made: the run stops waiting for it, and its reads stop (see the top of this file).
        abandon.abort();
        await renewing;
        if (!hold.lost) await this.claims.release(rowKeyOf(key), hold.etag);
        this.d.log.info({ run: job.run }, 'my data job let go for a shutdown while its file was made; another instance makes it');
        return;
      }
      // A fault is told; a run whose reads were refused as the job stopped being ours tells nothing (below).
      if ('err' in made && !hold.lost) {
        await this.failed(key, job, hold, made.err);
        return;
      }
      // Still ours, checked by a last ETag-guarded renewal: taken over elsewhere, that instance sends the link;
      // forgotten while the file was made (the row deleted), no link goes out (the file expires within the hour).
      await renewOnce();
      if (hold.lost || 'err' in made) {
        this.d.log.info({ run: job.run }, 'my data job taken over or forgotten while its file was made; its link is not sent from here');
        return;
      }
      const { file } = made;
      await this.d.outbox.enqueue([await this.end(job, this.d.message(file.token, file.expiresAt), FINAL_VERSION, `my-data|${job.run}`)]);
      await deleteIfThere(this.table, PK, key);
      this.d.log.info({ run: job.run }, 'personal data prepared for its owner');
    } finally {
      stop();
      this.active.delete(key);
    }
  }

  /**
   * A fault stopped the file (storage did not answer): the card says so and what to do, and the job ends, so asking
   * again starts afresh. Not ours any more (taken over, or forgotten), nothing is said. A fault telling it leaves
   * the job to the upkeep, which tries the file again once the claim lapses.
   */
  private async failed(key: string, job: Job, hold: Hold, err: unknown): Promise<void> {
    this.d.log.warn({ err, run: job.run }, 'my data file not made: the person is told to ask again');
    await this.renew(key, hold);
    if (hold.lost) return;
    await this.d.outbox.enqueue([await this.end(job, MY_DATA_FAILED_TEXT, FAILED_VERSION, `${MY_DATA_POST}|${job.run}|failed`)]);
    await deleteIfThere(this.table, PK, key);
  }

  /** The card's last redraw; sent 1:1 instead when the card was never posted (nor is on its way). */
  private async end(job: Job, content: string, version: number, key: string): Promise<OutboundMessage> {
    const card = await this.d.posts.state(MY_DATA_POST, job.run);
    return card?.post || card?.pendingKey
      ? { op: 'update', key, post: { kind: MY_DATA_POST, id: job.run }, version, content }
      : { op: 'send', key, to: { kind: 'user', userKey: job.userKey }, content };
  }

  private progressUpdate(run: string, done: number, total: number): OutboundMessage {
    return { op: 'update', key: `${MY_DATA_POST}|${run}|p${done}`, post: { kind: MY_DATA_POST, id: run }, version: done, content: myDataProgressCard({ done, total }) };
  }

  /**
   * Resumes every job whose claim lapsed (its instance stopped). Returns how many it took up. First drops the posts
   * of cards that show their end (the link or the fault), as `forget` does its cards': nothing redraws them again,
   * and each names the person's 1:1 chat.
   */
  async upkeep(): Promise<number> {
    await this.d.posts
      .removeShown(MY_DATA_POST, FAILED_VERSION)
      .catch((err: unknown) => this.d.log.warn({ err }, 'could not drop the posts of my data cards that show their end'));
    const rows = await collect(this.table.listEntities<{ claimedUntil: number }>({ queryOptions: { filter: `PartitionKey eq '${PK}'` } }));
    return this.resumeLapsed(rows, (r) => String(r.rowKey));
  }

  /** The rows of jobs about the person (their keys and name), for `forget`. */
  async about(subject: Subject): Promise<{ key: string; createdAt: string }[]> {
    const rows = await collect(this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: `PartitionKey eq '${PK}'` } }));
    return rows
      .filter((r) => isSubject(subject, String(r.userKey ?? '')) || fromJsonColumn<string[]>(r.ids, []).some((id) => isSubject(subject, id)))
      .map((r) => ({ key: String(r.rowKey), createdAt: String(r.createdAt ?? '') }));
  }

  async remove(key: string): Promise<void> {
    await deleteIfThere(this.table, PK, key);
  }
}

const rowKeyOf = (key: string) => ({ partitionKey: PK, rowKey: key });

function jobOf(key: string, e: Partial<Record<keyof Row, unknown>>, etag: string): Job {
  const name = String(e.name ?? '');
  const ids = fromJsonColumn<string[]>(e.ids, []);
  return {
    key,
    run: String(e.run),
    subject: name ? { ids, name } : { ids },
    userKey: String(e.userKey ?? ''),
    holder: String(e.holder ?? ''),
    claimedUntil: Number(e.claimedUntil ?? 0),
    createdAt: String(e.createdAt ?? ''),
    etag,
  };
}

/** A `my data` under way names the person until its link is sent: `forget` deletes it (no link is sent then). */
export class MyDataJobsPersonalData implements PersonalData {
  readonly feature = 'privacyMyData';

  constructor(private readonly jobs: Pick<MyDataJobs, 'about' | 'remove'>) {}

  private tally(count: number): Tally {
    return { holdings: holdings({ kind: 'privacy.myDataUnderWay', label: 'downloads of their data being prepared (deleted)', count, action: 'delete' }) };
  }

  async describe(subject: Subject): Promise<Tally> {
    return this.tally((await this.jobs.about(subject)).length);
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    // The job making this file is one of them: said, so the file does not look like it forgot to list it.
    return { downloadsBeingPrepared: (await this.jobs.about(subject)).map((j) => ({ askedAt: j.createdAt })) };
  }

  async forget(subject: Subject): Promise<Tally> {
    const found = await this.jobs.about(subject);
    for (const j of found) await this.jobs.remove(j.key);
    return this.tally(found.length);
  }
}
