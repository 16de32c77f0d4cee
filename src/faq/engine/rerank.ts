import type { GuidanceSection } from '../docs/types.js';
import type { FaqIndex } from './build.js';
import type { QueryConcept } from './query.js';
import { terms } from './text.js';

/**
 * Features of one (question, candidate section) pair for a linear re-ranker over the engine's own
 * top candidates: things the engine already knows cheaply, each roughly in 0–1.
 */
export const RERANK_FEATURES = [
  'engineScore', // score / the best candidate's score
  'engineRank', // 1 / (rank + 1)
  'coverSection', // share of the question's weight the section holds (any field, any alternative)
  'coverHeading', // … in its own heading
  'coverPath', // … in the doc title and the headings above
  'coverExact', // … as typed (exact alternative), anywhere in the section
  'headingSaid', // share of the heading's own terms the question says
  'bigram', // share of the question's adjacent content-word pairs found adjacent in heading + text
  'docTop', // the doc's top section (headed by the doc's title)
  'depth', // heading level / 6
  'length', // log(1 + words) / 8
  'headingQuestion', // heading written as a question
  'whMatch', // heading opens with the question's own wh-word
  'sameDocAsFirst', // same doc as the engine's first candidate
] as const;

interface SectionTerms {
  heading: Set<string>;
  path: Set<string>;
  all: Set<string>;
  /** Each term of heading + text → the terms written next to it (either side), built once per section. */
  neighbours: Map<string, Set<string>>;
  length: number;
  headingTerms: string[];
}

const cache = new WeakMap<GuidanceSection, SectionTerms>();

/** Tokenises every section once at index build, so no question pays for it. */
export function prepareRerank(sections: readonly GuidanceSection[]): void {
  for (const section of sections) sectionTerms(section);
}

function sectionTerms(section: GuidanceSection): SectionTerms {
  let found = cache.get(section);
  if (!found) {
    const headingTerms = terms(section.heading);
    const pathTerms = terms([section.docTitle, ...section.headingPath.slice(0, -1)].join('\n'));
    const sequence = terms(`${section.heading}\n${section.text}`);
    const neighbours = new Map<string, Set<string>>();
    const link = (a: string, b: string) => {
      let next = neighbours.get(a);
      if (!next) neighbours.set(a, (next = new Set()));
      next.add(b);
    };
    for (let k = 0; k + 1 < sequence.length; k++) {
      link(sequence[k]!, sequence[k + 1]!);
      link(sequence[k + 1]!, sequence[k]!);
    }
    found = {
      heading: new Set(headingTerms),
      path: new Set(pathTerms),
      all: new Set([...sequence, ...pathTerms]),
      neighbours,
      length: sequence.length,
      headingTerms,
    };
    cache.set(section, found);
  }
  return found;
}

const WH_OPENING = /^\W*(who|when|where|why|which|how|what|can)\s/i;

/** Question-side facts shared by all its candidates. */
export interface QuestionView {
  concepts: QueryConcept[];
  weights: number[];
  possible: number;
  /** Per adjacent pair of question words, the terms standing for each (either may come first in the text). */
  pairs: { left: string[]; right: Set<string> }[];
  /** Every index term standing for a question word. */
  terms: Set<string>;
  wh: string | undefined;
}

export function questionView(index: FaqIndex, question: string, concepts: QueryConcept[]): QuestionView {
  const { idfPower } = index.tuning;
  const kept = concepts.filter((concept) => concept.coverageIdf > 0);
  const weights = kept.map((concept) => concept.coverageIdf ** idfPower);
  const possible = weights.reduce((a, b) => a + b, 0);
  const pairs: QuestionView['pairs'] = [];
  for (let c = 0; c + 1 < kept.length; c++) {
    pairs.push({ left: kept[c]!.alternatives.map((a) => a.term), right: new Set(kept[c + 1]!.alternatives.map((a) => a.term)) });
  }
  const terms = new Set(kept.flatMap((concept) => concept.alternatives.map((a) => a.term)));
  return { concepts: kept, weights, possible, pairs, terms, wh: WH_OPENING.exec(question)?.[1]?.toLowerCase() };
}

/** One row of features per candidate, in RERANK_FEATURES order. */
export function rerankFeatures(
  view: QuestionView,
  candidates: { section: GuidanceSection; score: number }[],
): number[][] {
  const topScore = candidates[0]?.score ?? 0;
  const firstDoc = candidates[0]?.section.doc;
  return candidates.map(({ section, score }, rank) => {
    const own = sectionTerms(section);
    const share = (has: (term: string, kind: string) => boolean, weighted: boolean) => {
      if (view.possible <= 0) return 0;
      let matched = 0;
      view.concepts.forEach((concept, c) => {
        let best = 0;
        for (const alt of concept.alternatives) {
          const value = weighted ? alt.weight : 1;
          if (value > best && has(alt.term, alt.kind)) best = value;
        }
        matched += view.weights[c]! * best;
      });
      return matched / view.possible;
    };
    const headingSaid = own.headingTerms.length
      ? own.headingTerms.filter((term) => view.terms.has(term)).length / own.headingTerms.length
      : 0;
    let bigrams = 0;
    // A pair counts when some term for its first word is written next to some term for its second.
    for (const { left, right } of view.pairs) {
      if (left.some((term) => nextToAny(own.neighbours.get(term), right))) bigrams++;
    }
    const headingWh = WH_OPENING.exec(section.heading)?.[1]?.toLowerCase();
    return [
      topScore > 0 ? score / topScore : 0,
      1 / (rank + 1),
      share((term) => own.all.has(term), true),
      share((term) => own.heading.has(term), true),
      share((term) => own.path.has(term), true),
      share((term, kind) => kind === 'exact' && own.all.has(term), false),
      headingSaid,
      view.pairs.length ? bigrams / view.pairs.length : 0,
      section.heading === section.docTitle ? 1 : 0,
      section.level / 6,
      Math.log1p(own.length) / 8,
      section.heading.trim().endsWith('?') ? 1 : 0,
      view.wh !== undefined && headingWh === view.wh ? 1 : 0,
      section.doc === firstDoc ? 1 : 0,
    ];
  });
}

/** Whether any of `neighbours` is in `terms`. */
function nextToAny(neighbours: Set<string> | undefined, terms: Set<string>): boolean {
  if (neighbours) for (const next of neighbours) if (terms.has(next)) return true;
  return false;
}

/** Linear score of a feature row. */
export function rerankScore(weights: readonly number[], row: readonly number[]): number {
  let sum = 0;
  for (let f = 0; f < row.length; f++) sum += (weights[f] ?? 0) * row[f]!;
  return sum;
}

/** Candidates in the re-ranker's order (ties keep the engine's order). */
export function rerankOrder<T>(weights: readonly number[], candidates: T[], rows: number[][]): T[] {
  return candidates
    .map((candidate, at) => ({ candidate, at, score: rerankScore(weights, rows[at]!) }))
    .sort((a, b) => b.score - a.score || a.at - b.at)
    .map((entry) => entry.candidate);
}
