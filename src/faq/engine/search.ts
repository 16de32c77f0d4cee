import type { GuidanceSection } from '../docs/types.js';
import type { FaqIndex } from './build.js';
import { analyzeQuery, type QueryConcept } from './query.js';

export interface SearchHit {
  section: GuidanceSection;
  score: number;
}

export interface SearchResult {
  answered: boolean;
  /** 0–1: share of the question's weight the best section covers, see `coverage`. */
  confidence: number;
  /** Best first; present even when not answered (empty only when no section shares a word with the question). */
  results: SearchHit[];
}

export interface SearchOptions {
  limit?: number;
}

/** Candidates looked at when diversifying the final list. */
const CANDIDATE_POOL = 30;

export function search(index: FaqIndex, question: string, options: SearchOptions = {}): SearchResult {
  const limit = Math.max(1, options.limit ?? 5);
  const concepts = analyzeQuery(index, question);
  const scores = scoreSections(index, concepts);
  const candidates = rerank(index, concepts, scores, topK(scores, Math.max(limit, CANDIDATE_POOL)));
  const order = diversify(index, candidates, limit);
  const results = order.map(({ i, score }) => ({ section: index.sections[i]!, score: round(score) }));
  // Calibrated on the first-stage score: the re-ranker picks the section, not how sure to be.
  const confidence = order.length > 0 ? confidenceOf(index, concepts, order[0]!.i, scores[order[0]!.i]!) : 0;
  return { answered: results.length > 0 && confidence >= index.tuning.answerThreshold, confidence, results };
}

/**
 * BM25F with query concepts: each concept adds its best-matching alternative (dis-max), plus
 * the heading-synonym bonus (see `EngineTuning.headingSynonymBonus`).
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
      const idf = alternative.kind === 'related' ? Math.min(ownIdf, groupIdf) : ownIdf;
      const weight = alternative.weight * idf ** idfPower;
      for (let k = 0; k < postings.sections.length; k++) {
        const i = postings.sections[k]!;
        const value = weight * postings.saturated[k]!;
        if (value > best[i]!) best[i] = value;
      }
    }
    for (let i = 0; i < total; i++) scores[i]! += best[i]!;
  }
  const bonus = index.tuning.headingSynonymBonus;
  if (bonus > 0) {
    // Heading channel: a synonym of the question word in the section's own heading. Headings
    // are short, so only the few sections touched are visited and reset.
    best.fill(0);
    const touched: number[] = [];
    for (const concept of concepts) {
      const groupIdf = relatedIdfCap(index, concept);
      for (const alternative of concept.alternatives) {
        if (alternative.kind !== 'related') continue;
        const ids = index.headingPostings.get(alternative.term);
        if (!ids) continue;
        const idf = Math.min(index.idf.get(alternative.term) ?? 0, groupIdf);
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
 * Second stage over the first-stage candidates (experimental).
 */
export function rerank(
  index: FaqIndex,
  concepts: QueryConcept[],
  scores: Float64Array,
  candidates: number[],
): { i: number; score: number }[] {
  const t = index.tuning as unknown as Record<string, number>;
  const a = t.rrCoverage ?? 0;
  const b = t.rrHeading ?? 0;
  const pathW = t.rrPath ?? 0.5;
  const power = t.rrIdfPower ?? index.tuning.idfPower;
  const literalOnlyHead = t.rrHeadLiteral ?? 0;
  const mode = t.rrMode ?? 0;
  if (a === 0 && b === 0) return candidates.map((i) => ({ i, score: scores[i]! }));
  const weighted = concepts.filter((c) => c.coverageIdf > 0);
  let possible = 0;
  for (const c of weighted) possible += c.coverageIdf ** power;
  if (possible <= 0) return candidates.map((i) => ({ i, score: scores[i]! }));
  const feats = candidates.map((i) => {
    let matched = 0;
    let head = 0;
    for (const c of weighted) {
      const w = c.coverageIdf ** power;
      let any = 0;
      let h = 0;
      for (const alt of c.alternatives) {
        if (alt.weight > any && postingsHas(index, alt.term, i)) any = alt.weight;
        const hw = literalOnlyHead && alt.kind === 'related' ? 0 : alt.weight;
        if (index.headingTerms[i]!.has(alt.term)) h = Math.max(h, hw);
        else if (index.pathTerms[i]!.has(alt.term)) h = Math.max(h, hw * pathW);
      }
      matched += w * any;
      head += w * h;
    }
    return { i, base: scores[i]!, coverage: matched / possible, head: head / possible };
  });
  if (mode === 1) {
    // reciprocal-rank fusion of base, coverage, heading coverage
    const rank = (key: 'base' | 'coverage' | 'head') => {
      const sorted = [...feats].sort((x, y) => y[key] - x[key] || y.base - x.base);
      const r = new Map<number, number>();
      sorted.forEach((f, k) => r.set(f.i, k));
      return r;
    };
    const rb = rank('base');
    const rc = rank('coverage');
    const rh = rank('head');
    const K = t.rrK ?? 10;
    const top = feats[0]?.base ?? 1;
    return feats
      .map((f) => ({ i: f.i, score: top * (1 / (K + rb.get(f.i)!) + a / (K + rc.get(f.i)!) + b / (K + rh.get(f.i)!)) * K }))
      .sort((x, y) => y.score - x.score);
  }
  return feats
    .map((f) => ({ i: f.i, score: f.base * f.coverage ** a * (1 + b * f.head) }))
    .sort((x, y) => y.score - x.score);
}

/**
 * Picks the final list from the top candidates, scoring down further sections of a doc that
 * is already listed: when the engine is unsure, three guesses from three places beat three
 * neighbouring sections of one page.
 */
function diversify(
  index: FaqIndex,
  candidates: { i: number; score: number }[],
  limit: number,
): { i: number; score: number }[] {
  const factor = index.tuning.sameDocFactor;
  const pool = [...candidates];
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
  if (possible <= 0) return 0;
  const coverage = matched / possible;
  // A concept scores at most its idf weight × (k1 + 1) (BM25 saturation), summed over concepts.
  const strength = Math.min(1, score / (possible * (k1 + 1)));
  return round(Math.sqrt(coverage * strength));
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
