import type { Clock } from '../clock.js';
import type { Post, PostStore } from '../conversations/posts.js';
import type { OutboundMessage, Outbox } from '../outbound/message.js';
import { readEntity, updateIfUnchanged } from '../storage/entities.js';
import { dayOf } from '../storage/day-partitions.js';
import { DurableJobs } from '../durable-jobs.js';
import { deleteIfThere, isConflict, isNotFound, safeKey, type Tables } from '../storage/tables.js';
import type { AskedQuestion } from './questions.js';
import { curatedFormCard } from './cards.js';
import { type CuratedAnswer, TELL_WITHIN_DAYS } from './curated.js';
import type { Recipient } from './curated-answers.js';
import { people } from '../text/count.js';

/*
 * A champion's answer reaching everyone who asked the same in the last 30 days, past the rows the turn reads. The
 * turn reads the newest 2,000 gap and 2,000 answered questions, tells those askers at once and, when the month holds
 * more, writes this job's row; the job then walks the month's questions a day partition and a page at a time, newest
 * day first, claiming each asker of the same question (FaqCuratedNotices: once per answer and person, across
 * instances; those the turn told are found claimed and skipped) and queueing their 1:1s (key per answer and person:
 * the outbox sends each once). The pattern is `my data`'s (src/privacy/my-data-jobs.ts): the row is claimed by one
 * instance until `claimedUntil`, every write is ETag-guarded, and the scheduled upkeep resumes a job whose instance
 * stopped.
 *
 * Table `FaqCuratedTell`: PK 'job', RK the curated answer's id → the window's start (`since`), the cursor (`day`, and
 * `token` within it), `started` (set before a page is worked on: found set on a resume, the page's claims are named
 * again under the same keys, so one claimed but never queued is sent, and none twice), how many were reached
 * (`reached`, the turn's count included), and the claim: nobody's name or key (the champion's card is found by
 * its post, which `forget` deletes with their chat's other cards). Once the last page is done and the champion's card
 * shows the count, the row is kept, marked `done` with that total (`finishedAt`), for the rest of the month it walked
 * (`FINISHED_KEPT_MS`, then the upkeep deletes it): a later press of the same Save (not a repeat, its first turn never
 * having recorded the answer as sent) finds it there, shows the total on the card it returns, and begins nothing
 * (created afresh, the job would walk the month again and leave that card saying more are being found, its count's
 * redraw already sent once under its key).
 *
 * An edit's corrections go the same way when more were sent the earlier text than its turn reads (one page of
 * `FaqCuratedNotices`): row `<answer id>.v<version>` holds the cursor in that partition (`token`) and how many were
 * sent it (`reached`); each page's corrections are queued under the keys the turn uses (per answer, version and
 * person: the outbox sends each once, so a page done again after its instance stopped sends nobody anything twice).
 * A newer edit ends it (its own job sends the newest text to everyone). The champion is sent a card (post
 * `faq-curated-tell`/`<answer id>.v<version>`, where they follow the count as for a new answer's askers: their 1:1
 * chat, else the thread pressed in) saying the correction is being sent, redrawn as pages are done and, at the end,
 * "Correction sent to N people" — or, ended by a newer edit or a retire, how many got it before.
 *
 * The champion's card (post `faq-curated-tell`/answer id) says "N reached so far; more are being found", redrawn as
 * pages are done (at most every `progressEveryMs`), and the count when done. It is the card the Save was pressed on
 * when that is in their 1:1 chat; pressed on a card others see (the triage channel's gap card, which the `faq-gap` post
 * redraws with its own lines), a card sent to them 1:1 instead, and the card pressed on is left to its post.
 */

export const CURATED_TELL_TABLE = 'FaqCuratedTell';
export const CURATED_TELL_POST = 'faq-curated-tell';
const PK = 'job';
/** The count replaces every progress version of the card. */
const FINAL_VERSION = 1_000_000_000;
/** Records of who was told read per page of an edit's corrections (the most one storage call gives). */
const CORRECTION_ROWS = 1000;
/**
 * How long the claim a turn creates a job with holds (a claim shorter than the job's own is kept): its `start` comes
 * within the same turn, and its first claim holds the job as long as a running one. A turn that stopped before
 * starting it (killed, or Teams gave up on it) leaves a job a Save retried elsewhere takes up this soon, not once a
 * running job's claim would lapse.
 */
const BEGIN_CLAIM_MS = 30_000;

/** Questions read per page: one storage call, a few seconds of claims at most. */
const PAGE_ROWS = 500;
/** How long a finished job's row (its total) is kept for a later press: the month its walk covered. */
const FINISHED_KEPT_MS = TELL_WITHIN_DAYS * 86_400_000;

interface Row {
  since: string;
  day: string;
  token: string;
  started: boolean;
  reached: number;
  pages: number;
  /** The champion's card is in a channel thread others read (they have no 1:1 chat with the bot): "the answer", not "your". */
  shared: boolean;
  /** Every page done and the count shown: `reached` is the total, kept until `finishedAt` + `FINISHED_KEPT_MS`. */
  done: boolean;
  finishedAt: number;
  holder: string;
  claimedUntil: number;
}

/** The row as read, with the ETag its next write is guarded by. */
type Job = Row & { etag: string };

/**
 * Where the champion follows the count: `post`, the card the Save was pressed on in their 1:1 chat; `userKey`, a card
 * sent to them 1:1 (the Save was pressed where others see the card), or, when they have no 1:1 chat with the bot, a
 * card posted in `thread` (the thread of the channel card pressed on).
 */
export type TellCard = { post: Post } | { userKey: string; thread?: string };

/** Where the count is shown: in the champion's 1:1 chat, or in a channel thread others read too. */
export type TellWhere = 'chat' | 'thread';

export interface CuratedTellDeps {
  /** The answer as it is now (a retired one is sent to nobody more). */
  answer(id: string): Promise<CuratedAnswer | undefined>;
  /** One page of a day's questions asked since `since` (QuestionStore.dayPage). */
  page(day: string, since: string, next: string | undefined, size: number): Promise<{ questions: AskedQuestion[]; next?: string }>;
  /**
   * Of a page, the askers of the same question, claimed (CuratedAnswers.askersIn, given ForgottenKeys: an asker
   * forgotten since the page was read is neither named nor left claimed).
   */
  askersIn(answer: CuratedAnswer, page: readonly AskedQuestion[], again: boolean): Promise<{ named: Recipient[]; fresh: number }>;
  /** The 1:1s that send `answer` to `tell` (as the turn sends them: the same keys); `edited`, its corrections. */
  messages(answer: CuratedAnswer, tell: readonly Recipient[], opts?: { edited?: boolean }): OutboundMessage[];
  /**
   * Of one page of the records of who was told of `answer` (from `next`), those sent an earlier text, and where the
   * next page starts (CuratedAnswers.correctionsOf).
   */
  corrections(answer: CuratedAnswer, size: number, next: string): Promise<{ tell: Recipient[]; correctFrom?: string }>;
  posts: Pick<PostStore, 'save' | 'state' | 'removeShown'>;
  /** Whether the person has a 1:1 chat with the bot (a card sent there would otherwise never arrive). */
  hasChat(userKey: string): Promise<boolean>;
  outbox: Outbox;
  clock: Clock;
  holderId: string;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** How long a claim holds (default 3 min); every page's write renews it. */
  claimMs?: number;
  /** The least time between two redraws of the champion's card (default 5 s: Teams throttles edits of a message). */
  progressEveryMs?: number;
  /** Questions read per page (default 500). */
  pageRows?: number;
}

/** The champion's card while askers are still being found; `where` the count is shown when done. */
export function tellProgressNote(reached: number, where: TellWhere = 'chat'): string {
  const shown = where === 'thread' ? 'in this thread' : 'in our private chat';
  return `Saved. ${people(reached)} who asked ${reached === 1 ? 'gets' : 'get'} ${whose(where)} answer in a private chat so far; more who asked are being found, and I show how many ${shown} when done. The bot now answers this question with it.`;
}

/** What the turn that began (or found) the job shows on the champion's card: the count so far, or a finished job's total. */
export function tellNote(job: { where: TellWhere; finished?: number }, told: number): string {
  return job.finished === undefined ? tellProgressNote(told, job.where) : doneNote(job.finished, job.where);
}

function doneNote(reached: number, where: TellWhere): string {
  return `Saved. ${people(reached)} who asked in the last ${TELL_WITHIN_DAYS} days ${reached === 1 ? 'gets' : 'get'} ${whose(where)} answer in a private chat; the bot now answers this question with it.`;
}

/**
 * The champion's card while an edit's corrections go out (`sending`), and once they all have (`sent`) or a newer edit
 * or a retire ended them: how many people were sent the correction.
 */
export function correctionNote(reached: number, where: TellWhere, state: 'sending' | 'sent' | 'edited' | 'retired'): string {
  const n = `${people(reached)} who ${reached === 1 ? 'was' : 'were'} sent the earlier answer`;
  const shown = where === 'thread' ? 'in this thread' : 'here';
  switch (state) {
    case 'sending':
      return `Sending the correction: ${n} ${reached === 1 ? 'has' : 'have'} it so far; the others sent the earlier answer are being found, and I say how many ${shown} when done.`;
    case 'sent':
      return `Correction sent to ${n}: each gets ${whose(where)} new answer in a private chat.`;
    case 'edited':
      return `The answer was edited again before this correction reached everyone: ${n} got it; the newer text goes to everyone sent an earlier one.`;
    case 'retired':
      return `The answer was retired before this correction reached everyone: ${n} got it; nobody more is sent it.`;
  }
}

/** Others read a card in a channel thread: the answer is not "yours" to them. */
function whose(where: TellWhere): string {
  return where === 'thread' ? 'the' : 'your';
}

export class CuratedTellJobs extends DurableJobs<CuratedTellDeps> {
  protected readonly failure = { msg: 'curated answer: finding more askers stopped; the upkeep resumes it', field: 'curated' };

  static async open(tables: Tables, deps: CuratedTellDeps): Promise<CuratedTellJobs> {
    return new CuratedTellJobs(await tables.table(CURATED_TELL_TABLE), deps);
  }

  /**
   * The turn's side (two storage calls): the job for `answer`, claimed by this instance briefly (`BEGIN_CLAIM_MS`), its
   * count starting at the `told` the turn sent it to; `card` is where the champion follows the count (see `TellCard`;
   * none: nowhere). Where the count is shown, and whether the job was `begun` now: not when one is there already (the
   * Save pressed again, or retried by Teams after its first turn stopped part-way): nothing new is written, and its
   * count goes on (the card is still followed: see below). Either way the turn `start`s it: the job's claim decides
   * whether this run does anything. Found finished (a later press whose first turn never recorded the answer as
   * sent): its total (`finished`), for the card the press returns; nothing is followed, nothing more is sent (a card
   * sent 1:1 is queued again under its key with the total: the outbox sends it once, so only one never sent goes).
   */
  async begin(answer: CuratedAnswer, told: number, card?: TellCard): Promise<{ where: TellWhere; begun: boolean; finished?: number }> {
    const now = this.nowMs;
    const thread = await this.threadFor(card);
    const where: TellWhere = thread ? 'thread' : 'chat';
    const since = new Date(now - TELL_WITHIN_DAYS * 86_400_000).toISOString();
    const made = await this.create(answer.id, { since, day: dayOf(new Date(now)), token: '', reached: told, shared: where === 'thread' });
    if (made.finished !== undefined) {
      // Its post, dropped once it showed the count, is not saved again: nothing will redraw it.
      if (card && !('post' in card)) await this.show(answer.id, card, thread, tellCard(answer, doneNote(made.finished, where)));
      return { where, ...made };
    }
    // Begun already: the card is followed again all the same (the Save retried by Teams after a fault recording or
    // queueing it; a card queued twice goes once, under its key).
    if (card && 'post' in card) await this.d.posts.save(CURATED_TELL_POST, answer.id, card.post);
    else if (card) await this.show(answer.id, card, thread, tellCard(answer, tellProgressNote(told, where)));
    return { where, begun: made.begun };
  }

  /**
   * Creates job `id`'s row, claimed by this instance for a turn's time (`BEGIN_CLAIM_MS`); `begun`: created now. Not
   * when the row is there already, and `finished` is the total of one found done.
   */
  private async create(id: string, start: Pick<Row, 'since' | 'day' | 'token' | 'reached' | 'shared'>): Promise<{ begun: boolean; finished?: number }> {
    const row: Row = { ...start, started: false, pages: 0, done: false, finishedAt: 0, ...this.claims.columns(Math.min(BEGIN_CLAIM_MS, this.claims.ms)) };
    try {
      await this.table.createEntity({ partitionKey: PK, rowKey: safeKey(id), ...row });
      return { begun: true };
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    const found = await this.get(id);
    return found?.done ? { begun: false, finished: found.reached } : { begun: false };
  }

  /** No 1:1 chat to send the champion's card to: the thread of the card pressed on, where the champion is. */
  private async threadFor(card: TellCard | undefined): Promise<string | undefined> {
    return card && 'userKey' in card && card.thread && !(await this.d.hasChat(card.userKey)) ? card.thread : undefined;
  }

  /**
   * The champion's card for the job whose post is `postId`, sent where they follow its count (`threadFor`). Its post
   * is recorded when it lands (updates queued meanwhile wait for it); the job's row still names nobody.
   */
  private async show(postId: string, card: { userKey: string }, thread: string | undefined, content: OutboundMessage['content']): Promise<void> {
    await this.d.outbox.enqueue([
      {
        op: 'send',
        key: `${CURATED_TELL_POST}|${postId}`,
        to: thread ? { kind: 'conversation', conversationId: thread } : { kind: 'user', userKey: card.userKey },
        content,
        post: { kind: CURATED_TELL_POST, id: postId, version: 0 },
      },
    ]);
  }

  /**
   * The edit's side: the job that sends `answer`'s corrections to those sent an earlier text past the first page its
   * turn corrected (`from`, where the rest are read from), claimed by this instance; `told`, how many the turn sent.
   * `card`: the champion, sent a card that ends with the count (`correctionNote`; see `TellCard`). The job's key to
   * `start`, and where the count is shown. One under way already (the Save pressed again, or retried by Teams after a
   * fault queueing the card) goes on, nothing new starts; the card is queued again under its key (the outbox sends it
   * once), so a card whose queueing failed is sent after all; one found done (the same edit saved on another
   * instance, whose job ended before this turn got here) starts nothing either, its card queued with the count.
   */
  async beginCorrections(
    answer: CuratedAnswer,
    told: number,
    from: string,
    card?: Extract<TellCard, { userKey: string }>,
  ): Promise<{ key: string; where: TellWhere }> {
    const key = correctionKey(answer.id, answer.version);
    const thread = await this.threadFor(card);
    const where: TellWhere = thread ? 'thread' : 'chat';
    const { finished } = await this.create(key, { since: '', day: '', token: from, reached: told, shared: where === 'thread' });
    const note = finished === undefined ? correctionNote(told, where, 'sending') : correctionNote(finished, where, 'sent');
    if (card) await this.show(key, card, thread, tellCard(answer, note));
    return { key, where };
  }

  /**
   * Resumes every job whose claim lapsed (its instance stopped); how many it took up. First drops the posts of cards
   * that show their count (nothing redraws them again, and each names the champion's chat), as `my data` does; a
   * finished job's row is no work, and goes once kept `FINISHED_KEPT_MS`.
   */
  async upkeep(): Promise<number> {
    await this.d.posts
      .removeShown(CURATED_TELL_POST, FINAL_VERSION)
      .catch((err: unknown) => this.d.log.warn({ err }, 'could not drop the posts of curated answer cards that show their count'));
    const rows = this.table.listEntities<{ claimedUntil: number; done?: boolean; finishedAt?: number }>({
      queryOptions: { filter: `PartitionKey eq '${PK}'`, select: ['RowKey', 'claimedUntil', 'done', 'finishedAt'] },
    });
    const now = this.nowMs;
    const table = this.table;
    async function* unfinished() {
      for await (const r of rows) {
        if (r.done !== true) yield r;
        else if (Number(r.finishedAt ?? 0) + FINISHED_KEPT_MS <= now) await deleteIfThere(table, PK, String(r.rowKey));
      }
    }
    return this.resumeLapsed(unfinished(), (r) => String(r.rowKey));
  }

  /** Walks the rest of the month a page at a time. Safe to run twice or on two instances: the claim and the ETags decide. */
  run(id: string): Promise<void> {
    const correcting = CORRECTION_KEY.exec(id);
    if (correcting) return this.alone(id, this.key(id), () => this.correct(id, correcting[1]!, Number(correcting[2])));
    return this.alone(id, this.key(id), () => this.walk(id));
  }

  /** An edit's corrections past its turn's page, a page of records at a time, to the last. */
  private async correct(key: string, id: string, version: number): Promise<void> {
    let job = await this.claim(key);
    if (!job) return;
    const answer = await this.d.answer(id);
    // Retired, or edited again (the newer edit's corrections carry the newest text, to the same people): no more sent.
    if (!answer || answer.status !== 'active' || answer.version !== version) {
      if (!answer) {
        await deleteIfThere(this.table, PK, key);
        return;
      }
      await this.redraw(key, answer, correctionNote(job.reached, whereOf(job), answer.status === 'active' ? 'edited' : 'retired'), FINAL_VERSION);
      await this.finished(key, job.reached, job.etag);
      return;
    }
    let drawn = this.nowMs;
    for (;;) {
      if (await this.stopsHere(this.key(key), job.etag)) return;
      const page = await this.d.corrections(answer, this.d.pageRows ?? CORRECTION_ROWS, job.token);
      await this.d.outbox.enqueue(this.d.messages(answer, page.tell, { edited: true }));
      const next: Partial<Row> = { token: page.correctFrom ?? '', reached: job.reached + page.tell.length, pages: job.pages + 1 };
      if (!page.correctFrom) {
        await this.redraw(key, answer, correctionNote(next.reached ?? 0, whereOf(job), 'sent'), FINAL_VERSION);
        await this.finished(key, next.reached ?? 0, job.etag);
        this.d.log.info({ curated: id, version, reached: next.reached }, 'curated answer corrections sent to everyone sent an earlier text');
        return;
      }
      const etag = await this.write(key, next, job.etag);
      if (etag === undefined) return;
      job = { ...job, ...next, etag };
      if (page.tell.length && this.nowMs - drawn >= (this.d.progressEveryMs ?? 5_000)) {
        drawn = this.nowMs;
        await this.redraw(key, answer, correctionNote(job.reached, whereOf(job), 'sending'), job.pages);
      }
    }
  }

  private async walk(id: string): Promise<void> {
    let job = await this.claim(id);
    if (!job) return;
    const answer = await this.d.answer(id);
    if (!answer || answer.status !== 'active') {
      await deleteIfThere(this.table, PK, safeKey(id));
      return;
    }
    const first = dayOf(new Date(job.since));
    let drawn = this.nowMs;
    for (;;) {
      // Shutdown: no new page starts; another instance resumes from the cursor.
      if (await this.stopsHere(this.key(id), job.etag)) return;
      // A page found started was cut short (its instance stopped): its askers are named again, under the same keys.
      const again = job.started;
      if (!again) {
        const etag = await this.write(id, { started: true }, job.etag);
        if (etag === undefined) return;
        job = { ...job, etag, started: true };
      }
      const page = await this.d.page(job.day, job.since, job.token || undefined, this.d.pageRows ?? PAGE_ROWS);
      const { named, fresh } = await this.d.askersIn(answer, page.questions, again);
      await this.d.outbox.enqueue(this.d.messages(answer, named));
      const day = page.next ? job.day : dayOf(new Date(Date.parse(`${job.day}T00:00:00Z`) - 86_400_000));
      const next: Partial<Row> = { day, token: page.next ?? '', started: false, reached: job.reached + fresh, pages: job.pages + 1 };
      if (day < first) {
        await this.finish(id, answer, { ...job, ...next });
        return;
      }
      const etag = await this.write(id, next, job.etag);
      if (etag === undefined) return; // taken over elsewhere: that instance goes on from the cursor
      job = { ...job, ...next, etag };
      if (fresh && this.nowMs - drawn >= (this.d.progressEveryMs ?? 5_000)) {
        drawn = this.nowMs;
        await this.redraw(answer.id, answer, tellProgressNote(job.reached, whereOf(job)), job.pages);
      }
    }
  }

  /** Every page done: the champion's card shows the count, and the row keeps the total (`finished`). */
  private async finish(id: string, answer: CuratedAnswer, row: Job): Promise<void> {
    await this.redraw(answer.id, answer, doneNote(row.reached, whereOf(row)), FINAL_VERSION);
    await this.finished(id, row.reached, row.etag);
    this.d.log.info({ curated: id, reached: row.reached }, 'curated answer sent to every asker of the month');
  }

  /**
   * The job is over, its card showing `reached`: the row is kept with that total for a later press (`begin`), no work
   * for the upkeep. Written only if the row is as this run last wrote it (taken over elsewhere: that run ends it).
   */
  private async finished(id: string, reached: number, etag: string): Promise<void> {
    await this.write(id, { done: true, finishedAt: this.nowMs, reached }, etag);
  }

  /** The champion's card of the job whose post is `postId` (the answer's id, or a correction's key), showing `note`. */
  private async redraw(postId: string, answer: CuratedAnswer, note: string, version: number): Promise<void> {
    const card = await this.d.posts.state(CURATED_TELL_POST, postId);
    const key = `${CURATED_TELL_POST}|${postId}|${version === FINAL_VERSION ? 'done' : `p${version}`}`;
    // No card to redraw (a Save from a client that named none, or its post deleted by `forget`): nothing to show.
    if (!card?.post && !card?.pendingKey) return;
    await this.d.outbox.enqueue([{ op: 'update', key, post: { kind: CURATED_TELL_POST, id: postId }, version, content: tellCard(answer, note) }]);
  }

  private key(id: string): { partitionKey: string; rowKey: string } {
    return { partitionKey: PK, rowKey: safeKey(id) };
  }

  private async get(id: string): Promise<Job | undefined> {
    const e = await readEntity<Row>(this.table, PK, safeKey(id));
    return e ? { ...rowOf(e), etag: e.etag } : undefined;
  }

  /** Takes the job for this instance: free, lapsed, or already ours (renewed); a finished one is nobody's work. */
  private claim(id: string): Promise<Job | undefined> {
    return this.claims.claim(this.key(id), () => this.get(id), {
      runnable: (job) => !job.done,
      take: async (job, claim) => {
        const etag = await this.write(id, {}, job.etag);
        return etag === undefined ? undefined : { ...job, ...claim, etag };
      },
    });
  }

  /** Writes `change` and renews the claim, if the row is as this instance last saw it; undefined: not ours any more. */
  private async write(id: string, change: Partial<Row>, etag: string): Promise<string | undefined> {
    try {
      return await updateIfUnchanged(this.table, { ...this.key(id), ...change, ...this.claims.columns() }, 'Merge', etag);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

/** The row of the corrections of `id` at `version`: answer ids are hex, so the key is told from a new answer's. */
function correctionKey(id: string, version: number): string {
  return `${safeKey(id)}.v${version}`;
}
const CORRECTION_KEY = /^([0-9a-f]+)\.v(\d+)$/;

/** The champion's card as the job draws it: the answer's question, who answered, and the count. */
function tellCard(answer: CuratedAnswer, note: string) {
  const group = { id: answer.groupId ?? '', example: answer.question, count: 0, askers: 0, questions: answer.variants };
  return curatedFormCard(group, [], { answeredBy: answer.author.name, note });
}

function whereOf(row: Row): TellWhere {
  return row.shared ? 'thread' : 'chat';
}

function rowOf(e: Partial<Record<keyof Row, unknown>>): Row {
  return {
    since: String(e.since ?? ''),
    day: String(e.day ?? ''),
    token: String(e.token ?? ''),
    started: e.started === true,
    reached: Number(e.reached ?? 0),
    pages: Number(e.pages ?? 0),
    shared: e.shared === true,
    done: e.done === true,
    finishedAt: Number(e.finishedAt ?? 0),
    holder: String(e.holder ?? ''),
    claimedUntil: Number(e.claimedUntil ?? 0),
  };
}
