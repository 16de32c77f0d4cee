import { type AdaptiveCard, escapeText, linkTarget, markdownLink, renderCard } from '../cards/template.js';
import { oneLine } from '../text/one-line.js';
import type { GapGroup } from './gaps.js';
import { CURATED_DOC, type CuratedAnswer, citation, MAX_ANSWER_CHARS } from './curated.js';
import type { GuidanceSection } from './docs/types.js';
import { type FaqAnswer, type GapsList, MAX_QUESTION, type SourceRef } from './service.js';
import { clip, listWithin } from '../text/fit.js';
import { count, people } from '../text/count.js';

/** Data for cards/faq-answer.json. */
export interface FaqAnswerCardData {
  question: string;
  text: string;
  sourceLabel: string;
  sourceUrl: string;
  viaModel: boolean;
  /** Markdown line pointing to the rest of the section, when the answer shows only part of it. */
  more: string;
  /** "The guidance doesn't cover: …", for a half-covered question. */
  uncovered: string;
  related: { label: string }[];
  questionId: string;
  feedbackNote: string;
  showFeedback: boolean;
  showFollowUp: boolean;
  /** "Your question was long; …" when only its start was read, '' otherwise. */
  longNote: string;
}

/** Data for cards/faq-not-covered.json. */
export interface FaqNotCoveredCardData {
  question: string;
  questionId: string;
  /** Why there is no answer, and what happens next (noted for the rollout team; log it as an issue). */
  headline: string;
  note: string;
  nearest: string;
  longNote: string;
}

/** Data for cards/faq-gaps.json. */
export interface FaqGapsCardData {
  days: number;
  /** "Gaps 9–16 of 37." ('' when there are none). */
  shown: string;
  /** Why the list starts over, '' otherwise. */
  note: string;
  /** "Built from the newest 2,000 questions …" when the window held more than one view reads, '' otherwise. */
  partial: string;
  /** The view the pages are drawn from, and the cursors for Previous and Next ('' for none). */
  at: string;
  before: string;
  after: string;
  groups: (Omit<GapGroup, 'questions' | 'questionIds' | 'lastAskedAt' | 'terms' | 'days'> & { others: string; askedLine: string })[];
}

/** Data for cards/faq-curated-form.json: the champion's "Answer this" card for a group of questions. */
export interface CuratedFormCardData {
  groupId: string;
  example: string;
  /** "Asked 3 times by 2 people." ('' when not known, e.g. editing). */
  askedLine: string;
  /** Answered: the card shows who answered and no more inputs. */
  answered: boolean;
  note: string;
  questions: { text: string }[];
  /** Guidance sections to point to instead of writing an answer. */
  sections: { title: string; value: string }[];
  /** Set when editing an existing answer (its id and version), empty for a new one. */
  curatedId: string;
  version: number;
  answer: string;
  error: string;
}

/** Data for cards/faq-curated-list.json: the `curated` list, a page at a time. */
export interface CuratedListCardData {
  status: string;
  /** What just happened ("Retired: …"), '' for none. */
  notice: string;
  items: { id: string; version: number; question: string; citation: string; retired: boolean; preview: string }[];
  next: string;
}

export function sourceLabel(s: SourceRef): string {
  // A curated answer is cited by who answered and when ("Answered by a champion, 12 Jan 2027").
  if (s.sectionId.startsWith(`${CURATED_DOC}#`)) return s.docTitle;
  return `${s.docTitle} › ${s.heading}`;
}

/**
 * A person's question quoted on a card: one line, no direction controls (as asked since; older stored questions and
 * a champion's search query are cleaned here too), and escaped like any user text.
 */
const quoted = (question: string) => escapeText(oneLine(question));

const longNote = (long: boolean | undefined) =>
  long ? `Your question was long; I read its first ${MAX_QUESTION} characters.` : '';

function link(s: SourceRef): string {
  return s.url ? markdownLink(escapeText(sourceLabel(s)), s.url) : escapeText(sourceLabel(s));
}

export function answerCard(
  answer: Extract<FaqAnswer, { kind: 'answer' }>,
  opts: { feedbackNote?: string; showFeedback?: boolean; showFollowUp?: boolean } = {},
): AdaptiveCard {
  return renderCard<FaqAnswerCardData>('faq-answer', {
    question: quoted(answer.question),
    // Guidance text is the rollout team's own; a model's text is not, so it is escaped like user input.
    text: answer.via === 'model' ? escapeText(answer.text) : answer.text,
    sourceLabel: escapeText(sourceLabel(answer.source)),
    // The template puts it in a markdown link: a ")" in it would end the link early.
    sourceUrl: answer.source.url ? linkTarget(answer.source.url) : '',
    viaModel: answer.via === 'model',
    more: answer.cut
      ? answer.source.url
        ? markdownLink('More in the guidance', answer.source.url)
        : `More in the guidance: ${escapeText(sourceLabel(answer.source))}`
      : '',
    uncovered: answer.uncovered?.length
      ? `The guidance doesn't cover: ${(answer.uncovered ?? []).map((part) => `“${escapeText(part)}”`).join(', ')}. Log it as an issue if you need it.`
      : '',
    related: answer.related.map((r) => ({ label: link(r) })),
    questionId: answer.questionId,
    feedbackNote: opts.feedbackNote ?? '',
    showFeedback: opts.showFeedback ?? true,
    showFollowUp: opts.showFollowUp ?? true,
    longNote: longNote(answer.long),
  });
}

/**
 * No answer. `otherLanguage`: the question looked written in another language than the guidance's, so it is
 * not noted as a gap (the guidance covers it or not in English); the asker is told to ask in English, or log it.
 */
export function notCoveredCard(
  question: string,
  questionId: string,
  nearest: SourceRef[] = [],
  opts: { long?: boolean; otherLanguage?: boolean } = {},
): AdaptiveCard {
  return renderCard<FaqNotCoveredCardData>('faq-not-covered', {
    question: quoted(question),
    questionId,
    ...(opts.otherLanguage
      ? {
          headline: 'I can only answer questions in English; the guidance is written in English.',
          note: 'Ask again in English, please. If something stops you working, log it as an issue and a champion will pick it up.',
        }
      : {
          headline: "The rollout guidance doesn't cover this yet.",
          note: "I've noted the question for the rollout team. If it stops you working, log it as an issue and a champion will pick it up.",
        }),
    nearest: nearest.map(link).join('; '),
    longNote: longNote(opts.long),
  });
}

/**
 * The list shows each gap's example cut to LIST_EXAMPLE_CHARS, and its other wordings each cut to OTHER_WORDING_CHARS
 * and together to OTHER_WORDINGS_CHARS: a page of eight gaps each asked in five wordings of the 500 characters a
 * question is read to came to some 50 KB, over the 40 KB Teams accepts, and `gaps` showed nothing. "Answer this"
 * shows them whole.
 */
const LIST_EXAMPLE_CHARS = 240;
const OTHER_WORDING_CHARS = 160;
const OTHER_WORDINGS_CHARS = 500;

const otherWordings = (questions: readonly string[]): string =>
  listWithin(
    questions.map((q) => quoted(clip(q, OTHER_WORDING_CHARS))),
    OTHER_WORDINGS_CHARS,
  );

export function gapsCard(list: GapsList): AdaptiveCard {
  const since = list.partial && new Date(list.partial.since).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
  return renderCard<FaqGapsCardData>('faq-gaps', {
    days: list.days,
    shown: list.total ? `Gaps ${list.start + 1}–${list.start + list.groups.length} of ${list.total}.` : '',
    note: list.note,
    partial: list.partial
      ? `Built from the newest ${count(list.partial.read)} questions of these days (back to ${since ?? ''}): older questions of the window are not counted.`
      : '',
    at: list.asOf,
    before: list.before,
    after: list.after,
    groups: list.groups.map((g) => ({
      id: g.id,
      example: quoted(clip(g.example, LIST_EXAMPLE_CHARS)),
      count: g.count,
      unanswered: g.unanswered,
      notHelpful: g.notHelpful,
      askers: g.askers,
      askedLine: `${askedLine(g)} — ${g.unanswered} unanswered, ${g.notHelpful} not helpful`,
      others: otherWordings(g.questions.filter((q) => q !== g.example)),
    })),
  });
}

const times = (n: number) => (n === 1 ? 'once' : `${count(n)} times`);

/** "Asked 3 times by 2 people." — counted right for one. */
export function askedLine(g: Pick<GapGroup, 'count' | 'askers'>): string {
  return g.count > 0 ? `Asked ${times(g.count)} by ${people(g.askers)}.` : '';
}

/** The "Answer this" card for a gap group (or, with `editing`, for changing an answer). */
export function curatedFormCard(
  group: Pick<GapGroup, 'id' | 'example' | 'count' | 'askers' | 'questions' | 'again'>,
  sections: GuidanceSection[],
  opts: { editing?: CuratedAnswer; error?: string; answer?: string; answeredBy?: string; note?: string; withdrawn?: boolean } = {},
): AdaptiveCard {
  return renderCard<CuratedFormCardData>('faq-curated-form', {
    groupId: group.id,
    example: opts.withdrawn ? '' : quoted(group.example),
    askedLine: askedLine(group),
    // Nothing left to answer: no answer box, no Send.
    answered: opts.answeredBy !== undefined || opts.withdrawn === true,
    note:
      opts.note ??
      (opts.withdrawn
        ? WITHDRAWN
        : opts.answeredBy
        ? `Answered by ${escapeText(opts.answeredBy)}.`
        : group.again
          ? 'Asked again since a champion answered it: that answer did not help these askers. Answer them here, or type "curated" to change it.'
          : ''),
    questions: group.questions.map((q) => ({ text: quoted(q) })),
    sections: sections
      .filter((s) => s.level > 0)
      .map((s) => ({ title: `${s.docTitle} › ${s.heading}`.slice(0, 150), value: s.id })),
    curatedId: opts.editing?.id ?? '',
    version: opts.editing?.version ?? 0,
    // A refused paste is shown again bounded: the card must stay within what Teams shows (40 KB).
    answer: (opts.answer ?? opts.editing?.answer ?? '').slice(0, MAX_ANSWER_CHARS * 2),
    error: opts.error ?? '',
  });
}

/** A gap card whose every question was deleted by those who asked it (their message deleted in Teams). */
const WITHDRAWN = 'Withdrawn: whoever asked this deleted their question, so there is nothing to answer.';

export function curatedListCard(
  items: CuratedAnswer[],
  opts: { status?: 'active' | 'retired'; next?: string; showAuthor: boolean; notice?: string },
): AdaptiveCard {
  return renderCard<CuratedListCardData>('faq-curated-list', {
    status: opts.status ?? '',
    notice: opts.notice ?? '',
    items: items.map((a) => ({
      id: a.id,
      version: a.version,
      question: quoted(a.question),
      // The author's display name is theirs to write: text, never markdown.
      citation: `${escapeText(citation(a, opts.showAuthor))}${a.status === 'retired' ? ' · retired' : ''}`,
      retired: a.status === 'retired',
      preview: escapeText((a.answer ?? `See the guidance: ${a.sectionId ?? ''}`).slice(0, 200)),
    })),
    next: opts.next ?? '',
  });
}
