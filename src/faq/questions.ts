import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import type { Actor } from '../roles/roles.js';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import {
  collect,
  deleteIfThere,
  invertedTime,
  isConflict,
  isNotFound,
  isPreconditionFailed,
  mergeIfUnchanged,
  safeKey,
  type Tables,
} from '../storage/tables.js';
import { conflictPauseMs, fromJsonColumn, readEntity } from '../storage/entities.js';
import type { GapCardVersion, GapClaim } from './gaps.js';
import type { ExpiringStore } from '../storage/expiry.js';
import { dayOf, firstDay, forEachDay, groupByDay } from '../storage/day-partitions.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A question a user asked, what the bot did with it, and what the user thought of the answer. */
export interface AskedQuestion {
  id: string;
  question: string;
  asker: Actor;
  askedAt: string;
  answered: boolean;
  /** The section cited, when answered. */
  sectionId?: string;
  helpful: number;
  notHelpful: number;
  /** Set when a later docs change answered it and the asker was told. */
  answeredLaterAt?: string;
  /**
   * The channel or group chat it was answered in (none for a 1:1 chat): its members could see the answer
   * card, so they may vote on it too.
   */
  thread?: string;
}

/** The stored row: the question minus its id (the keys), with the asker as JSON. */
type QuestionEntity = Omit<AskedQuestion, 'id' | 'asker'> & {
  partitionKey: string;
  rowKey: string;
  asker: string;
  /** The Teams message it was asked in, as a digest (it names no one): its lookup row is `m|<msg>|<RK>`. */
  msg?: string;
  /** A withdrawn copy (`w|<RK>`): when it was withdrawn, by this app's clock; the undelete window runs from it. */
  withdrawnAt?: string;
  /**
   * When its message was last deleted (on a withdrawn copy) or undeleted (on a question restored), as Teams stamped
   * that event: an older delete or undelete arriving after it (a Teams retry) is stale and changes nothing.
   */
  changedAt?: string;
};

/*
 * Table `FaqQuestions`: PK = UTC day 'YYYY-MM-DD', RK = inverted time + random (newest first).
 *   - a question by id: the id is `${PK}_${RK}` → point read;
 *   - "questions of the last N days" (re-checks after a docs change): one range query over the day partitions
 *     (`RowKey lt 'a'`: question rows only); the gaps list reads at most its budget of them, newest first
 *     (`recentGaps`: one range query, else day partitions newest first), as does a champion's Save for the
 *     answered ones (`recentAnswered`);
 *   - in the same day partition, written in the same transaction as what they index (no extra storage call):
 *     RK `a|<asker>|<question RK>` → who asked it, RK `v|<voter>|<question RK>` → who voted on it (and how), so a
 *     person's questions and votes (`my data`, `forget`) are one range read per day, and retention drops whole
 *     old days (`PartitionKey lt <day>`) without a scan;
 *   - RK `m|<digest of the Teams message>|<question RK>` → the question logged from a message (`fromMessage`), in
 *     the same transaction as the question: a question costs no extra storage call for the rare message deleted
 *     or edited in Teams, which pays instead (a few day reads, see `fromMessage`). Between the `a|` and `v|` rows,
 *     it matches neither person's range, nor `RowKey lt 'a'`; it goes with its day (retention) or with its
 *     question (`deleteQuestion`, found from the question's `msg`).
 *   - RK `w|<question RK>` → a question withdrawn (its asker deleted the message it was asked in: `withdraw`), its
 *     row as it was, out of every read of questions (`RowKey lt 'a'`) but kept with its asker (`a|` row marked
 *     `withdrawn`), lookup and vote rows until the asker undeletes the message (`restore`: the question is back under
 *     its id), or `UNDELETE_DAYS` after it was withdrawn (`QuestionPrivacy.sweepExpired`), or its day goes;
 *   - RK `x|<question's day>|<question RK>` in the partition of the day a question was withdrawn → that copy, for the
 *     sweep of the undelete window: it reads the few days that have just crossed it, whenever the question was asked.
 *     It names no one (asked another day, it holds the message's digest, as the lookup row beside it does: a copy never
 *     written leaves the sweep both to delete). Beside it, when the question was asked another day, RK `m|<digest>|<question RK>` with
 *     `day` = the question's day: the undelete finds the copy from its message within the window, however long ago it
 *     was asked (see `fromMessage`). Both go with their day, or with the copy (undeleted, swept, forgotten; the sweep
 *     drops those of a copy withdrawn again since, which has its own, or never written);
 *   - RK `f|<question RK>|<voter>` → beside the question, one per vote on it (written in the vote's transaction):
 *     what deleting the question finds its votes by. It goes with the question, its day, or the voter (forget).
 * Table `FaqFeedback`: PK = question id, RK = user id → one vote per user per question, written by earlier versions
 *   on every vote (a call of its own); now only read (a voter's vote from before the index rows) and deleted.
 * Table `FaqGapCards`: PK = 'version', RK = a gap card's key → the card's redraw counter (`GapCardVersion`), one
 *   row per card whichever days its questions fall on, so every redraw's number is taken under one ETag. It
 *   holds numbers and a digest of question ids, nothing of anyone's; retention deletes a card's row once it was
 *   last drawn before the period (its questions have gone).
 */
const CARD_VERSIONS = 'version';
const ASKED = 'a|';
const VOTED = 'v|';
const MESSAGE = 'm|';
const WITHDRAWN = 'w|';
const TO_SWEEP = 'x|';
const VOTE_BESIDE = 'f|';
/** The row beside a question for one vote on it (`VOTE_BESIDE`); `person` as the voter's `v|` row names them. */
const besideKey = (questionRk: string, person: string) => `${VOTE_BESIDE}${questionRk}|${safeKey(person)}`;
/**
 * RK `g|cards` in a day's partition → the "Answer this" cards that showed a gap question asked that day
 * ([{key, terms}], JSON, ETag-guarded; see `withCardKeys`). It goes with its day, as the questions do (retention).
 */
const GAP_CARDS = 'g|cards';
/** A day's claims stay well within a string property (32K characters); past that a card is posted unclaimed. */
const GAP_CARDS_MAX_CHARS = 30_000;
/**
 * How long a withdrawn question is kept for an undelete, counted from when it was withdrawn (a copy withdrawn before
 * that time was recorded: from when it was asked): a deleted question was deleted, as far as its asker knows, and
 * RETENTION_DAYS (0 by default: for ever) must not keep it. A month covers an undo of the delete and the rare second
 * thought; the sweep then reads only the few day partitions that have just crossed it (`sweepExpired`).
 */
export const UNDELETE_DAYS = 30;
const DAY_MS = 86_400_000;
/** Days before the window's edge the sweep reads again each run: it catches up after the job was stopped a while. */
const UNDELETE_SWEEP_DAYS = 7;
/**
 * `w|` rows the undelete sweep reads a run for copies an earlier version kept without their withdrawal time (the
 * day's copies withdrawn since among them, read past): one storage call's page. Such copies were all asked before this
 * version ran, so the sweep's days soon hold none; until then a run deletes those it read, the next runs the rest.
 */
const LEGACY_ROWS_PER_RUN = 1000;
/** Tries of a withdrawal whose question keeps being voted on meanwhile (each re-reads it). */
const WITHDRAW_ATTEMPTS = 5;
/** Question rows' keys are digits; index rows start with a letter. */
const QUESTION_ROWS = "RowKey lt 'a'";

/** A person's question or vote, found through the index rows of one day. */
export interface IndexedRow {
  day: string;
  /** The index row's own key. */
  indexKey: string;
  /** The question it is about: `${day}_${RK}`. */
  questionId: string;
  /** The person's key the row is under (Entra id, else Teams id). */
  personKey: string;
  /** An asked row: the question is withdrawn (kept for an undelete, `QuestionStore.withdraw`), not in the gaps. */
  withdrawn?: true;
  helpful?: boolean;
  at?: string;
}
export class QuestionStore {
  /** The row each question `fromMessage` returned was read from (ETag included): `withdraw` writes only that. */
  private readonly readFrom = new WeakMap<AskedQuestion, QuestionEntity & { etag: string }>();
  /** The days' claim rows (ETag included) each map `gapClaimsBetween` returned was read from: see `claimGapCard`. */
  private readonly claimsReadFrom = new WeakMap<
    ReadonlyMap<string, readonly GapClaim[]>,
    { first: string; last: string; rows: Map<string, { cards?: string; etag: string }> }
  >();

  private constructor(
    private readonly questions: TableClient,
    private readonly feedback: TableClient,
    private readonly cards: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<QuestionStore> {
    return new QuestionStore(
      await tables.table('FaqQuestions'),
      await tables.table('FaqFeedback'),
      await tables.table('FaqGapCards'),
      clock,
    );
  }

  /**
   * Logs a question. `message`: the Teams message it was asked in (see `messageKey`), so deleting or editing that
   * message can find it (`fromMessage`).
   */
  async record(
    question: string,
    asker: Actor,
    answer: { answered: boolean; sectionId?: string; thread?: string; message?: string },
  ): Promise<AskedQuestion> {
    const now = this.clock.now();
    const partitionKey = now.toISOString().slice(0, 10);
    // 48 random bits: questions asked in the same millisecond (a busy rollout, an import) must not collide on create.
    const rowKey = `${invertedTime(now)}${randomBytes(6).toString('hex')}`;
    const asked: AskedQuestion = {
      id: `${partitionKey}_${rowKey}`,
      question: question.slice(0, 2000),
      asker,
      askedAt: now.toISOString(),
      answered: answer.answered,
      helpful: 0,
      notHelpful: 0,
    };
    if (answer.sectionId) asked.sectionId = answer.sectionId;
    if (answer.thread) asked.thread = answer.thread.slice(0, 400);
    const entity = toEntity(asked, answer.message || undefined);
    // One call: the question, its asker's index row and the row that finds it from its message (one partition).
    await this.questions.submitTransaction([
      ['create', entity],
      ['upsert', { partitionKey, rowKey: indexKey(ASKED, asker.aadObjectId ?? asker.id, rowKey) }, 'Replace'],
      ...(entity.msg ? [['upsert', { partitionKey, rowKey: messageKey(entity.msg, rowKey) }, 'Replace'] as TransactionAction] : []),
    ]);
    return fromEntity(entity);
  }

  async get(id: string): Promise<AskedQuestion | undefined> {
    const key = splitId(id);
    if (!key) return undefined;
    const e = await readEntity<QuestionEntity>(this.questions, key.pk, key.rk);
    return e ? fromEntity(e) : undefined;
  }

  /**
   * The questions logged from a Teams message (see `record`). Its lookup row is in the day partition of the question,
   * and the message's key does not say which day that is for sure: the day its id names (`sentAtOf`) and the days
   * either side (clocks differ) are read first, together — the usual case, a question deleted or edited as asked.
   * Else (an edit's question is logged on the day of the edit; an id that is no time) one day at a time, newest
   * first, back to the oldest day stored and at most `MESSAGE_LOOKBACK_DAYS`, until a day holds one. Each read is
   * one partition's `m|<digest>|` range: an indexed read, never a scan of the days' questions.
   *
   * So a message whose id is no time (not Teams: its chat and channel message ids are their send time; the Agents
   * Playground, Direct Line), or a question edited, is found for an edit or a delete only within
   * `MESSAGE_LOOKBACK_DAYS` of when it was logged. Left so on purpose: every message deleted or edited in a chat with
   * the bot is looked up (most are no question), so a walk back to the oldest day stored costs each of them a read per
   * day kept (for ever with RETENTION_DAYS 0), and an index by message alone (a partition per message) would cost
   * every question one more write, outside the day partitions that retention drops whole and `forget` reads. An
   * undelete is not bounded by it: `withdraw` leaves a lookup row on the day it withdraws, so the copy is found
   * for the whole undelete window.
   */
  async fromMessage(message: string): Promise<AskedQuestion[]> {
    const found = await Promise.all(
      (await this.messageRows(message)).map(async (id) => {
        const key = splitId(id);
        const e = key && (await readEntity<QuestionEntity>(this.questions, key.pk, key.rk));
        if (!e) return undefined;
        const q = fromEntity(e);
        this.readFrom.set(q, e);
        return q;
      }),
    );
    return found.filter((q): q is AskedQuestion => q !== undefined);
  }

  /**
   * The questions logged from a Teams message and withdrawn (`withdraw`), found as `fromMessage` finds questions; not
   * one whose undelete window has ended (the sweep deletes it when it next runs). `live`: those it finds not withdrawn
   * (no copy: their delete is not in yet, or never was), for `markUndeleted`.
   */
  async withdrawnFrom(message: string): Promise<{ withdrawn: AskedQuestion[]; live: AskedQuestion[] }> {
    const now = this.clock.now().getTime();
    const out: { withdrawn: AskedQuestion[]; live: AskedQuestion[] } = { withdrawn: [], live: [] };
    await Promise.all(
      (await this.messageRows(message)).map(async (id) => {
        const key = splitId(id);
        if (!key) return;
        const e = await readEntity<QuestionEntity>(this.questions, key.pk, `${WITHDRAWN}${key.rk}`);
        if (e && undeleteEndsAt(e) <= now) return;
        // No copy: the question itself, read only then (the usual undelete finds its copy).
        const row = e ?? (await readEntity<QuestionEntity>(this.questions, key.pk, key.rk));
        if (!row) return;
        const q = fromEntity({ ...row, rowKey: key.rk });
        this.readFrom.set(q, row);
        (e ? out.withdrawn : out.live).push(q);
      }),
    );
    return out;
  }

  /** The ids of the questions a message's lookup rows name (see `fromMessage`). */
  private async messageRows(message: string): Promise<string[]> {
    const digest = messageDigest(message);
    const readDay = async (day: string) =>
      (
        await collect(
          this.questions.listEntities({
            queryOptions: {
              filter: odata`PartitionKey eq ${day} and RowKey ge ${messageKey(digest, '')} and RowKey lt ${`${MESSAGE}${digest}}`}`,
              select: ['RowKey', 'day'],
            },
          }),
          MESSAGE_QUESTIONS_MAX,
        )
        // A withdrawn question's row on the day it was withdrawn names the question's own day (`withdraw`).
      ).map((r) => `${typeof r.day === 'string' && DAY.test(r.day) ? r.day : day}_${String(r.rowKey).slice(messageKey(digest, '').length)}`);
    const readDays = async (days: string[]) => [...new Set((await Promise.all(days.map(readDay))).flat())];
    const today = this.clock.now();
    const sent = sentAtOf(message);
    const hinted = sent ? [-1, 0, 1].map((d) => dayOf(new Date(sent.getTime() + d * 86_400_000))) : [];
    let ids = await readDays(hinted);
    if (!ids.length) {
      const oldest = await firstDay(this.questions);
      const bound = dayOf(new Date(today.getTime() - MESSAGE_LOOKBACK_DAYS * 86_400_000));
      const stop = oldest && oldest > bound ? oldest : bound;
      const days: string[] = [];
      for (let d = today; oldest && dayOf(d) >= stop; d = new Date(d.getTime() - 86_400_000)) {
        if (!hinted.includes(dayOf(d))) days.push(dayOf(d));
      }
      for (let i = 0; i < days.length && !ids.length; i += MESSAGE_DAYS_AT_ONCE) ids = await readDays(days.slice(i, i + MESSAGE_DAYS_AT_ONCE));
    }
    return ids;
  }

  /**
   * Withdraws `question`, as read from `message` (`fromMessage`): it leaves the gaps, the counts and the askers told of
   * a champion's answer, as if never asked, until `restore`. It is kept as it is under `w|<RK>` (its asker's row marked
   * `withdrawn`; lookup and vote rows stay with it), then its row goes — both under the row's ETag, so a vote landing
   * meanwhile is not lost from the kept copy: the row is read again and the withdrawal tried again. The copy is kept
   * `UNDELETE_DAYS` from now (`sweepExpired`). `deletedAt`: when the message was deleted, as the event says (default
   * now); a delete older than the question's last undelete (a Teams retry landing late) is stale. False when it was
   * not there, or stale.
   */
  async withdraw(question: AskedQuestion, message: string, deletedAt?: Date): Promise<boolean> {
    const key = splitId(question.id);
    if (!key) return false;
    const now = this.clock.now();
    const event = (deletedAt ?? now).toISOString();
    let current = this.readFrom.get(question) ?? (await readEntity<QuestionEntity>(this.questions, key.pk, key.rk));
    if (current && isStale(current, event)) return false;
    const askedRow = indexKey(ASKED, question.asker.aadObjectId ?? question.asker.id, key.rk);
    // On the day it is withdrawn, written first (no copy unswept): where the sweep finds the copy when its window ends,
    // and, asked another day, where an undelete finds it from its message (`messageRows`: the days the message's id
    // names, else back from today — within the window, whenever it was asked or edited).
    const today = dayOf(now);
    const msg = messageDigest(message);
    if (current) {
      await this.questions.submitTransaction([
        // The sweep's row names the lookup row beside it: a copy never written (the question gone or voted on meanwhile)
        // leaves both, and the sweep deletes both.
        ['upsert', { partitionKey: today, rowKey: `${TO_SWEEP}${key.pk}|${key.rk}`, at: now.toISOString(), ...(today === key.pk ? {} : { msg }) }, 'Replace'],
        ...(today === key.pk ? [] : [['upsert', { partitionKey: today, rowKey: messageKey(msg, key.rk), day: key.pk }, 'Replace'] as TransactionAction]),
      ]);
    }
    for (let attempt = 0; current && attempt < WITHDRAW_ATTEMPTS; attempt++) {
      try {
        const copy: QuestionEntity = { ...toEntity(fromEntity(current), message), rowKey: `${WITHDRAWN}${key.rk}`, withdrawnAt: now.toISOString(), changedAt: event };
        // The copy is written only if the row is still as read (a guard write in the same transaction)...
        const written = await this.questions.submitTransaction([
          ['update', { partitionKey: key.pk, rowKey: key.rk }, 'Merge', { etag: current.etag }],
          ['upsert', copy, 'Replace'],
          ['upsert', { partitionKey: key.pk, rowKey: askedRow, withdrawn: true }, 'Replace'],
        ]);
        // Sub-responses come in the order sent (they name no row): the first is the guard write's.
        const etag = written.subResponses[0]?.etag;
        // ...and the row goes only if nothing changed it since (a transaction cannot delete under an ETag).
        await this.questions.deleteEntity(key.pk, key.rk, etag ? { etag } : {});
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        if (!isPreconditionFailed(err)) throw err;
      }
      current = await readEntity<QuestionEntity>(this.questions, key.pk, key.rk);
    }
    if (!current) return false;
    // Still listed: the copy and the mark written for it go (its asker's data would call it withdrawn).
    await deleteIfThere(this.questions, key.pk, `${WITHDRAWN}${key.rk}`);
    await this.questions.upsertEntity({ partitionKey: key.pk, rowKey: askedRow }, 'Replace');
    throw new Error('could not withdraw the question: too many concurrent votes');
  }

  /**
   * A withdrawn question (`withdrawnFrom`, not read again) back as it was, under its own id (its answer card's
   * buttons find it again), in one transaction. `undeletedAt`: when the message was undeleted, as the event says
   * (default now); an undelete older than the copy's delete (a Teams retry landing after the message was deleted
   * again) is stale. False when it was back already (a retry), has gone, or is stale.
   */
  async restore(question: AskedQuestion, message: string, undeletedAt?: Date): Promise<boolean> {
    const key = splitId(question.id);
    if (!key) return false;
    const event = (undeletedAt ?? this.clock.now()).toISOString();
    const kept = this.readFrom.get(question);
    if (kept && isStale(kept, event)) return false;
    // Its asker's row, the withdrawn mark cleared.
    const askedRow = indexKey(ASKED, question.asker.aadObjectId ?? question.asker.id, key.rk);
    try {
      await this.questions.submitTransaction([
        ['create', { ...toEntity(question, message), changedAt: event }],
        ['delete', { partitionKey: key.pk, rowKey: `${WITHDRAWN}${key.rk}` }],
        ['upsert', { partitionKey: key.pk, rowKey: askedRow }, 'Replace'],
      ]);
      if (kept) await dropWithdrawalRows(this.questions, kept, key.pk, key.rk);
      return true;
    } catch (err) {
      // Back already (its row exists; a withdrawal stopped half way leaves its copy and mark), or its kept row gone
      // (the undelete window, retention, a Forget): nothing to restore.
      if (isConflict(err)) {
        await deleteIfThere(this.questions, key.pk, `${WITHDRAWN}${key.rk}`);
        await this.questions.upsertEntity({ partitionKey: key.pk, rowKey: askedRow }, 'Replace');
        return false;
      }
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Its message was undeleted while it was not withdrawn (`withdrawnFrom`'s `live`): the undelete arrived before its
   * delete (a delete whose turn failed, retried by Teams after the asker pressed Undo). Recorded as the question's last
   * change, so that delete, stamped before it, is stale when it lands (`withdraw`); a delete stamped after it still
   * withdraws it. Only ever moves `changedAt` forward; under the row's ETag (a vote meanwhile: read again).
   */
  async markUndeleted(question: AskedQuestion, undeletedAt?: Date): Promise<void> {
    const key = splitId(question.id);
    if (!key) return;
    const event = (undeletedAt ?? this.clock.now()).toISOString();
    let current = this.readFrom.get(question) ?? (await readEntity<QuestionEntity>(this.questions, key.pk, key.rk));
    for (let attempt = 0; current && attempt < WITHDRAW_ATTEMPTS; attempt++) {
      if (current.changedAt !== undefined && Date.parse(current.changedAt) >= Date.parse(event)) return;
      try {
        if (await mergeIfUnchanged(this.questions, { partitionKey: key.pk, rowKey: key.rk, changedAt: event }, current.etag)) return;
      } catch (err) {
        // Gone meanwhile (an edit replaced it): nothing to mark.
        if (isNotFound(err)) return;
        throw err;
      }
      current = await readEntity<QuestionEntity>(this.questions, key.pk, key.rk);
    }
  }

  /**
   * Deletes a question, as if never asked (an edit of its message replaced it; a deleted message's is withdrawn
   * instead, see `withdraw`): it leaves the gaps, the counts and the askers told of a champion's answer. Its votes
   * and index rows go with it. False when it was not there.
   */
  async remove(id: string): Promise<boolean> {
    const key = splitId(id);
    const e = key && (await readEntity<QuestionEntity>(this.questions, key.pk, key.rk));
    if (!key || !e) return false;
    await deleteQuestion({ questions: this.questions, feedback: this.feedback }, key.pk, e);
    return true;
  }

  /**
   * Records a user's vote; a second vote by the same user replaces the first (counts move, never double).
   * Returns undefined for an unknown question id, or one `may` refuses (nothing is written then).
   */
  async vote(
    id: string,
    user: Actor,
    helpful: boolean,
    may: (question: AskedQuestion) => boolean = () => true,
  ): Promise<AskedQuestion | undefined> {
    const key = splitId(id);
    if (!key) return undefined;
    const voteKey = user.aadObjectId ?? user.id;
    const mine = indexKey(VOTED, voteKey, key.rk);
    // The voter's vote is their index row, in the question's partition: it is read with the question and
    // written in the same transaction, each guarded (ETag, or create), so a stale read — a double click, two
    // votes at once — fails the write and is read again instead of counting twice.
    const read = () =>
      Promise.all([
        readEntity<{ helpful?: boolean }>(this.questions, key.pk, mine),
        readEntity<QuestionEntity>(this.questions, key.pk, key.rk),
      ]);
    // The question first: with no vote counted on it (the usual first vote on an answer) nobody has voted, so
    // neither of this voter's vote rows is read; the voter's row is then created, so a vote landing meanwhile fails
    // the write (409, or 412 on the counts) and is read again. Counted votes: the voter's rows, as before.
    const first = await readEntity<QuestionEntity>(this.questions, key.pk, key.rk);
    if (!first || !may(fromEntity(first))) return undefined;
    const voted = Number(first.helpful ?? 0) !== 0 || Number(first.notHelpful ?? 0) !== 0;
    const [mineFirst, legacy] = voted
      ? await Promise.all([
          readEntity<{ helpful?: boolean }>(this.questions, key.pk, mine),
          // A vote recorded before the index rows existed is only in FaqFeedback.
          readEntity<{ helpful: boolean }>(this.feedback, id, voteKey),
        ])
      : [undefined, undefined];
    for (let attempt = 0; attempt < 10; attempt++) {
      const [earlier, current] = attempt === 0 ? [mineFirst, first] : await read();
      if (!current) return undefined;
      const previous = typeof earlier?.helpful === 'boolean' ? earlier.helpful : legacy?.helpful;
      if (previous === helpful) return fromEntity(current);
      const next = { helpful: current.helpful, notHelpful: current.notHelpful };
      if (previous === true) next.helpful--;
      if (previous === false) next.notHelpful--;
      if (helpful) next.helpful++;
      else next.notHelpful++;
      const at = this.clock.now().toISOString();
      const row = { partitionKey: key.pk, rowKey: mine, helpful, at };
      try {
        // The counts, the voter's index row and the row beside the question that a delete finds the vote by change
        // together (one partition, one transaction; that row was a FaqFeedback row written by a call of its own).
        await this.questions.submitTransaction([
          ['update', { partitionKey: key.pk, rowKey: key.rk, ...next }, 'Merge', { etag: current.etag }],
          earlier ? ['update', row, 'Replace', { etag: earlier.etag }] : ['create', row],
          ['upsert', { partitionKey: key.pk, rowKey: besideKey(key.rk, voteKey) }, 'Replace'],
        ]);
        return fromEntity({ ...current, ...next });
      } catch (err) {
        // Another vote landed first (the question or the voter's row changed): re-read and re-apply.
        if (!isPreconditionFailed(err) && !isConflict(err)) throw err;
      }
    }
    throw new Error('could not record feedback: too many concurrent votes');
  }

  /**
   * Questions asked in the last `days` × 24 hours (not calendar days: "gaps 1" is the last day, at any hour),
   * newest first. One range query over the window's day partitions (consecutive keys), not one per day: a
   * "not helpful" vote and every unanswered question look up the gaps, and most days of the window are empty.
   */
  async recent(days: number, filter?: { answered?: boolean }): Promise<AskedQuestion[]> {
    const today = this.clock.now();
    const since = new Date(today.getTime() - days * 86_400_000).toISOString();
    // Day partitions are UTC dates: the window's first day is read too, then cut at `since`.
    const first = since.slice(0, 10);
    const last = today.toISOString().slice(0, 10);
    let query = `PartitionKey ge '${first}' and PartitionKey le '${last}' and ${QUESTION_ROWS}`;
    if (filter?.answered !== undefined) query += ` and answered eq ${filter.answered}`;
    const rows = await collect(this.questions.listEntities<QuestionEntity>({ queryOptions: { filter: query } }));
    // Partitions come oldest day first; within a day rows are newest first (inverted time). Newest day first:
    return rows
      .sort((a, b) => (a.partitionKey < b.partitionKey ? 1 : a.partitionKey > b.partitionKey ? -1 : 0))
      .map(fromEntity)
      .filter((q) => q.askedAt >= since);
  }

  /**
   * The gaps list's questions: those of the `days` × 24 hours up to `until` (default now) that may be gaps —
   * unanswered, or with a Not helpful vote — newest first, at most `limit` of them (`more`: the window holds
   * others, older than those returned). Bounded work whatever the window holds: one range read of up to
   * `limit` + 1 rows (the usual case: all of them); only past that, since a range comes oldest day first, the
   * newest days are read one partition at a time, newest first, until `limit` rows — at most about 2 × `limit`
   * rows and one call per day of the window in all. Reading every question of a 90-day window on each press did
   * not stay small as the rollout grew.
   */
  recentGaps(days: number, opts: { until?: Date; limit: number }): Promise<{ questions: AskedQuestion[]; more: boolean }> {
    // Server-side: a question answered with no Not helpful vote is no gap (most of them).
    return this.newest(days, opts, `${QUESTION_ROWS} and (answered eq false or notHelpful gt 0)`);
  }

  /**
   * The questions of the last `days` × 24 hours that are no gap — answered, with no Not helpful vote — newest
   * first, at most `limit` of them, read as `recentGaps` reads (bounded whatever the window holds): those told
   * of a champion's answer when they asked the same in other words.
   */
  recentAnswered(days: number, opts: { limit: number }): Promise<{ questions: AskedQuestion[]; more: boolean }> {
    return this.newest(days, opts, `${QUESTION_ROWS} and answered eq true and notHelpful eq 0`);
  }

  /**
   * One page (at most `size`) of the questions asked on UTC day `day` at or after `since` (ISO), newest first; `next`
   * continues it. Off the turn: a champion's answer reaches the askers past the turn's bounded read a page at a time.
   */
  async dayPage(day: string, since: string, next: string | undefined, size: number): Promise<{ questions: AskedQuestion[]; next?: string }> {
    if (!DAY.test(day)) return { questions: [] };
    const pages = this.questions
      .listEntities<QuestionEntity>({ queryOptions: { filter: `${odata`PartitionKey eq ${day} and askedAt ge ${since}`} and ${QUESTION_ROWS}` } })
      .byPage({ maxPageSize: size, ...(next ? { continuationToken: next } : {}) });
    const first = await pages.next();
    if (first.done) return { questions: [] };
    return { questions: first.value.map(fromEntity), ...(first.value.continuationToken ? { next: first.value.continuationToken } : {}) };
  }

  /** The newest `rows` (a filter on question rows) of the window: the bounded read `recentGaps` describes. */
  private async newest(days: number, opts: { until?: Date; limit: number }, rows: string): Promise<{ questions: AskedQuestion[]; more: boolean }> {
    const until = opts.until ?? this.clock.now();
    const since = new Date(until.getTime() - days * 86_400_000);
    const limit = Math.max(1, Math.floor(opts.limit));
    // A view as of `until` leaves out questions asked since (the card being paged was drawn from that view).
    // Only a view as of a given time is cut there: a question stamped a moment ahead (another instance's clock,
    // a write landing late) belongs in the latest view.
    const inWindow = opts.until
      ? odata`askedAt ge ${since.toISOString()} and askedAt le ${until.toISOString()}`
      : odata`askedAt ge ${since.toISOString()}`;
    const read = (first: string, last: string, n: number) =>
      take(this.questions, `${odata`PartitionKey ge ${first} and PartitionKey le ${last}`} and ${rows} and ${inWindow}`, n);
    const first = dayOf(since);
    const last = dayOf(until);
    const whole = await read(first, last, limit + 1);
    if (whole.length <= limit) return { questions: newestFirst(whole).map(fromEntity), more: false };
    // Over the budget. The read came oldest day first: the days before its last row's are whole in it.
    const cut = String(whole.at(-1)!.partitionKey);
    const kept = new Map<string, QuestionEntity[]>();
    for (const r of whole) if (r.partitionKey < cut) kept.set(r.partitionKey, [...(kept.get(r.partitionKey) ?? []), r]);
    const out: QuestionEntity[] = [];
    for (let d = new Date(`${last}T00:00:00Z`); out.length < limit && dayOf(d) >= first; d = new Date(d.getTime() - 86_400_000)) {
      const day = dayOf(d);
      // Within a day rows come newest first (inverted time): the first rows are the ones to keep.
      const rows = day < cut ? (kept.get(day) ?? []) : await read(day, day, limit - out.length);
      out.push(...rows.slice(0, limit - out.length));
    }
    return { questions: out.map(fromEntity), more: true };
  }

  /**
   * Every question asked from `first` to `last` (UTC days 'YYYY-MM-DD', inclusive), by day: the adoption
   * figures' roll-up. One range query over the day partitions, not one per day (most days are empty).
   */
  async askedBetween(first: string, last: string): Promise<Map<string, AskedQuestion[]>> {
    if (!DAY.test(first) || !DAY.test(last)) return new Map();
    const rows = await collect(
      // The day partitions also hold the privacy index rows (who asked, who voted): questions only.
      this.questions.listEntities<QuestionEntity>({
        queryOptions: { filter: `${odata`PartitionKey ge ${first} and PartitionKey le ${last}`} and ${QUESTION_ROWS}` },
      }),
    );
    return groupByDay(rows, fromEntity);
  }

  /** The gap cards claimed on each day of the last `days` days: one range query over the day partitions. */
  gapClaims(days: number): Promise<Map<string, GapClaim[]>> {
    const today = this.clock.now();
    return this.gapClaimsBetween(dayOf(new Date(today.getTime() - days * 86_400_000)), dayOf(today));
  }

  /** The gap cards claimed on each day from `first` to `last` ('YYYY-MM-DD', inclusive): one range query. */
  async gapClaimsBetween(first: string, last: string): Promise<Map<string, GapClaim[]>> {
    const rows = await collect(
      this.questions.listEntities<{ cards?: string }>({
        queryOptions: { filter: odata`PartitionKey ge ${first} and PartitionKey le ${last} and RowKey eq ${GAP_CARDS}` },
      }),
    );
    const claims = new Map(rows.map((r) => [String(r.partitionKey), fromJsonColumn<GapClaim[]>(r.cards, [])]));
    this.claimsReadFrom.set(claims, { first, last, rows: new Map(rows.map((r) => [String(r.partitionKey), { cards: r.cards, etag: r.etag }])) });
    return claims;
  }

  /** The time a view of the questions is read at (ISO), by this store's clock. */
  now(): string {
    return this.clock.now().toISOString();
  }

  /**
   * The card for a gap with a question asked on `day`: `decide` sees the day's claims and names the card's key,
   * with the day's claims as they must be written (undefined: unchanged). The write is guarded by the row's
   * ETag, so of two turns racing on alike gaps one writes and the other reads again and sees its claim. Storage
   * that keeps refusing, or a full row: the key `decide` named, unwritten (a second card beats a failed turn).
   * `seen`: claims `gapClaimsBetween` read in this turn over a range holding `day`: the first try starts from that
   * read of the day's row (or of its absence) instead of reading it again; its ETag (or the create) still guards the
   * write, so a row changed since is read again like any other conflict.
   */
  async claimGapCard(
    day: string,
    decide: (claims: GapClaim[]) => { key: string; claims?: GapClaim[] },
    seen?: ReadonlyMap<string, readonly GapClaim[]>,
  ): Promise<string> {
    const known = seen && this.claimsReadFrom.get(seen);
    const fromSeen = known && known.first <= day && day <= known.last ? { row: known.rows.get(day) } : undefined;
    let decided: string | undefined;
    for (let attempt = 0; attempt < 10; attempt++) {
      const row = attempt === 0 && fromSeen ? fromSeen.row : await readEntity<{ cards?: string }>(this.questions, day, GAP_CARDS);
      const out = decide(fromJsonColumn<GapClaim[]>(row?.cards, []));
      decided = out.key;
      if (!out.claims) return decided;
      const cards = JSON.stringify(out.claims);
      if (cards.length > GAP_CARDS_MAX_CHARS) return decided;
      try {
        if (row) await this.questions.updateEntity({ partitionKey: day, rowKey: GAP_CARDS, cards }, 'Replace', { etag: row.etag });
        else await this.questions.createEntity({ partitionKey: day, rowKey: GAP_CARDS, cards });
        return decided;
      } catch (err) {
        if (!isPreconditionFailed(err) && !isConflict(err)) throw err;
      }
    }
    return decided!;
  }

  /**
   * The version to draw gap card `key` at: `decide` sees the card's counter (undefined: no row yet) and names the
   * version, with the counter as it must be written. Written under the row's ETag (or created, for a new card),
   * so two turns never take one number for different views, whichever days their questions fall on. Storage
   * that keeps refusing: 0, a version the outbox never draws (the writers that won drew newer views).
   */
  async drawGapCard(
    key: string,
    decide: (shown: GapCardVersion | undefined) => { version: number; next: GapCardVersion },
  ): Promise<number> {
    const rowKey = safeKey(key);
    for (let attempt = 0; attempt < 10; attempt++) {
      const started = Date.now();
      const row = await readEntity<Partial<GapCardVersion>>(this.cards, CARD_VERSIONS, rowKey);
      const shown = row && { v: Number(row.v ?? 0), n: Number(row.n ?? 0), h: String(row.h ?? ''), at: String(row.at ?? '') };
      const { version, next } = decide(shown);
      if (shown && shown.v === next.v && shown.n === next.n && shown.h === next.h && shown.at === next.at) return version;
      try {
        const entity = { partitionKey: CARD_VERSIONS, rowKey, ...next };
        if (row) await this.cards.updateEntity(entity, 'Replace', { etag: row.etag });
        else await this.cards.createEntity(entity);
        return version;
      } catch (err) {
        if (!isPreconditionFailed(err) && !isConflict(err)) throw err;
        await sleep(conflictPauseMs(attempt, Date.now() - started));
      }
    }
    return 0;
  }

  /** Marks a once-unanswered question as answered by a docs change; false if another instance did it first. */
  async markAnsweredLater(id: string, sectionId: string): Promise<boolean> {
    const key = splitId(id);
    if (!key) return false;
    const current = await this.questions.getEntity<QuestionEntity>(key.pk, key.rk);
    if (current.answeredLaterAt) return false;
    return mergeIfUnchanged(
      this.questions,
      { partitionKey: key.pk, rowKey: key.rk, answeredLaterAt: this.clock.now().toISOString(), sectionId },
      current.etag,
    );
  }
}

// ---- privacy (src/faq/privacy.ts) ---------------------------------------------------------------------

export interface PersonsRows {
  asked: IndexedRow[];
  votes: IndexedRow[];
}

export class QuestionPrivacy implements ExpiringStore {
  /** The undelete window's sweep (`sweepExpired`), on the expiry job whatever RETENTION_DAYS is. */
  readonly name = 'faq.withdrawn';

  constructor(
    private readonly questions: TableClient,
    private readonly feedback: TableClient,
    private readonly cards: TableClient,
    private readonly clock: Clock,
    /** `w|` rows the sweep reads per run for copies kept before their withdrawal time was (`sweepLegacy`). */
    private readonly legacyRowsPerRun = LEGACY_ROWS_PER_RUN,
  ) {}

  /** Where `sweepLegacy`'s next run goes on: a swept day, after its `w|` row `after` (none: from the day's first). */
  private legacyFrom: { day: string; after?: string } | undefined;

  static async open(tables: Tables, clock: Clock, opts: { legacyRowsPerRun?: number } = {}): Promise<QuestionPrivacy> {
    return new QuestionPrivacy(
      await tables.table('FaqQuestions'),
      await tables.table('FaqFeedback'),
      await tables.table('FaqGapCards'),
      clock,
      opts.legacyRowsPerRun,
    );
  }

  /**
   * A person's questions and votes: one range read per day since the first question (retention keeps
   * that to RETENTION_DAYS), a few days at a time, never a scan of other people's rows.
   */
  async rowsOf(keys: readonly string[]): Promise<PersonsRows> {
    const first = await firstDay(this.questions);
    const out: PersonsRows = { asked: [], votes: [] };
    if (!first || !keys.length) return out;
    const ranges = keys.flatMap((k) =>
      [ASKED, VOTED].map((p) => odata`(RowKey ge ${`${p}${safeKey(k)}|`} and RowKey lt ${`${p}${safeKey(k)}}`})`),
    );
    await forEachDay(first, dayOf(this.clock.now()), async (day) => {
      const rows = await collect(
        this.questions.listEntities<{ helpful?: boolean; at?: string; withdrawn?: boolean }>({
          queryOptions: { filter: `${odata`PartitionKey eq ${day}`} and (${ranges.join(' or ')})` },
        }),
      );
      for (const r of rows) {
        const parsed = parseIndexKey(String(r.rowKey));
        // The range read can also match a longer key starting with this one: keep exact matches only.
        const personKey = parsed && keys.find((k) => safeKey(k) === parsed.person);
        if (!parsed || personKey === undefined) continue;
        const row: IndexedRow = { day, indexKey: String(r.rowKey), questionId: `${day}_${parsed.rk}`, personKey };
        if (parsed.kind === VOTED) {
          if (typeof r.helpful === 'boolean') row.helpful = r.helpful;
          if (r.at) row.at = String(r.at);
          out.votes.push(row);
        } else {
          if (r.withdrawn === true) row.withdrawn = true;
          out.asked.push(row);
        }
      }
    });
    return out;
  }

  /**
   * A question by id, or — withdrawn, kept for an undelete (`QuestionStore.withdraw`) — as it was kept, `withdrawn`:
   * theirs too.
   */
  async question(id: string): Promise<(AskedQuestion & { withdrawn: boolean }) | undefined> {
    const key = splitId(id);
    if (!key) return undefined;
    const asked = await readEntity<QuestionEntity>(this.questions, key.pk, key.rk);
    if (asked) return { ...fromEntity(asked), withdrawn: false };
    const kept = await readEntity<QuestionEntity>(this.questions, key.pk, `${WITHDRAWN}${key.rk}`);
    return kept ? { ...fromEntity({ ...kept, rowKey: key.rk }), withdrawn: true } : undefined;
  }

  /**
   * The question stays (the guidance's gaps are the organisation's), asked by `stand` instead; the index row
   * that tied it to the person goes, in the same transaction. A question already deleted: only the row goes.
   */
  async anonymiseAsker(row: IndexedRow, stand: { id: string; name: string }): Promise<void> {
    const rk = row.questionId.slice(row.day.length + 1);
    // Which Teams message it came from goes too: a digest of their chat and message would still tie it to them.
    const [asked, withdrawn] = await Promise.all([
      readEntity<QuestionEntity>(this.questions, row.day, rk),
      readEntity<QuestionEntity>(this.questions, row.day, `${WITHDRAWN}${rk}`),
    ]);
    const msg = asked?.msg;
    // A question they withdrew is not kept for an undelete of theirs any more: it goes, as a deleted question does,
    // with its lookup row and other people's votes on it (nothing is left pointing at it). Beside its question
    // (a withdrawal stopped half way) only the copy goes: the rest is the question's.
    if (withdrawn && !asked) await deleteQuestion({ questions: this.questions, feedback: this.feedback }, row.day, withdrawn, true);
    else if (withdrawn) {
      await deleteIfThere(this.questions, row.day, `${WITHDRAWN}${rk}`);
      await dropWithdrawalRows(this.questions, withdrawn, row.day, rk);
    }
    try {
      await this.questions.submitTransaction([
        ['update', { partitionKey: row.day, rowKey: rk, asker: JSON.stringify(stand), msg: '' }, 'Merge'],
        ['delete', { partitionKey: row.day, rowKey: row.indexKey }],
      ]);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await deleteIfThere(this.questions, row.day, row.indexKey);
    }
    if (msg) await deleteIfThere(this.questions, row.day, messageKey(msg, rk));
  }

  /**
   * The undelete window (`UNDELETE_DAYS`), whatever RETENTION_DAYS is: deletes up to `limit` withdrawn questions
   * withdrawn before it, with their lookup, asker's and vote rows, as a deleted question goes. Bounded: in each of the
   * day partitions that have crossed the window lately (`UNDELETE_SWEEP_DAYS`), one `x|` range read (the copies
   * withdrawn that day) and one `w|` range read (copies withdrawn before their withdrawal time was kept: by the day
   * they were asked), no scan of old days. The `w|` reads are `sweepLegacy`'s: at most `legacyRowsPerRun` rows a run.
   */
  async sweepExpired(now: Date, limit: number): Promise<number> {
    const edge = new Date(now.getTime() - UNDELETE_DAYS * DAY_MS);
    const days: string[] = [];
    for (let d = UNDELETE_SWEEP_DAYS; d >= 0; d--) days.push(dayOf(new Date(edge.getTime() - d * DAY_MS)));
    let deleted = 0;
    for (const day of days) {
      if (deleted >= limit) break;
      const due = await collect(
        this.questions.listEntities<{ at?: string; msg?: string }>({
          queryOptions: { filter: odata`PartitionKey eq ${day} and RowKey ge ${TO_SWEEP} and RowKey lt ${'x}'} and at lt ${edge.toISOString()}` },
        }),
        limit - deleted,
      );
      for (const m of due) {
        const [qDay = '', rk = ''] = String(m.rowKey).slice(TO_SWEEP.length).split('|');
        const e = await readEntity<QuestionEntity>(this.questions, qDay, `${WITHDRAWN}${rk}`);
        // Undeleted, forgotten or gone with its day: nothing to sweep. Withdrawn again since: its own rows end it. Never
        // written (the withdrawal found its question gone, or gave up): the lookup row it left that day goes too.
        const msg = e?.msg || (typeof m.msg === 'string' ? m.msg : '');
        if (e && undeleteEndsAt(e) <= now.getTime()) {
          await this.expireCopy(qDay, e);
          deleted++;
        } else if (msg && day !== qDay) await deleteIfThere(this.questions, day, messageKey(msg, rk));
        await deleteIfThere(this.questions, day, String(m.rowKey));
      }
    }
    if (deleted < limit) deleted += await this.sweepLegacy(days, edge, limit - deleted);
    return deleted;
  }

  /**
   * Copies withdrawn before their withdrawal time was kept (`w|` rows without `withdrawnAt`, by the day they were asked)
   * on the swept `days`, oldest first. At most `legacyRowsPerRun` `w|` rows are read a run, the current copies read past
   * included (their `x|` rows end them): counting only the legacy ones found let a day of many current copies make one
   * run read them all. The next run goes on after the last row handled (`legacyFrom`), or from the start once every
   * swept day was read through. The place is kept in memory: the expiry job runs on the instance holding its lease, and
   * one taking the lease over starts from the first swept day (reading some rows again, skipping none).
   */
  private async sweepLegacy(days: readonly string[], edge: Date, limit: number): Promise<number> {
    const at = this.legacyFrom ? days.indexOf(this.legacyFrom.day) : -1;
    // A place on a day that has left the swept days since: from the start.
    let after = at >= 0 ? this.legacyFrom?.after : undefined;
    let rows = this.legacyRowsPerRun;
    let deleted = 0;
    for (let i = Math.max(0, at); i < days.length; i++, after = undefined) {
      const day = days[i]!;
      for (let more = true; more; ) {
        if (rows <= 0 || deleted >= limit) {
          this.legacyFrom = { day, ...(after ? { after } : {}) };
          return deleted;
        }
        const from = after ? odata`RowKey gt ${after}` : odata`RowKey ge ${WITHDRAWN}`;
        const filter = `${odata`PartitionKey eq ${day}`} and ${from} and ${odata`RowKey lt ${'w}'} and askedAt lt ${edge.toISOString()}`}`;
        const page = await firstPage(this.questions, filter, Math.min(1000, rows));
        // An empty page that says more follow (a storage timeout) counts as a row: the loop ends whatever the store answers.
        rows -= page.rows.length || (page.more ? 1 : 0);
        more = page.more;
        for (const e of page.rows) {
          if (deleted >= limit) {
            // Handled up to `after`: the rest of this page is read again next run.
            more = true;
            break;
          }
          if (!e.withdrawnAt) {
            await this.expireCopy(day, e);
            deleted++;
          }
          after = e.rowKey;
        }
      }
    }
    this.legacyFrom = undefined;
    return deleted;
  }

  /** A withdrawn question's copy whose undelete window has ended. */
  private async expireCopy(day: string, e: QuestionEntity): Promise<void> {
    const rk = String(e.rowKey).slice(WITHDRAWN.length);
    // Beside its question (a withdrawal stopped half way) only the copy goes: the rest is the question's.
    if (await readEntity(this.questions, day, rk)) {
      await deleteIfThere(this.questions, day, String(e.rowKey));
      await dropWithdrawalRows(this.questions, e, day, rk);
    } else await deleteQuestion({ questions: this.questions, feedback: this.feedback }, day, e, true);
  }

  /** A vote goes (the question's counts stay: they hold no one's name), then its index row. */
  async dropVote(row: IndexedRow): Promise<void> {
    await deleteIfThere(this.feedback, row.questionId, row.personKey);
    await deleteIfThere(this.questions, row.day, besideKey(row.questionId.slice(row.day.length + 1), row.personKey));
    await deleteIfThere(this.questions, row.day, row.indexKey);
  }

  /**
   * Retention: deletes up to `limit` questions asked before `before`, with their votes and index rows.
   * Whole days before `before`'s day go by partition (oldest first); on that day itself, question by question.
   */
  async expireBefore(before: Date, limit: number): Promise<number> {
    const day = before.toISOString().slice(0, 10);
    let deleted = 0;
    const old = await collect(
      this.questions.listEntities({ queryOptions: { filter: odata`PartitionKey lt ${day}`, select: ['PartitionKey', 'RowKey'] } }),
      limit,
    );
    const byDay = new Map<string, string[]>();
    for (const r of old) byDay.set(String(r.partitionKey), [...(byDay.get(String(r.partitionKey)) ?? []), String(r.rowKey)]);
    for (const [pk, keys] of byDay) {
      // The day's votes first (a question id starts with its day), so none is left pointing at nothing.
      const votes = await collect(
        this.feedback.listEntities({ queryOptions: { filter: odata`PartitionKey ge ${`${pk}_`} and PartitionKey lt ${`${pk}\``}`, select: ['PartitionKey', 'RowKey'] } }),
      );
      for (const v of votes) await deleteIfThere(this.feedback, String(v.partitionKey), String(v.rowKey));
      for (let i = 0; i < keys.length; i += 100) {
        await this.questions.submitTransaction(keys.slice(i, i + 100).map((rowKey) => ['delete', { partitionKey: pk, rowKey }]));
      }
      deleted += keys.filter((k) => k < 'a').length;
    }
    if (deleted >= limit) return deleted;
    const due = await collect(
      this.questions.listEntities<QuestionEntity>({
        queryOptions: { filter: `${odata`PartitionKey eq ${day} and askedAt lt ${before.toISOString()}`} and ${QUESTION_ROWS}` },
      }),
      limit - deleted,
    );
    for (const q of due) {
      await deleteQuestion({ questions: this.questions, feedback: this.feedback }, day, q);
      deleted++;
    }
    if (deleted >= limit) return deleted;
    return deleted + (await this.expireGapCards(before, limit - deleted));
  }

  /**
   * Gap cards' redraw counters last drawn before `before`. Every question such a card showed was asked before
   * then, so it has gone (or goes) with them, with the days' claims that led to the card: no question can reach
   * that card again, and its counter would otherwise stay for ever (one row per card ever posted).
   */
  private async expireGapCards(before: Date, limit: number): Promise<number> {
    const old = await collect(
      this.cards.listEntities({
        queryOptions: { filter: odata`PartitionKey eq ${CARD_VERSIONS} and at lt ${before.toISOString()}`, select: ['PartitionKey', 'RowKey'] },
      }),
      limit,
    );
    for (const r of old) await deleteIfThere(this.cards, CARD_VERSIONS, String(r.rowKey));
    return old.length;
  }

}

const indexKey = (kind: typeof ASKED | typeof VOTED, person: string, questionRk: string) => `${kind}${safeKey(person)}|${questionRk}`;

/** One message logs one question (an edit replaces it): a few rows at most, read whole. */
const MESSAGE_QUESTIONS_MAX = 20;
/**
 * How far back `fromMessage` looks past the days the message's id names: an edit's question is logged on the day
 * of the edit, and an edit a month on is rare enough to be left (the question stays, as any unedited one does).
 */
const MESSAGE_LOOKBACK_DAYS = 30;
const MESSAGE_DAYS_AT_ONCE = 5;

/** When a withdrawn copy's undelete window ends (ms): `UNDELETE_DAYS` after it was withdrawn, or, kept before that
 * time was recorded, after it was asked. */
function undeleteEndsAt(copy: Pick<QuestionEntity, 'withdrawnAt' | 'askedAt'>): number {
  return Date.parse(copy.withdrawnAt ?? copy.askedAt) + UNDELETE_DAYS * DAY_MS;
}

/** A delete or undelete stamped `event` is older than the last one the row records: a late retry, stale. */
function isStale(row: Pick<QuestionEntity, 'changedAt'>, event: string): boolean {
  return row.changedAt !== undefined && Date.parse(row.changedAt) > Date.parse(event);
}

/** The key a Teams message is found by: a digest of where and which (see `messageKeyOf` in src/teams). */
const messageDigest = (message: string) => createHash('sha256').update(message).digest('hex').slice(0, 32);
const messageKey = (digest: string, questionRk: string) => `${MESSAGE}${digest}|${questionRk}`;

/**
 * The day a message was sent, as its key (`<chat>|<message id>`, see `messageKeyOf`) tells it: in Teams chats and
 * channels a message's id is its creation time in epoch milliseconds. A hint only (undefined for any other id).
 */
function sentAtOf(message: string): Date | undefined {
  const id = message.slice(message.lastIndexOf('|') + 1);
  if (!/^\d{13}$/.test(id)) return undefined;
  const at = new Date(Number(id));
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/**
 * A question and what hangs on it: its votes (the voters' index rows, FaqFeedback), its asker's index row, the row
 * that finds it from its message. The question row goes first: a failure after it leaves rows that point at
 * nothing (deleted with their day by retention), never a question still listed; those naming a voter are left so
 * that forgetting the voter still finds them (see below). `kept`: `q` is a withdrawn
 * question's copy (`w|<RK>`), and that copy is the row that goes.
 */
async function deleteQuestion(
  t: { questions: TableClient; feedback: TableClient },
  day: string,
  q: QuestionEntity,
  kept = false,
): Promise<void> {
  const rk = kept ? q.rowKey.slice(WITHDRAWN.length) : q.rowKey;
  const id = `${day}_${rk}`;
  await deleteIfThere(t.questions, day, q.rowKey);
  // Its votes: by the rows beside it, and by FaqFeedback for votes from before those rows.
  const beside = `${VOTE_BESIDE}${rk}|`;
  const [besideRows, feedbackRows] = await Promise.all([
    collect(t.questions.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${day} and RowKey ge ${beside} and RowKey lt ${`${VOTE_BESIDE}${rk}}`}`, select: ['RowKey'] } })),
    collect(t.feedback.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${id}`, select: ['RowKey'] } })),
  ]);
  const besideOf = new Set(besideRows.map((r) => String(r.rowKey).slice(beside.length)));
  const feedbackOf = new Map<string, string[]>();
  for (const v of feedbackRows) {
    const person = safeKey(String(v.rowKey));
    feedbackOf.set(person, [...(feedbackOf.get(person) ?? []), String(v.rowKey)]);
  }
  // Voter by voter, their `v|` row last: a delete cut short (nothing retries it, the question has gone) leaves the
  // `v|` row, which forgetting the voter finds (`rowsOf`) and takes the rest with (`dropVote`), never a row naming
  // them that nothing finds.
  for (const person of new Set([...besideOf, ...feedbackOf.keys()])) {
    for (const key of feedbackOf.get(person) ?? []) await deleteIfThere(t.feedback, id, key);
    if (besideOf.has(person)) await deleteIfThere(t.questions, day, `${beside}${person}`);
    await deleteIfThere(t.questions, day, `${VOTED}${person}|${rk}`);
  }
  const asker = fromEntity(q).asker;
  await deleteIfThere(t.questions, day, indexKey(ASKED, asker.aadObjectId ?? asker.id, rk));
  if (q.msg) await deleteIfThere(t.questions, day, messageKey(q.msg, rk));
  if (kept) await dropWithdrawalRows(t.questions, q, day, rk);
}

/**
 * The rows `withdraw` wrote on the day a copy was withdrawn (the sweep's, and the lookup from its message when that
 * is another day than the question's), once the copy has gone or is back as a question.
 */
async function dropWithdrawalRows(questions: TableClient, copy: Pick<QuestionEntity, 'withdrawnAt' | 'msg'>, day: string, rk: string): Promise<void> {
  if (!copy.withdrawnAt) return;
  const withdrawn = dayOf(new Date(copy.withdrawnAt));
  await deleteIfThere(questions, withdrawn, `${TO_SWEEP}${day}|${rk}`);
  if (copy.msg && withdrawn !== day) await deleteIfThere(questions, withdrawn, messageKey(copy.msg, rk));
}

function parseIndexKey(rk: string): { kind: typeof ASKED | typeof VOTED; person: string; rk: string } | undefined {
  const kind = rk.startsWith(ASKED) ? ASKED : rk.startsWith(VOTED) ? VOTED : undefined;
  const cut = rk.lastIndexOf('|');
  if (!kind || cut <= kind.length) return undefined;
  return { kind, person: rk.slice(kind.length, cut), rk: rk.slice(cut + 1) };
}

function splitId(id: string): { pk: string; rk: string } | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})_([0-9a-f]{13,40})$/.exec(id);
  return m?.[1] && m[2] ? { pk: m[1], rk: m[2] } : undefined;
}

/** The row of `question`, logged from `message` (none: asked in no message that can be deleted or edited). */
function toEntity(q: AskedQuestion, message?: string): QuestionEntity {
  const key = splitId(q.id)!;
  const e: QuestionEntity = {
    partitionKey: key.pk,
    rowKey: key.rk,
    question: q.question,
    asker: JSON.stringify(q.asker),
    askedAt: q.askedAt,
    answered: q.answered,
    helpful: q.helpful,
    notHelpful: q.notHelpful,
  };
  if (message !== undefined) e.msg = messageDigest(message);
  if (q.sectionId) e.sectionId = q.sectionId;
  if (q.answeredLaterAt) e.answeredLaterAt = q.answeredLaterAt;
  if (q.thread) e.thread = q.thread;
  return e;
}

function fromEntity(e: QuestionEntity): AskedQuestion {
  const q: AskedQuestion = {
    id: `${e.partitionKey}_${e.rowKey}`,
    question: e.question,
    asker: JSON.parse(e.asker) as Actor,
    askedAt: e.askedAt,
    answered: e.answered,
    helpful: e.helpful ?? 0,
    notHelpful: e.notHelpful ?? 0,
  };
  if (e.sectionId) q.sectionId = e.sectionId;
  if (e.answeredLaterAt) q.answeredLaterAt = e.answeredLaterAt;
  if (e.thread) q.thread = e.thread;
  return q;
}

/** Up to `n` rows of a query, read a page at a time (no page larger than needed). */
async function take(client: TableClient, filter: string, n: number): Promise<QuestionEntity[]> {
  const out: QuestionEntity[] = [];
  for await (const page of client.listEntities<QuestionEntity>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(1000, n) })) {
    out.push(...page);
    if (out.length >= n) break;
  }
  return out.slice(0, n);
}

/** One page of a query (at most `size` rows, one storage call); `more`: rows past it match too. */
async function firstPage(client: TableClient, filter: string, size: number): Promise<{ rows: QuestionEntity[]; more: boolean }> {
  const first = await client.listEntities<QuestionEntity>({ queryOptions: { filter } }).byPage({ maxPageSize: size }).next();
  return first.done ? { rows: [], more: false } : { rows: first.value, more: Boolean(first.value.continuationToken) };
}

/** Rows of day partitions, newest day first (within a day they already are newest first). */
function newestFirst(rows: QuestionEntity[]): QuestionEntity[] {
  return rows.sort((a, b) => (a.partitionKey < b.partitionKey ? 1 : a.partitionKey > b.partitionKey ? -1 : 0));
}
