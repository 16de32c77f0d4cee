import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { escapeText } from '../cards/template.js';
import type { Clock } from '../clock.js';
import { DurableJobs } from '../durable-jobs.js';
import type { OutboundMessage, Outbox } from '../outbound/message.js';
import { fromJsonColumn, readEntity, toJsonColumn, updateIfUnchanged } from '../storage/entities.js';
import { collect, deleteIfThere, isConflict, type Tables } from '../storage/tables.js';
import { forgetDoneCard, forgetProgressCard, forgetStoppedText } from './cards.js';
import type { Holding, Subject } from './personal-data.js';
import type { Pseudonyms } from './pseudonym.js';
import { type FeatureTally, ForgetStopped, type PersonalDataRegistry } from './registry.js';
import type { ForgetOutcome } from './service.js';
import { PostStore } from '../conversations/posts.js';

/*
 * `forget` as a durable background job, so the rollout team's confirm click answers inside Teams' turn
 * however much the person left behind. The pattern is the communication plan's (src/broadcast/runner.ts):
 * the work's state lives in Tables and every step re-reads it, the requester's card is redrawn through the
 * outbound path (`post` + `version`), and a scheduled upkeep picks up work whose instance stopped.
 *
 * Table `PrivacyForgetJobs`: PK 'job', RK the person's pseudonym id (one forget of a person at a time: a second
 * confirm finds the one under way) → `run` (random per job: its outbound keys and its card's post id), the
 * person's keys and name (needed to resume; gone with the row once the lead is told), the lead to tell
 * (`notify`), who the log names (`by`, only when it is not that lead: their pseudonym when they forget
 * themselves), how the lead is told (`teller`), the parts done and what they did, and the claim: the instance
 * running it and until when (renewed after each part; once it lapses, the upkeep resumes the job elsewhere).
 * Every change is ETag-guarded. A handful of rows at most: the upkeep reads the one partition. The rows and
 * the lead's card posts are personal data of the lead too (jobs-personal-data.ts).
 */

export const JOB_TABLE = 'PrivacyForgetJobs';
export const JOB_PARTITION = 'job';
const PK = JOB_PARTITION;
/** The post (src/conversations/posts.ts) of the lead's card a background job redraws. */
export const FORGET_POST = 'privacy-forget';
/** The message key of the progress card a click that named no card sends the lead 1:1 (src/teams/privacy.ts). */
export const startKeyOf = (run: string): string => `${FORGET_POST}|${run}|start`;
/** The end replaces every progress version of the card. */
const FINAL_VERSION = 1_000_000;

/**
 * How the lead hears the end: `turn` — the confirm click is still waiting in this instance and answers with it;
 * `card` — the click answered with the progress card, which is redrawn and ends as the result; `message` — the
 * click's turn is gone (the instance stopped before it answered): the result goes to the lead 1:1.
 */
export type Teller = 'turn' | 'card' | 'message';

type Finished = Exclude<ForgetOutcome, { kind: 'refused' }>;
/** A finished outcome as the row keeps it for the waiting turn (the fault's cause is logged, not stored). */
export type StoredOutcome = Omit<Extract<Finished, { kind: 'stopped' }>, 'cause'> | Extract<Finished, { kind: 'done' }>;

export interface ForgetJob {
  key: string;
  run: string;
  subject: Subject;
  by: string;
  notify: string;
  teller: Teller;
  /** Parts done (they run in the registry's order), of `total`. */
  next: number;
  total: number;
  done: FeatureTally[];
  holder: string;
  claimedUntil: number;
  createdAt: string;
  status: 'running' | 'finished';
  outcome?: StoredOutcome;
  etag: string;
}

interface JobRow {
  run: string;
  ids: string;
  name: string;
  /** Empty when the log names the lead to tell (`notify`): the row names them once. */
  by: string;
  notify: string;
  teller: string;
  next: number;
  total: number;
  done: string;
  holder: string;
  claimedUntil: number;
  createdAt: string;
  status: string;
  outcome: string;
}

export interface ForgetJobsDeps {
  registry: PersonalDataRegistry;
  pseudonyms: Pick<Pseudonyms, 'of'>;
  /** The end of a forget every part of which finished: the log record and the notes (PrivacyService.conclude). */
  conclude(subject: Subject, by: string, done: readonly FeatureTally[], once: { at: Date; id: string }): Promise<Extract<ForgetOutcome, { kind: 'done' }>>;
  outbox: Outbox;
  clock: Clock;
  /** This instance, as a claim names it. */
  holderId: string;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** How long a claim holds without renewal (default 3 min): longer than any one part takes. */
  claimMs?: number;
  /** The lead's card is redrawn at most this often (real time, default 5 s): parts that finish in a burst give one redraw. */
  progressEveryMs?: number;
}

const TIMEOUT = Symbol('timeout');

const STOPPED = 'forget job stopped; the upkeep resumes it once its claim lapses';

export class ForgetJobs extends DurableJobs<ForgetJobsDeps> {
  protected readonly failure = { msg: STOPPED, field: 'job' };
  /** When this instance last redrew each run's card (performance.now()). */
  private readonly lastProgress = new Map<string, number>();

  private constructor(
    table: TableClient,
    /** The lead's cards' posts, dropped once they show the end. */
    private readonly posts: PostStore,
    d: ForgetJobsDeps,
  ) {
    super(table, d);
  }

  static async open(tables: Tables, deps: ForgetJobsDeps): Promise<ForgetJobs> {
    // Its posts are only read and removed, so nothing of anyone's card is kept in it: no forget to be told of.
    return new ForgetJobs(await tables.table(JOB_TABLE), await PostStore.open(tables), deps);
  }

  // ---- the row -----------------------------------------------------------------------------------------

  async get(key: string): Promise<ForgetJob | undefined> {
    const e = await readEntity<JobRow>(this.table, PK, key);
    return e ? jobOf(key, e, e.etag) : undefined;
  }

  /** Writes `changes` if the row is as `job` read it; the job as written, or undefined when someone wrote first. */
  private async change(job: ForgetJob, changes: Partial<Omit<ForgetJob, 'key' | 'etag'>>): Promise<ForgetJob | undefined> {
    const next = { ...job, ...changes };
    const row: Record<string, unknown> = { partitionKey: PK, rowKey: job.key };
    for (const [k, v] of Object.entries(changes)) {
      if (k === 'subject') {
        row.ids = toJsonColumn(next.subject.ids);
        row.name = next.subject.name ?? '';
      } else if (k === 'by' || k === 'notify') Object.assign(row, whoColumns(next));
      else if (k === 'done' || k === 'outcome') row[k] = toJsonColumn(v ?? null);
      else row[k] = v;
    }
    const etag = await updateIfUnchanged(this.table, row as { partitionKey: string; rowKey: string }, 'Merge', job.etag);
    return etag === undefined ? undefined : { ...next, etag };
  }

  private async remove(key: string): Promise<void> {
    await deleteIfThere(this.table, PK, key);
  }

  // ---- the turn's side ---------------------------------------------------------------------------------

  /**
   * The job for this person: a new one, claimed by this instance and told by the waiting turn, or the one
   * already under way (`fresh: false`: a second confirm starts nothing).
   */
  async begin(subject: Subject, who: { by: string; notify: string }): Promise<{ job: ForgetJob; fresh: boolean }> {
    const key = this.d.pseudonyms.of(subject).id;
    const now = this.nowMs;
    const row: JobRow = {
      run: randomBytes(8).toString('hex'),
      ids: toJsonColumn(subject.ids),
      name: subject.name ?? '',
      ...whoColumns(who),
      teller: 'turn',
      next: 0,
      total: this.d.registry.partCount,
      done: toJsonColumn([]),
      ...this.claims.columns(),
      createdAt: new Date(now).toISOString(),
      status: 'running',
      outcome: '',
    };
    try {
      const created = await this.table.createEntity({ partitionKey: PK, rowKey: key, ...row });
      // The job is what was just written: its ETag guards the next change, no need to read it back.
      if (created.etag) return { job: jobOf(key, row, created.etag), fresh: true };
      const job = await this.get(key);
      if (job) return { job, fresh: true };
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    const existing = await this.get(key);
    if (!existing) throw new Error('the forget job vanished as it was made; press Forget again');
    return { job: existing, fresh: false };
  }

  /**
   * Runs the job in the background and waits up to `inlineMs` for it: its outcome when it finished by then
   * (the turn tells the lead, then calls `told`), else 'running' (the turn hands it over with `handOver`).
   */
  async runWithin(key: string, inlineMs: number): Promise<Finished | 'running'> {
    const run = this.kick(() => this.run(key), { what: 'forget' }, STOPPED);
    if (inlineMs <= 0) return 'running';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMEOUT>((r) => {
      timer = setTimeout(() => r(TIMEOUT), inlineMs);
      timer.unref();
    });
    const first = await Promise.race([run, timeout]);
    clearTimeout(timer);
    return first === TIMEOUT || first === undefined ? 'running' : first;
  }

  /**
   * The waiting turn gives up waiting: from now on the job redraws the lead's card (whose post the turn saved
   * first). If the job finished meanwhile, its outcome instead: the turn answers with it after all.
   */
  async handOver(key: string): Promise<{ kind: 'running'; job: ForgetJob } | { kind: 'finished'; outcome: StoredOutcome } | { kind: 'gone' }> {
    for (;;) {
      const job = await this.get(key);
      if (!job) return { kind: 'gone' };
      if (job.status === 'finished' && job.outcome) return { kind: 'finished', outcome: job.outcome };
      if (job.teller !== 'turn') return { kind: 'running', job };
      const handed = await this.change(job, { teller: 'card' });
      if (handed) return { kind: 'running', job: handed };
    }
  }

  /**
   * The turn told the lead the outcome: the row (the last of the person's keys) goes, and so does the post of
   * the card the turn saved to hand the job over (its answer shows the end: the card is never redrawn). When the
   * turn had sent the progress card 1:1 instead (`sentApart`: the click named no card), that card is redrawn as
   * the end, after its send lands; the upkeep then drops its post as it does every card showing its end.
   */
  async told(key: string, run: string, sentApart?: StoredOutcome): Promise<void> {
    await this.remove(key);
    if (sentApart) await this.d.outbox.enqueue([this.endMessage({ run, teller: 'card', notify: '' }, sentApart)]);
    else await this.dropCard(run);
  }

  /**
   * Drops the post of a run's card that will not be redrawn (the end went elsewhere): where it is, the lead's
   * chat, is needed no more. Tidying: trouble here does not undo the end, and forgetting the lead drops it too.
   */
  async dropCard(run: string): Promise<void> {
    await this.posts.remove(FORGET_POST, run).catch((err: unknown) => this.d.log.warn({ err, run }, "could not drop the post of a Forget card"));
  }

  // ---- the work ----------------------------------------------------------------------------------------

  /** Takes the job for this instance: free, lapsed, or already ours (renewed). Undefined when it is not ours to run. */
  private async claim(key: string): Promise<ForgetJob | undefined> {
    if (this.active.has(key)) return undefined;
    return this.claims.claim({ partitionKey: PK, rowKey: key }, () => this.get(key), {
      runnable: (job) => job.status === 'running',
      // A lapsed claim means the instance that ran it stopped, and with it the turn that waited for it.
      take: (job, claim, lapsed) => this.change(job, { ...claim, teller: lapsed && job.teller === 'turn' ? 'message' : job.teller }),
    });
  }

  /**
   * Records a part done and renews the claim. On a conflict it re-reads: a turn handing the job to its card
   * changed only who tells, so it goes on; another instance having taken the job over means this run stops.
   */
  private async checkpoint(job: ForgetJob, changes: Pick<ForgetJob, 'next' | 'done'>): Promise<ForgetJob | undefined> {
    for (;;) {
      const written = await this.change(job, { ...changes, claimedUntil: this.claims.until() });
      if (written) return written;
      const fresh = await this.get(job.key);
      if (!fresh || fresh.run !== job.run || fresh.holder !== this.d.holderId || fresh.status !== 'running' || fresh.next !== job.next) return undefined;
      job = fresh;
    }
  }

  /**
   * Runs the job's remaining parts in order, recording each, then its end. Returns the outcome, or undefined
   * when the job is not this instance's to run (or another instance took it over part-way).
   */
  async run(key: string): Promise<Finished | undefined> {
    let job = await this.claim(key);
    if (!job) return undefined;
    this.active.add(key);
    try {
      const pseudonym = this.d.pseudonyms.of(job.subject);
      const name = job.subject.name ?? pseudonym.name;
      while (job.next < job.total) {
        // Shutdown: no part is started after the one in flight.
        if (await this.stopsHere({ partitionKey: PK, rowKey: key }, job.etag)) return undefined;
        let part: FeatureTally;
        try {
          part = await this.d.registry.forgetPart(job.next, job.subject, pseudonym);
        } catch (err) {
          const stoppedAt = err instanceof ForgetStopped ? err.feature : `part ${job.next + 1}`;
          const cause = err instanceof ForgetStopped ? err.cause : err;
          return await this.finish(job, { kind: 'stopped', name, pseudonym, holdings: holdingsOf(job.done), stoppedAt, cause });
        }
        const next = await this.checkpoint(job, { next: job.next + 1, done: [...job.done, part] });
        if (!next) return undefined;
        job = next;
        if (job.teller === 'card' && this.progressDue(job.run)) await this.d.outbox.enqueue([this.progressUpdate(job, name)]);
      }
      // Who asked may have been forgotten meanwhile (their name taken off the row): the log and the end use the row as it is now.
      const now = await this.get(key);
      if (!now || now.run !== job.run || now.holder !== this.d.holderId || now.status !== 'running') return undefined;
      job = now;
      const once = { at: new Date(job.createdAt), id: job.run };
      let outcome = await this.d.conclude(job.subject, job.by, job.done, once);
      // The lead forgotten between the read above and the record (their forget finds no record yet): the record
      // is amended to the name the row gives them now. Their forget changes this row before it reads the log
      // (src/app.ts registers jobs before the log), so one side or the other always sees the other's write.
      const after = await this.get(key);
      if (after && after.run === job.run && after.by !== job.by) {
        job = after;
        outcome = await this.d.conclude(job.subject, job.by, job.done, once);
      }
      return await this.finish(job, outcome);
    } finally {
      this.active.delete(key);
      if (job) this.lastProgress.delete(job.run);
    }
  }

  private progressDue(run: string): boolean {
    const last = this.lastProgress.get(run);
    if (last !== undefined && performance.now() - last < (this.d.progressEveryMs ?? 5_000)) return false;
    this.lastProgress.set(run, performance.now());
    return true;
  }

  /**
   * The end: a waiting turn finds the outcome on the row (without the person's keys) and tells the lead;
   * otherwise the lead's card is redrawn as the result (or the result goes 1:1) and the row goes.
   */
  private async finish(job: ForgetJob, outcome: Finished): Promise<Finished | undefined> {
    const counts = Object.fromEntries(outcome.holdings.map((h) => [h.kind, h.count]));
    // Counts and the pseudonym only: the log names no one.
    if (outcome.kind === 'stopped') {
      this.d.log.error({ err: outcome.cause, pseudonym: outcome.pseudonym.name, stoppedAt: outcome.stoppedAt, counts }, 'forget stopped part-way');
    } else this.d.log.info({ pseudonym: outcome.pseudonym.name, counts }, 'person forgotten');
    for (;;) {
      if (job.teller === 'turn') {
        const stored: StoredOutcome = outcome.kind === 'stopped' ? (({ cause: _cause, ...rest }) => rest)(outcome) : outcome;
        const subject = { ids: [], ...(job.subject.name ? { name: job.subject.name } : {}) };
        const written = await this.change(job, { status: 'finished', outcome: stored, subject, claimedUntil: this.claims.until() });
        if (written) return outcome;
      } else {
        // ETag-guarded before telling: a lead forgotten since this run last read the row (a part that stopped is
        // reported from the row as it was before that part) is seen here, by a conflict and the re-read below.
        const current = await this.change(job, { claimedUntil: this.claims.until() });
        if (current) {
          await this.tell(current, outcome);
          await this.remove(job.key);
          return outcome;
        }
      }
      const fresh = await this.get(job.key);
      if (!fresh || fresh.run !== job.run || fresh.holder !== this.d.holderId) return undefined;
      job = fresh;
    }
  }

  /** The result to the lead: in place of their card, or 1:1. Keyed by the run: enqueued twice, shown once. */
  private async tell(job: ForgetJob, outcome: StoredOutcome): Promise<void> {
    // The turn that stopped had sent its progress card 1:1 (queued or shown): that card ends as the result, as one
    // handed over does, rather than stay "Forgetting…" beside a second message. Its update waits for the send.
    if (job.teller === 'message' && job.notify && (await this.sentApart(job.run))) {
      await this.d.outbox.enqueue([this.endMessage({ ...job, teller: 'card' }, outcome)]);
      return;
    }
    // The end goes 1:1: a card the turn saved before it stopped is never redrawn, so its post goes now.
    if (job.teller === 'message') await this.dropCard(job.run);
    // The lead who asked was forgotten meanwhile: nothing is sent to them again.
    if (job.teller === 'message' && !job.notify) return;
    await this.d.outbox.enqueue([this.endMessage(job, outcome)]);
  }

  /** Whether the run's card is the progress card sent 1:1 (its send queued, or landed), not one a click came from. */
  private async sentApart(run: string): Promise<boolean> {
    const s = await this.posts.state(FORGET_POST, run);
    return s !== undefined && (s.pendingKey === startKeyOf(run) || s.sentKey === startKeyOf(run));
  }

  private endMessage(job: Pick<ForgetJob, 'run' | 'teller' | 'notify'>, outcome: StoredOutcome): OutboundMessage {
    const content = outcome.kind === 'done' ? forgetDoneCard(outcome) : escapeText(forgetStoppedText(outcome));
    const key = `${FORGET_POST}|${job.run}|end`;
    return job.teller === 'card'
      ? { op: 'update', key, post: { kind: FORGET_POST, id: job.run }, version: FINAL_VERSION, content }
      : { op: 'send', key, to: { kind: 'user', userKey: job.notify }, content };
  }

  private progressUpdate(job: ForgetJob, name: string): OutboundMessage {
    return {
      op: 'update',
      key: `${FORGET_POST}|${job.run}|p${job.next}`,
      post: { kind: FORGET_POST, id: job.run },
      version: job.next,
      content: forgetProgressCard({ name, done: job.next, total: job.total, holdings: holdingsOf(job.done) }),
    };
  }

  // ---- the scheduled upkeep ----------------------------------------------------------------------------

  /**
   * Resumes every job whose claim lapsed (its instance stopped: a crash, a restart, a deploy), and tells the
   * lead 1:1 the outcome of a job that finished for a turn that never answered. Returns how many it took up.
   * Also drops the post of every lead's card that shows its end: where it is (their chat) is needed no more.
   */
  async upkeep(): Promise<number> {
    // Tidying only: trouble with the cards' table must not keep a stopped forget from resuming.
    await this.dropShownCards().catch((err: unknown) => this.d.log.warn({ err }, 'could not drop the posts of Forget cards that show their end'));
    const rows = await collect(this.table.listEntities<{ claimedUntil: number; status: string }>({ queryOptions: { filter: `PartitionKey eq '${PK}'` } }));
    let taken = 0;
    for (const r of rows) {
      if (!this.claims.lapsed(r.claimedUntil)) continue;
      const key = String(r.rowKey);
      if (r.status === 'finished') {
        const job = await this.get(key);
        if (!job?.outcome || !this.claims.lapsed(job.claimedUntil)) continue;
        // Written for a turn that waited for it, which is gone: it would have said so by now.
        if (!(await this.change(job, { claimedUntil: this.claims.until() }))) continue;
        await this.tell({ ...job, teller: job.teller === 'turn' ? 'message' : job.teller }, job.outcome);
        await this.remove(key);
        taken++;
        continue;
      }
      this.d.log.warn({ job: key }, 'resuming a forget whose instance stopped');
      this.start(key);
      taken++;
    }
    return taken;
  }

  private dropShownCards(): Promise<void> {
    return this.posts.removeShown(FORGET_POST, FINAL_VERSION);
  }

  /** The progress card for a job under way (the turn's answer when it hands the job over). */
  progressCard(job: ForgetJob): ReturnType<typeof forgetProgressCard> {
    return forgetProgressCard({ name: job.subject.name ?? this.d.pseudonyms.of(job.subject).name, done: job.next, total: job.total, holdings: holdingsOf(job.done) });
  }
}

const holdingsOf = (done: readonly FeatureTally[]): Holding[] => done.flatMap((f) => f.tally.holdings);

/** The asker's columns: the lead to tell, and who the log names only when that is someone else (so the row names the lead once). */
function whoColumns(who: { by: string; notify: string }): Pick<JobRow, 'by' | 'notify'> {
  return { by: who.by === who.notify ? '' : who.by, notify: who.notify };
}

/** A job as its row holds it. */
function jobOf(key: string, e: Partial<Record<keyof JobRow, unknown>>, etag: string): ForgetJob {
  const name = String(e.name ?? '');
  const ids = fromJsonColumn<string[]>(e.ids, []);
  const notify = String(e.notify ?? '');
  return {
    key,
    run: String(e.run),
    subject: name ? { ids, name } : { ids },
    by: String(e.by || notify),
    notify,
    teller: (['turn', 'card', 'message'].includes(String(e.teller)) ? e.teller : 'message') as Teller,
    next: Number(e.next ?? 0),
    total: Number(e.total ?? 0),
    done: fromJsonColumn<FeatureTally[]>(e.done, []),
    holder: String(e.holder ?? ''),
    claimedUntil: Number(e.claimedUntil ?? 0),
    createdAt: String(e.createdAt ?? ''),
    status: e.status === 'finished' ? 'finished' : 'running',
    outcome: fromJsonColumn<StoredOutcome | undefined>(e.outcome, undefined),
    etag,
  };
}
