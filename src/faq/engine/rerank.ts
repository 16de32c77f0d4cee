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

export type RerankFeature = (typeof RERANK_FEATURES)[number];

interface SectionTerms {
  heading: Set<string>;
  path: Set<string>;
  all: Set<string>;
  /** Adjacent term pairs of heading + text, "a b", built once per section. */
  adjacent: Set<string>;
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
    const adjacent = new Set<string>();
    for (let k = 0; k + 1 < sequence.length; k++) adjacent.add(`${sequence[k]} ${sequence[k + 1]}`);
    found = {
      heading: new Set(headingTerms),
      path: new Set(pathTerms),
      all: new Set([...sequence, ...pathTerms]),
      adjacent,
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
  /** Per adjacent pair of question words, every "a b" / "b a" key their alternatives make. */
  pairs: string[][];
  /** Every index term standing for a question word. */
  terms: Set<string>;
  wh: string | undefined;
}

export function questionView(index: FaqIndex, question: string, concepts: QueryConcept[]): QuestionView {
  const { idfPower } = index.tuning;
  const kept = concepts.filter((concept) => concept.coverageIdf > 0);
  const weights = kept.map((concept) => concept.coverageIdf ** idfPower);
  const possible = weights.reduce((a, b) => a + b, 0);
  const pairs: string[][] = [];
  for (let c = 0; c + 1 < kept.length; c++) {
    const keys: string[] = [];
    for (const left of kept[c]!.alternatives) {
      for (const right of kept[c + 1]!.alternatives) keys.push(`${left.term} ${right.term}`, `${right.term} ${left.term}`);
    }
    pairs.push(keys);
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
    for (const keys of view.pairs) if (keys.some((key) => own.adjacent.has(key))) bigrams++;
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
