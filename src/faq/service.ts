import { createHash } from 'node:crypto';
import { escapeText } from '../cards/template.js';
import { oneLine } from '../text/one-line.js';
import { isStopWord } from '../text/stopwords.js';
import type { Actor } from '../roles/roles.js';
import type { ModelAnswerer } from './ai/answerer.js';
import type { GuidanceLibrary } from './docs/library.js';
import type { GuidanceSection } from './docs/types.js';
import { type FaqIndex, looksNotEnglish, search } from './engine/index.js';
import { type CuratedAnswer, CURATED_DOC, citation } from './curated.js';
import { sectionExcerpt } from './docs/excerpt.js';
import { bestPassage } from './engine/passage.js';
import {
  decodePlace,
  encodePlace,
  type GapCardVersion,
  type GapClaim,
  type GapGroup,
  type GapPlace,
  groupGaps,
  pageOfGaps,
  placeOf,
  sortGaps,
  summariseGap,
  withCardKeys,
} from './gaps.js';
import type { AskedQuestion, QuestionStore } from './questions.js';

export interface SourceRef {
  sectionId: string;
  docTitle: string;
  heading: string;
  /** GUIDANCE_BASE_URL + path + anchor, when a base URL is configured. */
  url?: string;
}

export type FaqAnswer =
  | {
      kind: 'answer';
      questionId: string;
      question: string;
      /** The passage that answers (or the model's short answer, written only from the cited sections). */
      text: string;
      source: SourceRef;
      related: SourceRef[];
      via: 'guidance' | 'model' | 'curated';
      /** The section goes on beyond `text`: the card says "more in the guidance", with the link. */
      cut?: boolean;
      /** Parts of the question the guidance doesn't cover (a half-covered question). */
      uncovered?: string[];
      /** The question was longer than the bot reads: only its first MAX_QUESTION characters were. */
      long?: boolean;
    }
  | { kind: 'not-covered'; questionId: string; question: string; long?: boolean }
  /**
   * Not answered, and written in another language than the guidance's (English): said so, and not recorded (no gap
   * in the guidance: the question may well be covered, in English).
   */
  | { kind: 'other-language'; questionId: ''; question: string; long?: boolean }
  /** A thank-you, a greeting, an emoji: nothing to answer, and nothing recorded (it is no gap in the guidance). */
  | { kind: 'no-question'; questionId: ''; question: string };

/**
 * The gaps as one read saw them, with the cards' claims of the days it read (`first`..`last`), so the card drawn for
 * one of them needs no second read of the claims (`FaqService.gapCard`).
 */
export interface GapView {
  groups: GapGroup[];
  claims: { first: string; last: string; byDay: ReadonlyMap<string, readonly GapClaim[]> };
}

/** A gap card to redraw: its group, in the view it was read in; `withdrawn`: none of its questions is left. */
export interface GapRedraw {
  group: GapGroup;
  view: GapView;
  withdrawn?: boolean;
}

/** What a withdrawal (`FaqService.withdraw`) took, or its undoing (`restore`) brought back, and the gap cards to draw. */
export interface Withdrawal {
  removed: number;
  restored?: number;
  redraw: GapRedraw[];
}

export interface NewlyAnswered {
  question: AskedQuestion;
  answer: Extract<FaqAnswer, { kind: 'answer' }>;
}

export interface FaqOptions {
  baseUrl?: string;
  model?: ModelAnswerer;
  /** How many candidate sections the model sees. */
  modelCandidates?: number;
  warn?: (details: object, msg: string) => void;
  /** Champions' curated answers, ranked with the guidance (see `CuratedAnswers`). */
  curated?: { activeAnswer(id: string): CuratedAnswer | undefined; showAuthor: boolean };
  /** At most this many questions are read for one view of the gaps (the newest of the window); see `recentGaps`. */
  gapScanRows?: number;
}

/** A page of the gaps list, as the champion's card shows it (see `FaqService.gapsList`). */
export interface GapsList {
  days: number;
  /** The view the list is drawn from (ISO): the next and previous pages are drawn from it too. */
  asOf: string;
  groups: GapGroup[];
  /** The place of the first gap shown (0-based), and how many gaps the view lists. */
  start: number;
  total: number;
  /** The cursors for Previous and Next ('' when there is no such page). */
  before: string;
  after: string;
  /** Why the list starts over (an older card, an unreadable one), '' otherwise. */
  note: string;
  /** Set when the window held more questions than one view reads: how many it read, back to when. */
  partial?: { read: number; since: string };
}

/**
 * What a press of `gaps`, or of a gaps card's button, asks for, as the client sent it (checked here): the days to
 * look back (1–90, default 14), an older card's page number (those cards paged by position), or the view (`at`)
 * and place (`after`, `before`) to page from.
 */
export interface GapsRequest {
  days?: unknown;
  page?: unknown;
  at?: unknown;
  after?: unknown;
  before?: unknown;
}

const GAPS_DAYS_DEFAULT = 14;
const GAPS_DAYS_MAX = 90;

export const GAPS_PAGE_SIZE = 8;
/** The newest questions one view of the gaps reads at most: grouping them stays well within a turn. */
const GAP_SCAN_ROWS = 2000;
/** How long a gaps card pages through the view it was drawn from; an older card starts over from the latest. */
const GAPS_VIEW_MS = 86_400_000;
const CLOCK_SKEW_MS = 5 * 60_000;

export const MAX_QUESTION = 500;
/** A gap card's redraw versions stay below an answered card's (1e9, `gapCardMessages`): answering outranks them. */
const MAX_GAP_VERSION = 999_999_999;
/**
 * Where the counter of a card claimed before redraws were counted starts: such a card was drawn at its group's
 * count (questions in the 14-day window), never near a million, so its first counted redraw is drawn.
 */
const UNCOUNTED_CARD_VERSION = 1_000_000;

/**
 * What a card was last drawn at: its own row, or — a card claimed by the code that kept its counter with each
 * day's claim, not yet redrawn since — the highest of those (also if higher than the row: an instance of that
 * code still running during an upgrade).
 */
function lastShown(row: GapCardVersion | undefined, claims: readonly GapClaim[]): GapCardVersion | undefined {
  const counted = claims
    .filter((c) => (c.v ?? 0) > 0)
    .reduce<GapClaim | undefined>((best, c) => ((c.v ?? 0) > (best?.v ?? 0) ? c : best), undefined);
  if (!counted || (row && row.v >= (counted.v ?? 0))) return row;
  return { v: counted.v ?? 0, n: counted.n ?? 0, h: counted.h ?? '', at: counted.at ?? '' };
}

/**
 * A question as the bot reads, stores and shows it back: on one line without direction controls (it is quoted in
 * the bot's own lines: "You asked: …", the champions' gap cards), cut to MAX_QUESTION characters — counted by
 * code point, so an emoji is never cut in half (a lone surrogate breaks the stored row and the card's JSON).
 * `long`: it was cut, and the asker is told so.
 */
export function readQuestion(question: string): { text: string; long: boolean } {
  const chars = [...oneLine(question).trim()];
  return { text: chars.slice(0, MAX_QUESTION).join('').trim(), long: chars.length > MAX_QUESTION };
}
/** A few hundred characters: enough to answer, short enough to read in a chat (search previews). */
const PASSAGE_CHARS = 450;
/** An answer shows the section's steps whole; only a section longer than this is cut. */
const ANSWER_CHARS = 1200;

/**
 * Words of a thank-you, a greeting or an acknowledgement (besides the stop words, which hold "thanks", "ok",
 * "hi"): a message made only of these, stop words, emoji and punctuation asks nothing.
 */
const SMALL_TALK = new Set(
  `great cool nice awesome perfect brilliant excellent super fine alright cheers bye goodbye morning afternoon
  evening good thx ty welcome noted understood worked works helped helpful lol haha`.split(/\s+/),
);

function asksSomething(text: string): boolean {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.some((w) => !isStopWord(w) && !SMALL_TALK.has(w) && (w.length > 1 || /\p{N}/u.test(w)));
}

/** Whether a question shows on the gaps list (unanswered, or with a Not helpful vote): only then is it on a card. */
const isGap = (q: AskedQuestion) => !q.answered || q.notHelpful > 0;

/** Whether `user` asked `q` (their Entra id, else their Teams id). */
const askedBy = (q: AskedQuestion, user: Actor) => (q.asker.aadObjectId ?? q.asker.id) === (user.aadObjectId ?? user.id);

/** The asker, or someone in the channel or group chat the answer was posted in. */
function mayUse(q: AskedQuestion, user: Actor, where: string | undefined): boolean {
  if (askedBy(q, user)) return true;
  return q.thread !== undefined && q.thread === where;
}

/** Answers questions from the guidance (offline retrieval, optionally a model over its candidates) and keeps score. */
export class FaqService {
  constructor(
    private readonly library: GuidanceLibrary<FaqIndex>,
    private readonly questions: QuestionStore,
    private readonly options: FaqOptions = {},
  ) {}

  sourceOf(section: GuidanceSection): SourceRef {
    const ref: SourceRef = { sectionId: section.id, docTitle: section.docTitle, heading: section.heading };
    if (this.options.baseUrl) {
      const base = this.options.baseUrl.replace(/\/+$/, '');
      const docPath = section.doc.replace(/\.md$/i, '');
      ref.url = `${base}/${docPath.split('/').map(encodeURIComponent).join('/')}${section.level > 0 ? `#${section.anchor}` : ''}`;
    }
    return ref;
  }

  /** The guidance's own answer: the passage of `section` that answers `question`, cited, with related sections. */
  private guidanceAnswer(
    section: GuidanceSection,
    question: string,
    others: { section: GuidanceSection }[] = [],
    uncovered: string[] = [],
  ): Omit<Extract<FaqAnswer, { kind: 'answer' }>, 'kind' | 'questionId' | 'question'> {
    const excerpt = sectionExcerpt(section, ANSWER_CHARS);
    const curated = section.doc === CURATED_DOC ? this.options.curated?.activeAnswer(section.anchor) : undefined;
    if (curated) {
      return {
        // A champion's own text, like a model's, is not the rollout team's reviewed guidance: escaped.
        text: curated.answer ? escapeText(curated.answer) : excerpt.markdown,
        source: {
          sectionId: section.id,
          docTitle: citation(curated, this.options.curated?.showAuthor ?? false),
          heading: curated.question,
        },
        related: this.related(others, section),
        via: 'curated',
        cut: excerpt.cut,
        uncovered,
      };
    }
    return {
      text: excerpt.markdown,
      source: this.sourceOf(section),
      related: this.related(others, section),
      via: 'guidance',
      cut: excerpt.cut,
      uncovered,
    };
  }

  /** Retrieval only: what the engine would answer, without storing anything. */
  lookup(question: string): {
    answered: boolean;
    hits: { section: GuidanceSection; score: number }[];
    uncovered: string[];
  } {
    const result = search(this.library.current.index, question.slice(0, MAX_QUESTION), { limit: 5 });
    return { answered: result.answered, hits: result.results, uncovered: result.uncovered };
  }

  /**
   * Answers a question and records it (answered or not) for feedback and the gaps list. `thread`: the channel
   * or group chat it is answered in, whose members may vote on it (none for a 1:1 chat). `message`: the Teams
   * message it was asked in, so deleting or editing that message acts on it (`withdraw`, `askEdited`).
   */
  async ask(question: string, asker: Actor, signal?: AbortSignal, thread?: string, message?: string): Promise<FaqAnswer> {
    const { text: q, long } = readQuestion(question);
    if (!asksSomething(q)) return { kind: 'no-question', questionId: '', question: q };
    const answer = await this.answer(q, signal);
    const told = long ? { long } : {};
    if (!answer && looksNotEnglish(this.library.current.index, q)) return { kind: 'other-language', questionId: '', question: q, ...told };
    const stored = await this.questions.record(q, asker, {
      answered: answer !== undefined,
      sectionId: answer?.source.sectionId,
      ...(thread ? { thread } : {}),
      ...(message ? { message } : {}),
    });
    if (!answer) return { kind: 'not-covered', questionId: stored.id, question: q, ...told };
    return { kind: 'answer', questionId: stored.id, question: q, ...answer, ...told };
  }

  /**
   * The asker deleted the message they asked in: the question logged from it is withdrawn (out of the gaps, the counts,
   * the askers told of a champion's answer; kept for an undelete, `restore`). Only `who`'s own question: the ids come
   * from the client. How many went, and
   * the gap groups of the last `gapDays` that listed one, as they read now, for their "Answer this" cards to be
   * redrawn without it (a card keeps showing what it was drawn with until then). A group left with no question
   * comes back empty, with `withdrawn`. Only a question that was a gap (unanswered, or Not helpful) costs a gaps read.
   * `at`: when the message was deleted, as Teams stamped it (a delete older than the question's last undelete, a late
   * retry, changes nothing).
   */
  async withdraw(message: string, who: Actor, gapDays = GAPS_DAYS_DEFAULT, at?: Date): Promise<Withdrawal> {
    const mine = (await this.questions.fromMessage(message)).filter((q) => askedBy(q, who));
    const gone = new Set<string>();
    const listed = mine.some(isGap) ? await this.gaps(gapDays) : [];
    // Withdrawn as read: not read again (the question rows were read just now).
    for (const q of mine) if (await this.questions.withdraw(q, message, at)) gone.add(q.id);
    return { removed: gone.size, redraw: await this.redrawsAfter(listed, gone, gapDays) };
  }

  /**
   * The asker undeleted the message they asked in: the questions withdrawn with it (`withdraw`) are back as they were,
   * under their ids (in the gaps, the counts, their answer cards' buttons). Only `who`'s own: someone else's undelete
   * of that message id changes nothing. How many came back, and the "Answer this" cards of those that are gaps. `at`:
   * when the message was undeleted, as Teams stamped it (an undelete older than the message's last delete, a late
   * retry, brings nothing back). Found not withdrawn, the question records the undelete: its delete, stamped before
   * and arriving after (retried by Teams after a fault), then withdraws nothing.
   */
  async restore(message: string, who: Actor, gapDays = GAPS_DAYS_DEFAULT, at?: Date): Promise<Withdrawal> {
    const found = await this.questions.withdrawnFrom(message);
    // Not withdrawn (yet): its delete, stamped earlier, may still land (a retry) and must find this undelete newer.
    for (const q of found.live.filter((l) => askedBy(l, who))) await this.questions.markUndeleted(q, at);
    const mine = found.withdrawn.filter((q) => askedBy(q, who));
    const back: AskedQuestion[] = [];
    for (const q of mine) if (await this.questions.restore(q, message, at)) back.push(q);
    if (!back.some(isGap)) return { removed: 0, redraw: [] };
    // Their cards, drawn as they read now: the question back on the card it left (or on a new one, posted).
    const view = await this.gapView(gapDays);
    const groups = view.groups.filter((g) => back.some((q) => g.questionIds.includes(q.id)));
    return { removed: 0, restored: back.length, redraw: groups.map((group) => ({ group, view })) };
  }

  /**
   * The "Answer this" cards to redraw once the questions `gone` left: each group of `listed` (the gaps read before they
   * left) that held one, as it reads now — its other questions wherever they are grouped now (the seed may have gone:
   * the group's first is another), or under its card's key (an edit's new wording grouped with it) — or, none left,
   * empty and `withdrawn`. One read of the gaps, none when no card held one.
   */
  private async redrawsAfter(listed: readonly GapGroup[], gone: ReadonlySet<string>, gapDays: number): Promise<GapRedraw[]> {
    const before = listed.filter((g) => g.questionIds.some((id) => gone.has(id)));
    if (!before.length) return [];
    const view = await this.gapView(gapDays);
    const seenAt = this.questions.now();
    return before.map((b): GapRedraw => {
      const now =
        view.groups.find((g) => g.questionIds.some((id) => b.questionIds.includes(id))) ?? view.groups.find((g) => g.id === b.id);
      if (now) return { group: now, view };
      const empty = { ...b, questionIds: [], questions: [], example: '', count: 0, unanswered: 0, notHelpful: 0, askers: 0, seenAt };
      return { group: empty, view: { groups: [empty], claims: view.claims }, withdrawn: true };
    });
  }

  /**
   * The asker edited the message they asked in: the edited text is answered as a new question, which replaces the
   * one logged from that message (its votes were on the old answer). Undefined when nothing is to be answered: no
   * question of `who`'s was logged from it (a command, a thank-you, another's message), the words are unchanged,
   * or the edit asks nothing. The new question is recorded before the old one goes: a fault keeps one of them.
   */
  async askEdited(
    message: string,
    text: string,
    who: Actor,
    signal?: AbortSignal,
    thread?: string,
    gapDays = GAPS_DAYS_DEFAULT,
  ): Promise<{ answer: Exclude<FaqAnswer, { kind: 'no-question' }>; redraw: GapRedraw[] } | undefined> {
    const earlier = (await this.questions.fromMessage(message)).filter((q) => askedBy(q, who));
    if (!earlier.length || earlier.some((q) => q.question === readQuestion(text).text)) return undefined;
    const answer = await this.ask(text, who, signal, thread, message);
    if (answer.kind === 'no-question') return undefined;
    // Edited into another language: said so, but nothing new was logged to take the question's place.
    if (answer.kind === 'other-language') return { answer, redraw: [] };
    // The cards that showed the old wording are redrawn as they read now (the new wording, if it joined them).
    const listed = earlier.some(isGap) ? await this.gaps(gapDays) : [];
    const gone = new Set<string>();
    for (const q of earlier) if (await this.questions.remove(q.id)) gone.add(q.id);
    return { answer, redraw: await this.redrawsAfter(listed, gone, gapDays) };
  }

  private async answer(
    q: string,
    signal?: AbortSignal,
  ): Promise<Omit<Extract<FaqAnswer, { kind: 'answer' }>, 'kind' | 'questionId' | 'question'> | undefined> {
    const { answered, hits, uncovered } = this.lookup(q);
    const offline = () => {
      const top = hits[0];
      return answered && top ? this.guidanceAnswer(top.section, q, hits.slice(1), uncovered) : undefined;
    };
    const model = this.options.model;
    if (!model || hits.length === 0) return offline();
    const candidates = hits.slice(0, this.options.modelCandidates ?? 4).map((h) => h.section);
    const reply = await model.answer(
      q,
      candidates.map((s) => ({ id: s.id, docTitle: s.docTitle, heading: s.heading, text: s.text })),
      { signal },
    );
    if (reply.kind === 'not-covered') return undefined;
    if (reply.kind === 'fallback') {
      this.options.warn?.({ reason: reply.reason }, 'model answer unavailable; using the offline answer');
      return offline();
    }
    const cited = reply.citations
      .map((id) => candidates.find((s) => s.id === id))
      .filter((s): s is GuidanceSection => s !== undefined);
    const first = cited[0];
    if (!first) return offline();
    return {
      text: reply.text,
      source: this.sourceOf(first),
      related: this.related(
        [...cited.slice(1), ...candidates.filter((c) => !cited.includes(c))].map((section) => ({
          section,
          score: 0,
        })),
        first,
      ),
      via: 'model',
      cut: false,
      uncovered,
    };
  }

  /** Up to two other sections worth reading, not the cited one and not from the same heading twice. */
  private related(hits: { section: GuidanceSection }[], main: GuidanceSection): SourceRef[] {
    const seen = new Set([main.id]);
    const out: SourceRef[] = [];
    for (const h of hits) {
      if (seen.has(h.section.id)) continue;
      seen.add(h.section.id);
      out.push(this.sourceOf(h.section));
      if (out.length === 2) break;
    }
    return out;
  }

  /** Guidance sections for a champion's search (message extension): no recording, fast. */
  searchSections(
    query: string,
    limit = 5,
  ): { section: GuidanceSection; passage: string; source: SourceRef }[] {
    const q = query.slice(0, MAX_QUESTION);
    const result = search(this.library.current.index, q, { limit });
    return result.results.map((h) => ({
      section: h.section,
      passage: bestPassage(h.section, q, PASSAGE_CHARS),
      source: this.sourceOf(h.section),
    }));
  }

  /** The answer `section` (a curated answer just written, say) gives to someone's own wording of the question. */
  answerFromSection(
    sectionId: string,
    question: string,
    questionId: string,
  ): Extract<FaqAnswer, { kind: 'answer' }> | undefined {
    const section = this.library.current.index.sections.find((s) => s.id === sectionId);
    return section ? { kind: 'answer', questionId, question, ...this.guidanceAnswer(section, question) } : undefined;
  }

  /** The answer a stored question got, rebuilt from its cited section (undefined if that section is gone). */
  storedAnswer(question: AskedQuestion): Extract<FaqAnswer, { kind: 'answer' }> | undefined {
    const section = this.library.current.index.sections.find((s) => s.id === question.sectionId);
    if (!section) return undefined;
    // What the card also showed (related sections, the parts not covered) is not stored: found again, so a
    // card redrawn after feedback still shows them.
    const { hits, uncovered } = this.lookup(question.question);
    return {
      kind: 'answer',
      questionId: question.id,
      question: question.question,
      ...this.guidanceAnswer(section, question.question, hits, uncovered),
    };
  }

  /**
   * A vote from an answer card. The question id comes from the card, which the client writes: only the asker,
   * or someone in the channel or group chat the answer was posted in, may vote; anyone else is told it is not found.
   */
  feedback(questionId: string, user: Actor, helpful: boolean, where?: string): Promise<AskedQuestion | undefined> {
    return this.questions.vote(questionId, user, helpful, (q) => mayUse(q, user, where));
  }

  getQuestion(id: string): Promise<AskedQuestion | undefined> {
    return this.questions.get(id);
  }

  /** A question named on a card, if `user` may see it (as for `feedback`): its text is the asker's. */
  async questionFor(id: string, user: Actor, where?: string): Promise<AskedQuestion | undefined> {
    const q = id ? await this.questions.get(id) : undefined;
    return q && mayUse(q, user, where) ? q : undefined;
  }

  /** The gaps of the last `days` days, each under the key of its "Answer this" card (see `withCardKeys`). */
  async gaps(days: number): Promise<GapGroup[]> {
    return (await this.gapsView(days)).groups;
  }

  /** The gaps of the last `days` days (as `gaps`), with the cards' claims read for them: pass it on to `gapCard`. */
  async gapView(days: number): Promise<GapView> {
    const { groups, claims } = await this.gapsView(days);
    return { groups, claims };
  }

  /**
   * The gaps of the `days` × 24 hours up to `until` (default now), from at most `gapScanRows` of the newest
   * questions (`partial` when the window held more): a view's work is bounded however the rollout grows.
   */
  private async gapsView(days: number, until?: Date): Promise<GapView & { partial?: { read: number; since: string } }> {
    const now = this.questions.now();
    const at = until ?? new Date(now);
    const seenAt = at.toISOString();
    const since = new Date(at.getTime() - days * 86_400_000).toISOString().slice(0, 10);
    const [{ questions, more }, byDay] = await Promise.all([
      this.questions.recentGaps(days, { ...(until ? { until } : {}), limit: this.options.gapScanRows ?? GAP_SCAN_ROWS }),
      this.questions.gapClaimsBetween(since, now.slice(0, 10)),
    ]);
    const groups = sortGaps(this.splitAnswered(questions, byDay, this.answeredCards(), new Set())).map((g) => ({ ...g, seenAt }));
    const claims = { first: since, last: now.slice(0, 10), byDay };
    return more ? { groups, claims, partial: { read: questions.length, since: questions.at(-1)?.askedAt ?? seenAt } } : { groups, claims };
  }

  /**
   * A page of the gaps list. Paged by place (the last or first gap shown), in the view the first page was drawn
   * from (`at`): questions asked since then are not in it, so "Next" shows the rest of what the champion was
   * reading instead of skipping or repeating a gap the new questions moved. Typed again, `gaps` is the latest.
   * An older card (a page number, no place), a place that cannot be read or a view over a day old: the latest
   * list from the start, saying why.
   */
  async gapsList(req: GapsRequest): Promise<GapsList> {
    const now = new Date(this.questions.now());
    const days = wholeNumber(req.days, GAPS_DAYS_DEFAULT, 1, GAPS_DAYS_MAX);
    let note = '';
    let from: { after?: GapPlace | undefined; before?: GapPlace | undefined } = {};
    let asOf = now;
    if (req.after !== undefined || req.before !== undefined || req.at !== undefined) {
      const at = typeof req.at === 'string' && /^\d{4}-\d{2}-\d{2}T[\d:.]{8,12}Z$/.test(req.at) ? new Date(req.at) : undefined;
      const place = req.after !== undefined ? { after: decodePlace(req.after) } : { before: decodePlace(req.before) };
      // A few minutes ahead is another instance's clock; further ahead, or unreadable, is no view this app drew.
      const fresh = at && !Number.isNaN(at.getTime()) && at.getTime() <= now.getTime() + CLOCK_SKEW_MS && now.getTime() - at.getTime() <= GAPS_VIEW_MS;
      if (fresh && (place.after ?? place.before)) {
        asOf = at;
        from = place;
      } else {
        note =
          at && now.getTime() - at.getTime() > GAPS_VIEW_MS
            ? 'This card is over a day old, so here is the latest list from the start.'
            : "This card's place in the list could not be read, so here is the list from the start.";
      }
    } else if (wholeNumber(req.page, 1, 1, 1000) > 1) {
      note = 'This is an older card that paged by number, which shifts as new questions come in; here is the latest list from the start.';
    }
    // Paged from a place: the view that card was drawn from; else the latest.
    const view = await this.gapsView(days, (from.after ?? from.before) ? asOf : undefined);
    let page = pageOfGaps(view.groups, GAPS_PAGE_SIZE, from);
    if (!page.items.length && view.groups.length) {
      // Everything after that page was answered (or aged out) since: its end, said so.
      const start = Math.max(0, view.groups.length - GAPS_PAGE_SIZE);
      page = { items: view.groups.slice(start), start };
      note = 'The gaps after that page have been answered since; here is the end of the list.';
    }
    const first = page.items[0];
    const last = page.items.at(-1);
    return {
      days,
      asOf: asOf.toISOString(),
      groups: page.items,
      start: page.start,
      total: view.groups.length,
      before: first && page.start > 0 ? encodePlace(placeOf(first)) : '',
      after: last && page.start + page.items.length < view.groups.length ? encodePlace(placeOf(last)) : '',
      note,
      ...(view.partial ? { partial: view.partial } : {}),
    };
  }

  /** The cards a champion answered (an active curated answer names the gap group it closed), by key. */
  private answeredCards(): Map<string, CuratedAnswer> {
    const out = new Map<string, CuratedAnswer>();
    const curated = this.options.curated;
    if (!curated) return out;
    for (const s of this.library.current.index.sections) {
      const a = s.doc === CURATED_DOC ? curated.activeAnswer(s.anchor) : undefined;
      if (a?.groupId) out.set(a.groupId, a);
    }
    return out;
  }

  /**
   * Groups under their cards' keys, a champion-answered card keeping only the questions asked up to its answer
   * (written or last changed). A question asked after it that is still a gap — not covered although the answer
   * is in the index, or answered with it and marked Not helpful — was not helped by that answer: folded into the
   * answered card, no champion would see it. Such questions are grouped again on their own, never under an answered card's key (`closed`),
   * so they get an open card the champions can answer again (`again`, which the card says). Bounded: a few
   * rounds of answer-and-ask-again.
   */
  private splitAnswered(
    questions: AskedQuestion[],
    claims: ReadonlyMap<string, readonly GapClaim[]>,
    answered: ReadonlyMap<string, CuratedAnswer>,
    closed: ReadonlySet<string>,
    depth = 0,
  ): GapGroup[] {
    const open = new Map([...claims].map(([day, cs]) => [day, cs.filter((c) => !closed.has(c.key))]));
    const groups = withCardKeys(groupGaps(questions), open).map((g) => {
      let id = g.id;
      while (closed.has(id)) id = `${id}r`;
      return closed.size ? { ...g, id, again: true } : g;
    });
    const byId = new Map(questions.map((q) => [q.id, q]));
    const out: GapGroup[] = [];
    for (const g of groups) {
      // Judged against the answer as it reads now: a question asked before its last change was given another text.
      const since = answered.get(g.id)?.updatedAt;
      const items = g.questionIds.map((id) => byId.get(id)!).reverse();
      const later = since && depth < 4 ? items.filter((q) => q.askedAt > since) : [];
      if (!later.length) {
        out.push(g);
        continue;
      }
      const before = items.filter((q) => !later.includes(q));
      if (before.length) out.push({ ...summariseGap(g.id, g.terms, before), ...(g.again ? { again: true } : {}) });
      out.push(...this.splitAnswered(later, claims, answered, new Set([...closed, g.id]), depth + 1));
    }
    return out;
  }

  /**
   * The key to post or redraw `group`'s card under (`group` one of `groups`, from `gaps`): a card claimed for it
   * on one of its questions' days, else its own key. The card is claimed on the day of the group's newest
   * question (ETag-guarded): of two turns racing on one gap, one that sees only its own question while the other
   * sees both either names the same seed as the other (its question is the older) or the same newest question,
   * so they agree on a key or meet on one row and post one card, either side of midnight; and
   * the card, claimed again on each day it shows a question, is found by a later view whose oldest question
   * (the seed, which names the group) has aged out.
   */
  async gapCardKey(group: GapGroup, groups: readonly GapGroup[]): Promise<string> {
    return (await this.gapCard(group, groups)).key;
  }

  /**
   * The card's key (as `gapCardKey`) and the version to redraw it with. The version is a counter kept in the
   * card's own row, not the group's count: questions ageing out of the window make the count fall back to one
   * the card already showed, and a redraw at that version would be skipped as stale. Each view that shows other
   * questions than the card's last version takes the next number if it is newer — it counts more questions, or
   * it was read later (what it lacks has aged out) — and 0 if it is older, which the outbox never draws, whichever
   * redraw reaches it first: an older view never overwrites a newer card. One row per card, bumped under its
   * ETag, so two turns never take one number for different views, even when their newest questions fall either
   * side of midnight (claims are kept per day). Kept below the answered card's version (see `gapCardMessages`).
   */
  async gapCard(group: GapGroup, groups: readonly GapGroup[], claims?: GapView['claims']): Promise<{ key: string; version: number }> {
    const inView = groups.includes(group) ? groups : [group];
    const at = inView.indexOf(group);
    const first = group.days[0];
    const newest = group.days.at(-1);
    if (!first || !newest) return { key: group.id, version: group.count };
    // The claims the view was read with, when they hold the group's days: not read a second time in one turn (nor
    // the newest day's row, which the claim below starts from).
    const seen = claims && claims.first <= first && newest <= claims.last ? claims.byDay : await this.questions.gapClaimsBetween(first, newest);
    const earlier = new Map([...seen].filter(([day]) => day >= first && day <= newest));
    // An answered card is no home for a group asked again since its answer (see `splitAnswered`): only the
    // groups in view named after one keep it.
    const answered = this.answeredCards();
    const names = new Set(inView.map((g) => g.id));
    const usable = (cs: readonly GapClaim[]) => cs.filter((c) => !answered.has(c.key) || names.has(c.key));
    let mineBefore: GapClaim[] = [];
    const key = await this.questions.claimGapCard(newest, (claims) => {
      const byDay = new Map([...earlier].map(([day, cs]) => [day, usable(cs)])).set(newest, usable(claims));
      const key = (withCardKeys(inView, byDay)[at] ?? group).id;
      mineBefore = [...byDay.values()].flat().filter((c) => c.key === key);
      if (claims.some((c) => c.key === key)) return { key };
      // v 0: counted in the card's own row (a claim without v is one of a card drawn at its counts).
      return { key, claims: [...claims, { key, terms: group.terms, v: 0 }] };
    }, seen);
    const digest = createHash('sha256').update([...group.questionIds].sort().join(' ')).digest('hex').slice(0, 16);
    const view: GapCardVersion = { v: 0, n: group.count, h: digest, at: group.seenAt ?? '' };
    const version = await this.questions.drawGapCard(key, (row) => {
      const shown = lastShown(row, mineBefore);
      if (!shown) {
        // A new card; or one claimed before redraws were counted, drawn then at its counts: above them all.
        const v = mineBefore.some((c) => c.v === undefined) ? UNCOUNTED_CARD_VERSION : 1;
        return { version: v, next: { ...view, v } };
      }
      if (shown.h === digest) return { version: shown.v, next: shown };
      if (view.n > shown.n || view.at > shown.at) {
        const v = Math.min(shown.v + 1, MAX_GAP_VERSION);
        return { version: v, next: { ...view, v } };
      }
      // An older view than the one shown: never drawn, whichever of the two reaches the outbox first.
      return { version: 0, next: shown };
    });
    return { key, version };
  }

  /**
   * After the docs change: questions logged unanswered in the last 30 days that now get a confident answer.
   * Each is claimed once (ETag), so with several instances only one tells the asker.
   */
  async newlyAnswered(days = 30): Promise<NewlyAnswered[]> {
    const open = (await this.questions.recent(days, { answered: false })).filter((q) => !q.answeredLaterAt);
    const out: NewlyAnswered[] = [];
    for (const question of open) {
      const { answered, hits } = this.lookup(question.question);
      const top = hits[0];
      if (!answered || !top) continue;
      if (!(await this.questions.markAnsweredLater(question.id, top.section.id))) continue;
      out.push({
        question,
        answer: {
          kind: 'answer',
          questionId: question.id,
          question: question.question,
          ...this.guidanceAnswer(top.section, question.question, hits.slice(1)),
        },
      });
    }
    return out;
  }

  /** The guidance section about office hours, if the docs have one (for "Ask at office hours"). */
  /** The guidance section about office hours, as an answer card shows it. */
  officeHours(): Extract<FaqAnswer, { kind: 'answer' }> | undefined {
    const hit = search(this.library.current.index, 'office hours when where join', { limit: 1 }).results[0];
    if (!hit || !/office hours/i.test(`${hit.section.heading} ${hit.section.text}`)) return undefined;
    return { kind: 'answer', questionId: '', question: 'When are office hours?', ...this.guidanceAnswer(hit.section, 'office hours') };
  }

  /** The guidance sections nearest to these wordings, best first (the champions' "point to a section" picker). */
  nearestSections(texts: readonly string[], max: number): GuidanceSection[] {
    const best = new Map<string, { section: GuidanceSection; score: number }>();
    for (const text of texts.slice(0, 10)) {
      for (const hit of search(this.library.current.index, text.slice(0, MAX_QUESTION), { limit: max }).results) {
        if (hit.section.doc === CURATED_DOC || hit.section.level === 0) continue;
        const seen = best.get(hit.section.id);
        if (!seen || seen.score < hit.score) best.set(hit.section.id, hit);
      }
    }
    return [...best.values()].sort((a, b) => b.score - a.score).slice(0, max).map((h) => h.section);
  }

}

/** A whole number from card data or a typed argument, within [min, max]; `fallback` when it is none. */
function wholeNumber(value: unknown, fallback: number, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number.parseInt(String(value ?? ''), 10);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}
