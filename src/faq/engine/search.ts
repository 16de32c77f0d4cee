import type { GuidanceSection } from '../docs/types.js';
import type { FaqIndex } from './build.js';
import { analyzeQuery, type QueryConcept } from './query.js';
import { RERANK_DEPTH, RERANK_WEIGHTS } from './rerank-weights.js';
import { questionView, rerankFeatures, rerankOrder } from './rerank.js';
import { rawWords, uncoveredTopics } from './scope.js';
import { withTranslations } from './translation.js';

export interface SearchHit {
  section: GuidanceSection;
  score: number;
}

export interface SearchResult {
  answered: boolean;
  /**
   * 0–1: how well the best section covers the question (see `confidenceOf`), less a penalty for the
   * share of the question made of words the docs never use.
   */
  confidence: number;
  /** Best first; present even when not answered (empty only when no section shares a word with the question). */
  results: SearchHit[];
  /**
   * Workplace topics the question raises that the best section doesn't speak of ("per diem",
   * "payslip", "VPN"): the question is about something else, so it is not answered.
   */
  offTopic: string[];
  /** Parts of the question (its clauses) that no section answers, when another part is answered. */
  uncovered: string[];
}

export interface SearchOptions {
  limit?: number;
}

/** Candidates looked at when diversifying the final list. */
const CANDIDATE_POOL = 30;

/**
 * Answers a question from the sections. A question that asks two things ("export to Excel and make
 * a pivot table") is also read clause by clause:
 * - answered as a whole: a clause that the best section doesn't cover and no section answers is
 *   returned in `uncovered`;
 * - not answered because it raises a topic the guidance doesn't speak of: when another clause,
 *   free of that topic, is clearly answered on its own, that clause's answer is given, with the
 *   rest in `uncovered`, so the asker gets the covered half and is told what isn't covered.
 * A question refused only for low confidence is not split: its clauses are weaker still.
 */
export function search(index: FaqIndex, question: string, options: SearchOptions = {}): SearchResult {
  if (index.tuning.rerank <= 0) return searchLexical(index, question, options).result;
  // The re-ranker reorders the lexical list's head; answered / refusal stay the lexical engine's.
  const limit = Math.max(1, options.limit ?? 5);
  const { result: found, judge } = searchLexical(index, question, { limit: Math.max(limit, RERANK_DEPTH) });
  const head = found.results.slice(0, RERANK_DEPTH);
  const rows = rerankFeatures(questionView(index, question, analyzeQuery(index, question)), head);
  let order = rerankOrder(RERANK_WEIGHTS, head, rows);
  let verdict: Verdict | undefined;
  // An answer cites a section judged to answer: the re-ranker's first leads only when it passes the same
  // judgement (and its confidence is the one given); otherwise the judged section stays first.
  if (found.answered && order[0] !== head[0]) {
    const shown = judge(index.sections.indexOf(order[0]!.section));
    if (shown.answered) verdict = shown;
    else order = [head[0]!, ...order.filter((hit) => hit !== head[0])];
  }
  // Scores stay best first (callers merge and sort lists by score): the head's scores, in order, go to
  // the re-ranked sections by position.
  const scores = head.map((hit) => hit.score).sort((a, b) => b - a);
  const reordered = order.map((hit, at) => ({ ...hit, score: scores[at]! }));
  const results = [...reordered, ...found.results.slice(RERANK_DEPTH)].slice(0, limit);
  return { ...found, ...verdict, results };
}

type Verdict = Pick<SearchResult, 'answered' | 'confidence' | 'offTopic'>;

/** A result, and the judgement it was given by, for any other section (by index) of the same question. */
interface Judged {
  result: SearchResult;
  judge: (i: number) => Verdict;
}

function searchLexical(index: FaqIndex, question: string, options: SearchOptions): Judged {
  const judgedWhole = searchOnce(index, question, options);
  const whole = judgedWhole.result;
  if (whole.results.length === 0 || (!whole.answered && whole.offTopic.length === 0)) return judgedWhole;
  const parts = clauses(question);
  if (parts.length < 2) return judgedWhole;
  const each = parts
    .map((text) => ({ text, concepts: analyzeQuery(index, text).filter((c) => c.coverageIdf > 0) }))
    .filter((part) => part.concepts.length >= MIN_CLAUSE_CONCEPTS)
    .map((part) => ({ ...part, ...searchOnce(index, part.text, options) }));
  if (each.length < 2) return judgedWhole;
  if (whole.answered) {
    const top = index.sections.indexOf(whole.results[0]!.section);
    const uncovered = each
      .filter((part) => !part.result.answered && coverageOf(index, part.concepts, top) < 0.5)
      .map((part) => part.text);
    return { ...judgedWhole, result: { ...whole, uncovered } };
  }
  const best = each
    .filter((part) => part.result.answered && part.result.confidence >= index.tuning.clauseThreshold)
    .sort((a, b) => b.result.confidence - a.result.confidence)[0];
  if (!best) return judgedWhole;
  const uncovered = each.filter((part) => part !== best && !part.result.answered).map((part) => part.text);
  if (uncovered.length === 0) return judgedWhole;
  return { judge: best.judge, result: { ...best.result, uncovered } };
}

/** A clause needs this many content words of its own to be asked on its own. */
const MIN_CLAUSE_CONCEPTS = 2;

/**
 * The parts of a question joined by "and", "then", "also", "plus", "as well as": two tasks. Not
 * commas: "my payslip is wrong, which form do I fill" is one question with its context first.
 */
export function clauses(question: string): string[] {
  return question
    .split(/\s*(?:\band\b|\bthen\b|\balso\b|\bplus\b|\bas well as\b|[?!;]\s+(?=\S))\s*/i)
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function searchOnce(index: FaqIndex, question: string, options: SearchOptions): Judged {
  const limit = Math.max(1, options.limit ?? 5);
  const concepts = analyzeQuery(index, question);
  const own = lexicalScores(index, question, concepts);
  const { translations, tuning } = index;
  const translated = translations
    ? withTranslations(translations, concepts, {
        weight: tuning.translationWeight,
        limit: tuning.translationTerms,
        minLift: tuning.translationMinLift,
      })
    : undefined;
  // Scored again only when a translation was added: otherwise the ranking is the words' own.
  const scores = translated ? lexicalScores(index, question, translated).scores : own.scores;
  let picked = diversify(index, scores, topK(scores, Math.max(limit, CANDIDATE_POOL)), limit);
  const unboosted = own.unboosted();
  const judge = (i: number) => judgement(index, question, concepts, i, unboosted[i]!);
  if (!picked[0]) return { result: { answered: false, confidence: 0, results: [], offTopic: [], uncovered: [] }, judge };
  let verdict = judge(picked[0].i);
  // The cited section is one whose own-word judgement is the answer given: translations may put another
  // section first only when both it and the words' own best pass; otherwise the words' own best leads.
  const ownTop = translated ? topK(own.scores, 1)[0] : undefined;
  if (ownTop !== undefined && ownTop !== picked[0].i) {
    const ownVerdict = judge(ownTop);
    if (!ownVerdict.answered || !verdict.answered) {
      verdict = ownVerdict;
      picked = ownFirst(picked, ownTop, scores, limit);
    }
  }
  const order = secondIsBestSubsection(index, scores, picked, limit);
  const results = order.map(({ i, score }) => ({ section: index.sections[i]!, score: round(score) }));
  return { result: { ...verdict, results, uncovered: [] }, judge };
}

/** The list with section `i` first (at the first's score, so scores stay best first) and the rest in order. */
function ownFirst(order: { i: number; score: number }[], i: number, scores: Float64Array, limit: number) {
  const first = { i, score: Math.max(scores[i]!, order[0]!.score) };
  return [first, ...order.filter((entry) => entry.i !== i)].slice(0, limit);
}

/**
 * Whether section `i` answers the question, judged on the question's own words (`score`: the section's
 * score from them, without bonuses): confidence, topics it doesn't speak of, a heavy word it lacks.
 */
function judgement(
  index: FaqIndex,
  question: string,
  concepts: QueryConcept[],
  i: number,
  score: number,
): Pick<SearchResult, 'answered' | 'confidence' | 'offTopic'> {
  const { tuning } = index;
  const covered = confidenceOf(index, concepts, i, score);
  const confidence = round(Math.max(0, covered - tuning.unknownPenalty * unknownShare(index, concepts)));
  const offTopic = uncoveredTopics(rawWords(question), () => rawWords(sectionWords(index.sections[i]!)));
  const { missingWordShare, missingWordConfidence } = tuning;
  const missing =
    missingWordShare > 0 &&
    confidence < missingWordConfidence &&
    largestMissingShare(index, concepts, i) >= missingWordShare;
  return { answered: offTopic.length === 0 && !missing && confidence >= tuning.answerThreshold, confidence, offTopic };
}

/** Everything a section says of itself: doc title, headings down to it, text. */
function sectionWords(section: GuidanceSection): string {
  return `${section.docTitle}\n${section.headingPath.join('\n')}\n${section.text}`;
}

/**
 * Section scores for ranking (bonuses in), and, on demand, the same scores with the words alone:
 * confidence is judged on the words, the bonuses order candidates, they don't make one more certain.
 * askedLike raises `scores` in place and returns them as they were; the asking part's weight is taken
 * out by scoring again, only for a question that has one.
 */
function lexicalScores(
  index: FaqIndex,
  question: string,
  concepts: QueryConcept[],
): { scores: Float64Array; unboosted: () => Float64Array } {
  const scores = scoreSections(index, concepts);
  const beforeAskedLike = index.tuning.askedLikeBonus > 0 ? askedLike(index, question, scores) : scores;
  const focused = concepts.some((concept) => (concept.focus ?? 1) !== 1);
  const unboosted = () =>
    focused
      ? scoreSections(index, concepts.map((concept) => ({ ...concept, boost: concept.boost / (concept.focus ?? 1) })))
      : beforeAskedLike;
  return { scores, unboosted };
}

/** The largest share of the question's weight carried by one word the docs use but the section holds in no form. */
function largestMissingShare(index: FaqIndex, concepts: QueryConcept[], sectionIndex: number): number {
  const { idfPower } = index.tuning;
  let possible = 0;
  let largest = 0;
  for (const concept of concepts) {
    if (concept.coverageIdf <= 0) continue;
    const weight = concept.coverageIdf ** idfPower;
    possible += weight;
    // Words the docs never use are `unknownShare`'s concern; this is about a word used elsewhere.
    if (concept.alternatives.length === 0) continue;
    if (!concept.alternatives.some((alternative) => postingsHas(index, alternative.term, sectionIndex))) {
      largest = Math.max(largest, weight);
    }
  }
  return possible > 0 ? largest / possible : 0;
}

/**
 * The share of the question's weight (as in `confidenceOf`) carried by words the docs know in no
 * form at all: not as typed, repaired, respelled, without a prefix or through a synonym. Answerable
 * questions almost never have one; off-topic ones often do ("timesheet", "guesthouse").
 */
export function unknownShare(index: FaqIndex, concepts: QueryConcept[]): number {
  const { idfPower } = index.tuning;
  let possible = 0;
  let unknown = 0;
  for (const concept of concepts) {
    if (concept.coverageIdf <= 0) continue;
    const weight = concept.coverageIdf ** idfPower;
    possible += weight;
    if (concept.alternatives.length === 0) unknown += weight;
  }
  return possible > 0 ? unknown / possible : 0;
}

/**
 * BM25F with query concepts: each concept adds its best-matching alternative (dis-max), plus
 * the heading bonuses (see `EngineTuning.headingSynonymBonus` and `headingWordBonus`).
 */
function scoreSections(index: FaqIndex, concepts: QueryConcept[]): Float64Array {
  const total = index.sections.length;
  const scores = new Float64Array(total);
  const best = new Float64Array(total);
  const { idfPower } = index.tuning;
  for (const concept of concepts) {
    // Dis-max within a concept: a section with both "delete" and "remove" answers "remove" once.
    best.fill(0);
    const groupIdf = relatedIdfCap(index, concept);
    for (const alternative of concept.alternatives) {
      const postings = index.postings.get(alternative.term);
      if (!postings) continue;
      const ownIdf = index.idf.get(alternative.term) ?? 0;
      // A synonym is never worth more than the word typed: otherwise a rare member of the
      // group ("discard") outweighs the common word the docs actually use ("delete").
      const weak = alternative.kind === 'related' || alternative.kind === 'translation';
      const idf = weak ? Math.min(ownIdf, groupIdf) : ownIdf;
      const weight = concept.boost * alternative.weight * idf ** idfPower;
      for (let k = 0; k < postings.sections.length; k++) {
        const i = postings.sections[k]!;
        const value = weight * postings.saturated[k]!;
        if (value > best[i]!) best[i] = value;
      }
    }
    for (let i = 0; i < total; i++) scores[i]! += best[i]!;
  }
  const { headingSynonymBonus, headingWordBonus } = index.tuning;
  if (headingSynonymBonus > 0 || headingWordBonus > 0) {
    // Heading channel: the question word, or a synonym of it, in the section's own heading.
    // Headings are short, so only the few sections touched are visited and reset.
    best.fill(0);
    const touched: number[] = [];
    for (const concept of concepts) {
      const groupIdf = relatedIdfCap(index, concept);
      for (const alternative of concept.alternatives) {
        // A translation is a hint for ranking the text, not a name of the task: no heading bonus.
        if (alternative.kind === 'translation') continue;
        const related = alternative.kind === 'related';
        const bonus = related ? headingSynonymBonus : headingWordBonus * alternative.weight;
        if (bonus <= 0) continue;
        const ids = index.headingPostings.get(alternative.term);
        if (!ids) continue;
        const ownIdf = index.idf.get(alternative.term) ?? 0;
        const idf = related ? Math.min(ownIdf, groupIdf) : ownIdf;
        const weight = bonus * idf ** idfPower;
        for (const i of ids) {
          if (best[i] === 0) touched.push(i);
          if (weight > best[i]!) best[i] = weight;
        }
      }
      for (const i of touched) {
        scores[i]! += best[i]!;
        best[i] = 0;
      }
      touched.length = 0;
    }
  }
  return scores;
}

/** A question opening with one of these says which kind of answer it wants. */
const WH_OPENING = /^\W*(who|when|where|why|which)\s/i;

/**
 * Scores up, in place, the sections whose heading opens with the question's own wh-word (see
 * `EngineTuning.askedLikeBonus`); returns the scores as they were (the same array when none changed).
 */
function askedLike(index: FaqIndex, question: string, scores: Float64Array): Float64Array {
  const asked = WH_OPENING.exec(question)?.[1]?.toLowerCase();
  if (!asked) return scores;
  const before = Float64Array.from(scores);
  const factor = 1 + index.tuning.askedLikeBonus;
  index.sections.forEach((section, i) => {
    if (scores[i]! > 0 && WH_OPENING.exec(section.heading)?.[1]?.toLowerCase() === asked) scores[i]! *= factor;
  });
  return before;
}

/** The typed word's idf when the docs use it; else the mean idf of the words standing in for it. */
function relatedIdfCap(index: FaqIndex, concept: QueryConcept): number {
  if (concept.ownIdf !== undefined) return concept.ownIdf;
  let sum = 0;
  let count = 0;
  for (const alternative of concept.alternatives) {
    const idf = index.idf.get(alternative.term);
    if (idf === undefined) continue;
    sum += idf;
    count++;
  }
  return count > 0 ? sum / count : 0;
}

/**
 * Picks the final list from the top candidates, scoring down further sections of a doc that
 * is already listed: when the engine is unsure, three guesses from three places beat three
 * neighbouring sections of one page.
 */
function diversify(
  index: FaqIndex,
  scores: Float64Array,
  candidates: number[],
  limit: number,
): { i: number; score: number }[] {
  const factor = index.tuning.sameDocFactor;
  const pool = candidates.map((i) => ({ i, score: scores[i]! }));
  const picked: { i: number; score: number }[] = [];
  const docsSeen = new Map<string, number>();
  while (picked.length < limit && pool.length > 0) {
    let bestAt = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    pool.forEach((candidate, at) => {
      const value = candidate.score * factor ** (docsSeen.get(index.sections[candidate.i]!.doc) ?? 0);
      if (value > bestValue) {
        bestValue = value;
        bestAt = at;
      }
    });
    const [chosen] = pool.splice(bestAt, 1);
    const doc = index.sections[chosen!.i]!.doc;
    docsSeen.set(doc, (docsSeen.get(doc) ?? 0) + 1);
    picked.push({ i: chosen!.i, score: bestValue });
  }
  return picked;
}

/**
 * When the best section is split into sub-sections, its best-scoring direct sub-section comes
 * second (if it scores at least `subsectionRatio` of the parent): an overview section collects
 * the words of all its cases, while the asker usually needs one specific case.
 */
function secondIsBestSubsection(
  index: FaqIndex,
  scores: Float64Array,
  order: { i: number; score: number }[],
  limit: number,
): { i: number; score: number }[] {
  const top = order[0];
  if (!top || limit < 2) return order;
  const parent = index.sections[top.i]!;
  let child = -1;
  for (let j = top.i + 1; j < index.sections.length; j++) {
    const next = index.sections[j]!;
    if (next.doc !== parent.doc || next.level <= parent.level) break;
    if (next.level === parent.level + 1 && (child < 0 || scores[j]! > scores[child]!)) child = j;
  }
  if (child < 0 || scores[child]! < index.tuning.subsectionRatio * scores[top.i]!) return order;
  const rest = order.slice(1).filter((entry) => entry.i !== child);
  // Scores stay best first: the sub-section ranks between its parent and the next result.
  const below = rest[0]?.score ?? 0;
  const score = Math.min(top.score, Math.max(scores[child]!, (top.score + below) / 2));
  return [top, { i: child, score }, ...rest].slice(0, limit);
}

/**
 * How sure the engine is that the best section answers: the geometric mean of two shares of
 * the question's weight (idf, as used for ranking), so both must be high.
 * - coverage: the share of the question's concepts the section contains, each counted at the
 *   weight of the way it matched (exact 1, repaired or related less). Words the docs never use
 *   count in full: "canteen menu friday" covers little of its own weight anywhere, however
 *   well "menu" alone matches.
 * - strength: the section's score over the most any section could score for this question.
 * Both are relative to the question itself, so one threshold works for short and long questions.
 */
export function confidenceOf(
  index: FaqIndex,
  concepts: QueryConcept[],
  sectionIndex: number,
  score: number,
): number {
  const { idfPower, k1 } = index.tuning;
  let possible = 0;
  for (const concept of concepts) if (concept.coverageIdf > 0) possible += concept.coverageIdf ** idfPower;
  if (possible <= 0) return 0;
  const coverage = coverageOf(index, concepts, sectionIndex);
  // A concept scores at most its idf weight × (k1 + 1) (BM25 saturation), summed over concepts.
  const strength = Math.min(1, score / (possible * (k1 + 1)));
  return round(Math.sqrt(coverage * strength));
}

/** The share of the question's weight a section contains, each concept at the weight of the way it matched. */
function coverageOf(index: FaqIndex, concepts: QueryConcept[], sectionIndex: number): number {
  const { idfPower } = index.tuning;
  let possible = 0;
  let matched = 0;
  for (const concept of concepts) {
    if (concept.coverageIdf <= 0) continue;
    const weight = concept.coverageIdf ** idfPower;
    possible += weight;
    let bestWeight = 0;
    for (const alternative of concept.alternatives) {
      if (alternative.weight > bestWeight && postingsHas(index, alternative.term, sectionIndex)) {
        bestWeight = alternative.weight;
      }
    }
    matched += weight * bestWeight;
  }
  return possible > 0 ? matched / possible : 0;
}

function postingsHas(index: FaqIndex, term: string, sectionIndex: number): boolean {
  const postings = index.postings.get(term);
  if (!postings) return false;
  // Posting lists are in section order: binary search.
  let lo = 0;
  let hi = postings.sections.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const value = postings.sections[mid]!;
    if (value === sectionIndex) return true;
    if (value < sectionIndex) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Indexes of the k highest positive scores, best first (insertion into a short sorted list). */
function topK(scores: Float64Array, k: number): number[] {
  const top: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (score <= 0) continue;
    if (top.length === k && score <= scores[top[top.length - 1]!]!) continue;
    let at = top.length;
    while (at > 0 && scores[top[at - 1]!]! < score) at--;
    top.splice(at, 0, i);
    if (top.length > k) top.pop();
  }
  return top;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/**
 * Runs the search over a few of the docs' own headings, untimed, so that the JIT has compiled the
 * hot paths before questions are timed (a batch run or an evaluation): one warm-up question
 * leaves the first real ones several times slower than the rest.
 */
export function warmUp(index: FaqIndex, questions = 30): void {
  const step = Math.max(1, Math.floor(index.sections.length / questions));
  for (let i = 0; i < index.sections.length; i += step) search(index, index.sections[i]!.heading);
  search(index, 'warm up');
}
