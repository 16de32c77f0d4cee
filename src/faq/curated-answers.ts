import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimit } from '../map-limit.js';
import { isPseudonym } from '../privacy/pseudonym.js';
import type { Actor } from '../roles/roles.js';
import {
  type CuratedActor,
  type CuratedAnswer,
  type CuratedInput,
  type CuratedResult,
  type CuratedStore,
  checkInput,
  curatedSection,
  exportMarkdown,
  mayCurate,
  TELL_WITHIN_DAYS,
} from './curated.js';
import type { GuidanceSection } from './docs/types.js';
import { findGapGroup, groupGaps, questionTerms, similarity, withCardKeys } from './gaps.js';
import type { AskedQuestion, QuestionStore } from './questions.js';

/** Someone to tell, 1:1, that their question now has a champion's answer. */
export interface Recipient {
  asker: Actor;
  /** Their own wording, shown above the answer. */
  question: string;
  questionId: string;
}

export interface CuratedOutcome {
  result: CuratedResult;
  /**
   * Who must be told now: of a new answer (each claimed once across instances), or of a changed one. A Save of
   * the same answer pressed again also names those an earlier press claimed: their 1:1 carries the same key, so
   * the outbox sends it once, and one the earlier turn never queued (it stopped part-way) is sent now.
   */
  tell: Recipient[];
  /**
   * An edit's Save of what the answer already said, with no correction owed: nothing changed, nobody is told.
   * `repeated`: it is the Save that made this text pressed again (its card is at the version before), and the
   * corrections that press owed were all queued already; `unchanged` otherwise (a card drawn since). For "Send the
   * answer", `repeated`: pressed again after the first press's 1:1s were all queued (`tell` names only askers
   * found since).
   */
  unchanged?: true;
  repeated?: true;
  /**
   * A new answer (or its Save pressed again): the month holds more questions than the turn read, so more askers may
   * be found; the turn starts `CuratedTellJobs` to look through the rest off the turn.
   */
  more?: true;
  /**
   * An edit's corrections: more were sent an earlier text than the turn read (`tell` names the first page of them);
   * where the rest are read from. The turn starts `CuratedTellJobs.beginCorrections` to send them off the turn.
   */
  correctFrom?: string;
}

/** The latest forget of any of these keys made after something was kept at `kept` (ForgottenKeys.since), if any. */
export type ForgottenSince = (ids: readonly string[], kept: Date) => Promise<object | undefined>;

export interface CuratedOptions {
  /**
   * At most this many of the newest gap questions of the last 30 days are read when an answer is saved, and at
   * most this many of the newest questions the guidance answered.
   */
  tellScanRows?: number;
  /** Of those sent an earlier text, at most this many are corrected inside the edit's turn (default 1,000). */
  retoldInTurn?: number;
}

/** What the champion's card knew of the gap: its questions, as the server's view grouped them. */
export interface GapQuestions {
  questionIds?: readonly string[];
}

/**
 * Champions' curated answers: the operations the Teams layer calls (answer, edit, retire, list,
 * export, who must be told), each taking plain values and the role the server looked up. Keeps
 * the active answers as sections for the engine, and calls `onChange` so the index is rebuilt.
 */
export class CuratedAnswers {
  private sections: GuidanceSection[] = [];
  private byId = new Map<string, CuratedAnswer>();
  private signature: string | undefined;
  private guidanceSeen: GuidanceSection[] | undefined;

  constructor(
    private readonly store: CuratedStore,
    private readonly questions: QuestionStore,
    private readonly guidance: () => GuidanceSection[],
    private readonly onChange: () => void = () => {},
    private readonly options: CuratedOptions = {},
  ) {}

  /** The active answers as engine sections (what the index is built with, next to the guidance). */
  engineSections(): GuidanceSection[] {
    return this.sections;
  }

  /** Any answer by id, active or retired (to edit it). */
  get(id: string): Promise<CuratedAnswer | undefined> {
    return this.store.get(id);
  }

  /** An active answer by id (to render a curated hit). */
  activeAnswer(id: string): CuratedAnswer | undefined {
    return this.byId.get(id);
  }

  /** Reloads the active answers from the store (at start, and after any change by any instance). */
  async refresh(): Promise<void> {
    const active = await this.store.active();
    const guidance = this.guidance();
    // Unchanged since the last look (the usual case on a timer): no index rebuild. The author is part of it:
    // `forget` anonymises an author without a new version, and a cached name would go on being cited. So is the
    // guidance (a reload replaces its list): an answer pointing at a section takes that section's text.
    const signature = active.map((a) => `${a.id}:${a.version}:${a.author.id}`).sort().join(',');
    if (signature === this.signature && guidance === this.guidanceSeen) return;
    this.signature = signature;
    this.guidanceSeen = guidance;
    const sections = new Map(guidance.map((s) => [s.id, s]));
    // An answer pointing at a section the guidance no longer has would be given as an empty answer: left out
    // until a champion points it elsewhere (the `curated` list and the export still show it).
    const usable = active.filter((a) => !a.sectionId || sections.has(a.sectionId));
    this.byId = new Map(usable.map((a) => [a.id, a]));
    this.sections = usable.map((a) => curatedSection(a, a.sectionId ? sections.get(a.sectionId) : undefined));
    this.onChange();
  }

  /**
   * A champion answers a gap (an unanswered or "not helpful" question, or a whole group of them):
   * stores the answer and returns who must be told.
   */
  async answerFromChampion(by: CuratedActor, input: CuratedInput, gap: GapQuestions = {}): Promise<CuratedOutcome> {
    if (!mayCurate(by.role)) return { result: forbidden(), tell: [] };
    const problem = checkInput(input, (id) => this.guidance().some((s) => s.id === id));
    if (problem) return { result: { ok: false, reason: 'invalid', message: problem }, tell: [] };
    const id = this.store.newId();
    // One answer per gap: a second champion (or a second click) is shown the answer already given.
    const holder = input.groupId ? await this.store.claimGroup(input.groupId, id) : undefined;
    if (holder) {
      const current = await this.answerOf(holder);
      // The same Save pressed again (a double click, or again after Teams gave up on a slow turn), or the same
      // text saved by another champion at once: saved, and the askers named again (see `CuratedOutcome.tell`).
      if (current && sameSave(current, input)) {
        // This instance may not have reloaded the answers since another wrote it: the 1:1s are drawn from its engine.
        await this.refresh();
        // The first press recorded its 1:1s as queued: only askers claimed by this press are named (nobody twice).
        // Not recorded (it stopped part-way, or is still running): everyone claimed is named again, under the same keys.
        const sent = (current.toldVersion ?? 0) >= current.version;
        const found = await this.firstAskers(current, { ...gap, again: !sent });
        return {
          result: { ok: true, answer: current },
          tell: found.tell,
          ...(sent ? { repeated: true as const } : {}),
          ...(found.more ? { more: true as const } : {}),
        };
      }
      const who = current?.author.name ?? 'Another champion';
      return {
        result: {
          ok: false,
          reason: 'conflict',
          message: `${who} already answered this question. Type "curated" to see or edit the answer.`,
          ...(current ? { current } : {}),
        },
        tell: [],
      };
    }
    let answer: CuratedAnswer;
    try {
      answer = await this.store.create(
        {
          ...input,
          question: input.question.trim(),
          variants: [...new Set((input.variants ?? []).map((v) => v.trim()).filter((v) => v && v !== input.question.trim()))],
        },
        by.actor,
        id,
      );
    } catch (err) {
      if (input.groupId) await this.store.releaseGroup(input.groupId, id).catch(() => {});
      throw err;
    }
    await this.refresh();
    const found = await this.firstAskers(answer, gap);
    return { result: { ok: true, answer }, tell: found.tell, ...(found.more ? { more: true as const } : {}) };
  }

  /**
   * The answer that holds a gap: a claim is made just before its answer is written, so a press racing the one
   * writing it waits a moment for the answer rather than calling it someone else's.
   */
  private async answerOf(id: string): Promise<CuratedAnswer | undefined> {
    let current = await this.store.get(id);
    for (let i = 0; !current && i < HOLDER_READS; i++) {
      await sleep(HOLDER_PAUSE_MS);
      current = await this.store.get(id);
    }
    return current;
  }

  /**
   * A champion changes an answer's text or section; `tell` is everyone already sent an earlier text (a
   * correction matters most to whoever acted on the old one), empty when the press changed nothing.
   */
  async edit(
    by: CuratedActor,
    id: string,
    version: number,
    change: Pick<CuratedInput, 'answer' | 'sectionId'>,
  ): Promise<CuratedOutcome> {
    const refused = (result: Extract<CuratedResult, { ok: false }>): CuratedOutcome => ({ result, tell: [] });
    if (!mayCurate(by.role)) return refused(forbidden());
    const current = await this.store.get(id);
    if (!current) return refused({ ok: false, reason: 'not-found', message: 'That curated answer no longer exists.' });
    // Editing would not bring it back: saying "saved" would tell the champion the bot gives it.
    if (current.status === 'retired') {
      return refused({ ok: false, reason: 'invalid', message: 'This answer was retired, so the bot no longer gives it. Answer the question afresh from "gaps".' });
    }
    const problem = checkInput({ question: current.question, ...change }, (sid) =>
      this.guidance().some((s) => s.id === sid),
    );
    if (problem) return refused({ ok: false, reason: 'invalid', message: problem });
    // What the answer already says: nothing is written.
    if (sameText(current, change)) return this.savedAlready(current, version);
    const result = await this.store.update(id, version, change);
    if (!result.ok) {
      const now = result.current;
      // Another press of the same Save (or the same text saved by another champion at once) got there first.
      if (result.reason === 'conflict' && now?.status === 'active' && sameText(now, change)) return this.savedAlready(now, version);
      return refused(result);
    }
    await this.refresh();
    return { result, ...(await this.whoWasTold(result.answer)) };
  }

  /**
   * An edit's Save of the text `current` already has. When the corrections of this version are not recorded as all
   * queued (the turn of the edit that made it stopped part-way), from any card: those sent an earlier version are
   * named again for this one, so the turn queues their corrections under the same keys (the outbox sends each once);
   * whoever was first sent this text is not "corrected". Otherwise nobody is named: the Save that made the text
   * pressed again (`repeated`), or a Save that changed nothing (`unchanged`).
   */
  private async savedAlready(current: CuratedAnswer, cardVersion: number): Promise<CuratedOutcome> {
    const result = { ok: true as const, answer: current };
    const repeat = cardVersion + 1 === current.version && current.version > 1;
    if (!correctionsOwed(current, repeat)) return { result, tell: [], ...(repeat ? { repeated: true as const } : { unchanged: true as const }) };
    // The corrections are drawn from this instance's engine, which may not have reloaded the edit yet.
    await this.refresh();
    return { result, ...(await this.whoWasTold(current)) };
  }

  /**
   * The 1:1s of `answer` at its version (a new answer's to those who asked, or an edit's corrections, as named in
   * `tell`) are all queued: a later press of the same Save owes nobody anything. Called by the turn after it queued them.
   */
  correctionsQueued(answer: CuratedAnswer): Promise<void> {
    return this.store.markTold(answer.id, answer.version);
  }

  async retire(by: CuratedActor, id: string, version: number): Promise<CuratedResult> {
    if (!mayCurate(by.role)) return forbidden();
    const result = await this.store.update(id, version, { status: 'retired' });
    if (!result.ok) return result;
    // The gap may be answered afresh.
    if (result.answer.groupId) await this.store.releaseGroup(result.answer.groupId, id);
    await this.refresh();
    return result;
  }

  /** The `curated` list, a page at a time (champions and the rollout team). */
  async list(
    by: CuratedActor,
    options: { status?: 'active' | 'retired'; next?: string; size?: number } = {},
  ): Promise<{ ok: true; items: CuratedAnswer[]; next?: string } | Extract<CuratedResult, { ok: false }>> {
    if (!mayCurate(by.role)) return forbidden();
    return { ok: true, ...(await this.store.page(options)) };
  }

  /** Active answers as markdown ready to paste into the guidance (the rollout team only). */
  async export(by: CuratedActor): Promise<{ ok: true; markdown: string; answers: number } | Extract<CuratedResult, { ok: false }>> {
    if (by.role !== 'rolloutTeam') {
      return { ok: false, reason: 'forbidden', message: 'Only the rollout team can export curated answers.' };
    }
    const sections = new Map(this.guidance().map((s) => [s.id, s]));
    const active = await this.store.active();
    return { ok: true, markdown: exportMarkdown(active, (id) => sections.get(id)?.markdown), answers: active.length };
  }

  /**
   * The askers of this question and of the same question in other words, in the last 30 days, who have not been
   * told yet: the gap's own questions (`gap.questionIds`, as the card's view grouped them) and, among the newest
   * gap questions of the month (at most `tellScanRows`, as the `gaps` list reads), those of its group or worded
   * alike, and among the newest questions of the month the guidance answered (at most `tellScanRows` more),
   * those worded alike. Bounded work inside the champion's turn: reading every question of the month grew with
   * the rollout past Teams' 15 s. Each person is claimed once per answer (across instances); with `again` (the same Save
   * pressed again) those already claimed for this answer are named too. A claim is
   * kept once made: the 1:1 goes through the outbox, which retries a failed send under the person's key, and a
   * turn that stopped before queueing it is made good by the Save pressed again. `more`: the month holds
   * questions past the rows the turn read; those are looked through off the turn, a page at a time
   * (`CuratedTellJobs`, with `askersIn`).
   */
  async firstAskers(answer: CuratedAnswer, opts: GapQuestions & { again?: boolean } = {}): Promise<{ tell: Recipient[]; more: boolean }> {
    const since = new Date(Date.parse(this.questions.now()) - TELL_WITHIN_DAYS * 86_400_000).toISOString();
    const limit = this.options.tellScanRows ?? TELL_SCAN_ROWS;
    const [{ questions: newest, more: moreGaps }, { questions: answered, more: moreAnswered }, claims] = await Promise.all([
      this.questions.recentGaps(TELL_WITHIN_DAYS, { limit }),
      // Those the guidance answered (no Not helpful vote) are in no gap, but asked the same in other words may
      // still be told, as they were before this read was bounded: read apart, so they never crowd out the gaps.
      this.questions.recentAnswered(TELL_WITHIN_DAYS, { limit }),
      this.questions.gapClaims(TELL_WITHIN_DAYS),
    ]);
    const read = new Set(newest.map((q) => q.id));
    const own = [...new Set(opts.questionIds ?? [])].slice(0, MAX_GAP_QUESTIONS);
    // The gap's questions older than the newest rows read: one point read each (the card's view listed them).
    const older = (await mapLimit(own.filter((id) => !read.has(id)), CLAIMS_AT_ONCE, (id) => this.questions.get(id))).filter(
      (q): q is AskedQuestion => q !== undefined && q.askedAt >= since,
    );
    const recent = [...newest, ...older, ...answered.filter((q) => !read.has(q.id))];
    const wordings = [answer.question, ...answer.variants].map(questionTerms);
    // Grouped once, not once per question: a month of open questions made that minutes of CPU in a turn.
    const inGroup = new Set([
      ...own,
      ...(answer.groupId === undefined ? [] : (findGapGroup(withCardKeys(groupGaps(newest), claims), answer.groupId)?.questionIds ?? [])),
    ]);
    const same = recent.filter(
      (q) => inGroup.has(q.id) || wordings.some((terms) => similarity(terms, questionTerms(q.question)) >= SAME_QUESTION),
    );
    return { tell: (await this.claim(answer, same, opts.again === true)).named, more: moreGaps || moreAnswered };
  }

  /**
   * Of one page of the month's questions (read off the turn), those asking the same as `answer` in other words, claimed
   * for it: `named`, those claimed now (with `again`, also those claimed before: a page done again after its instance
   * stopped part-way, whose 1:1s go under the same keys), and how many were claimed now (`fresh`).
   *
   * The page was read a while before these claims: a forget landing in between anonymised the rows after the read and
   * released this answer's records before the claim made one. So each named asker is looked for among the forgotten
   * (`forgotten`) after the claim, and one forgotten since their question is neither named nor left claimed. Looked
   * for after it, this misses no forget: one recorded later (a forget records the person before the FAQ's part of it
   * runs) gathers its records after this claim, and deletes it.
   */
  async askersIn(answer: CuratedAnswer, page: readonly AskedQuestion[], again: boolean, forgotten: ForgottenSince): Promise<{ named: Recipient[]; fresh: number }> {
    const wordings = [answer.question, ...answer.variants].map(questionTerms);
    const same = page.filter((q) => wordings.some((terms) => similarity(terms, questionTerms(q.question)) >= SAME_QUESTION));
    return this.claim(answer, same, again, forgotten);
  }

  private async claim(answer: CuratedAnswer, same: AskedQuestion[], again: boolean, forgotten?: ForgottenSince): Promise<{ named: Recipient[]; fresh: number }> {
    const candidates: { key: string; told: Recipient; askedAt: string }[] = [];
    const seen = new Set<string>();
    // Oldest first: whoever waited longest is told first.
    for (const q of same.sort((a, b) => a.askedAt.localeCompare(b.askedAt))) {
      const key = q.asker.aadObjectId ?? q.asker.id;
      if (seen.has(key) || isPseudonym(key)) continue; // a forgotten asker is told nothing
      seen.add(key);
      candidates.push({ key, told: { asker: q.asker, question: q.question, questionId: q.id }, askedAt: q.askedAt });
    }
    // One storage write per asker, inside the champion's turn: a gap hundreds asked must not take them one by one.
    // A claim already there is this answer's (the row is keyed by it): named again only for a repeated Save.
    // The claim records the version sent, so an edit's repeated Save corrects only those sent an earlier one.
    const claimed = await mapLimit(candidates, CLAIMS_AT_ONCE, (c) => this.store.claimNotice(answer.id, c.key, c.told, answer.version));
    const named = candidates.map((c, i) => ({ ...c, claimed: claimed[i] === true })).filter((c) => c.claimed || again);
    const gone = forgotten
      ? await mapLimit(named, CLAIMS_AT_ONCE, async (c) => {
          if (!(await forgotten([c.key, c.told.asker.id], new Date(c.askedAt)))) return false;
          await this.store.releaseNotice(answer.id, c.key);
          return true;
        })
      : [];
    const kept = named.filter((_, i) => !gone[i]);
    return { named: kept.map((c) => c.told), fresh: kept.filter((c) => c.claimed).length };
  }

  /**
   * Those first sent an earlier version of `answer` (to send them its corrected text after an edit), of one page of
   * its records (at most `size`, from `next`), each under their own wording where it was kept; a record from before
   * wordings were kept gets the answer's own question. Whoever was first sent this version already has its text. A
   * record from before versions were kept counts as an earlier version when made before this version was saved, or
   * in the same millisecond (which came first is not known: a correction repeating the text they have is better than
   * none when they have the old one). A forgotten person has no record left (`FaqPersonalData.forget` deletes them).
   * `correctFrom`: where the records past this page are read from (`CuratedTellJobs` sends those off the turn).
   */
  async correctionsOf(answer: CuratedAnswer, size: number, next?: string): Promise<{ tell: Recipient[]; correctFrom?: string }> {
    const page = await this.store.toldPage(answer.id, size, next);
    const earlier = page.rows.filter((r) => (r.version !== undefined ? r.version < answer.version : r.at === undefined || r.at <= answer.updatedAt));
    return {
      tell: earlier.map((r) => r.told ?? { asker: { id: r.userKey, name: '' }, question: answer.question, questionId: '' }),
      ...(page.next ? { correctFrom: page.next } : {}),
    };
  }

  /** The corrections an edit's turn sends itself: the first page of those sent an earlier text (see `correctionsOf`). */
  private whoWasTold(answer: CuratedAnswer): Promise<{ tell: Recipient[]; correctFrom?: string }> {
    return this.correctionsOf(answer, this.options.retoldInTurn ?? RETOLD_IN_TURN);
  }
}

/** Askers claimed at once when an answer is written (each claim is one table write). */
const CLAIMS_AT_ONCE = 16;

/** The newest gap questions of the month read when an answer is saved (as one view of `gaps` reads), and answered ones. */
const TELL_SCAN_ROWS = 2000;

/** At most this many of the gap's own questions are read by id (a view of `gaps` groups at most 2,000). */
const MAX_GAP_QUESTIONS = 2000;

/** A gap claimed a moment ago has its answer written within a second or two: looked for this often, this far apart. */
const HOLDER_READS = 10;
const HOLDER_PAUSE_MS = 200;

/** Of those sent an earlier text, at most this many are corrected inside the edit's turn (one page read); the rest off it. */
const RETOLD_IN_TURN = 1000;

/** Two wordings count as the same question at this share of shared content words (as in `gaps`). */
const SAME_QUESTION = 0.5;

/**
 * Whether corrections of `answer`'s current version may not all have been queued: its record says so, or (an answer
 * last edited before that was recorded) `repeat`, the Save that made it pressed again, as before it was recorded.
 */
function correctionsOwed(answer: CuratedAnswer, repeat: boolean): boolean {
  if (answer.version <= 1) return false;
  return answer.toldVersion === undefined ? repeat : answer.toldVersion < answer.version;
}

/** An edit to what the answer already says: its text, or the section it points to. */
function sameText(current: CuratedAnswer, change: Pick<CuratedInput, 'answer' | 'sectionId'>): boolean {
  return (current.answer ?? '') === (change.answer?.trim() ?? '') && (current.sectionId ?? '') === (change.sectionId?.trim() ?? '');
}

/** A press saving what the gap's answer already says: the same written text, or the same section. */
function sameSave(current: CuratedAnswer, input: CuratedInput): boolean {
  return current.status === 'active' && current.groupId === input.groupId && sameText(current, input);
}

function forbidden(): Extract<CuratedResult, { ok: false }> {
  return { ok: false, reason: 'forbidden', message: 'Only champions and the rollout team can curate answers.' };
}
