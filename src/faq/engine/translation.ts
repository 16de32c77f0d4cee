import type { GuidanceSection } from '../docs/types.js';
import type { QueryConcept } from './query.js';
import { terms } from './text.js';

/**
 * A translation table learned from the docs themselves: which doc terms go with a question's term
 * across sections. Users describe a situation in their words; the section that answers names it in the
 * docs' words, and elsewhere in the docs those words sit beside the user's ("clear" beside "remove").
 * IBM Model 1's direction, headings as the queries the text answers: a word is looked up among the
 * headings, and stands for the words of the text under them.
 */
export interface Translations {
  /** Term → the sections whose heading holds it. */
  sectionsOf: Map<string, number[]>;
  /** Per section, the terms a co-occurring word is counted from. */
  targets: string[][];
  /** Term → number of sections whose `targets` hold it. */
  targetCount: Map<string, number>;
  total: number;
  cache: Map<string, { term: string; strength: number }[]>;
}

export function buildTranslations(sections: readonly GuidanceSection[]): Translations {
  const sectionsOf = new Map<string, number[]>();
  const targetCount = new Map<string, number>();
  const targets = sections.map((section, i) => {
    for (const term of new Set(terms(section.heading))) {
      const list = sectionsOf.get(term);
      if (list) list.push(i);
      else sectionsOf.set(term, [i]);
    }
    const target = [...new Set(terms(`${section.heading}\n${section.text}`))];
    for (const term of target) targetCount.set(term, (targetCount.get(term) ?? 0) + 1);
    return target;
  });
  return { sectionsOf, targets, targetCount, total: sections.length, cache: new Map() };
}

/** Sections a pair must share before it counts: once is chance. */
const MIN_SUPPORT = 3;

/**
 * The `limit` terms most strongly tied to `term`: lift (how much likelier the other term is in the word's
 * sections than anywhere) of at least `minLift`, damped for pairs seen in few sections; strength 0–1,
 * relative to the best.
 */
export function translationsOf(
  table: Translations,
  term: string,
  limit: number,
  minLift: number,
): { term: string; strength: number }[] {
  const key = `${term} ${limit} ${minLift}`;
  const known = table.cache.get(key);
  if (known) return known;
  const holding = table.sectionsOf.get(term) ?? [];
  const together = new Map<string, number>();
  for (const i of holding) for (const other of table.targets[i]!) together.set(other, (together.get(other) ?? 0) + 1);
  const scored: { term: string; score: number }[] = [];
  for (const [other, count] of together) {
    if (other === term || count < MIN_SUPPORT) continue;
    const lift = (count * table.total) / (holding.length * (table.targetCount.get(other) ?? 1));
    if (lift < minLift) continue;
    scored.push({ term: other, score: Math.log(lift) * (count / holding.length) });
  }
  scored.sort((a, b) => b.score - a.score || (a.term < b.term ? -1 : 1));
  const best = scored[0]?.score ?? 1;
  const found = scored.slice(0, limit).map(({ term: other, score }) => ({ term: other, strength: score / best }));
  table.cache.set(key, found);
  return found;
}

/**
 * The concepts with each known word's translations added as weak alternatives (`weight` × strength), or
 * undefined when no word has one (the ranking is then the words' own). Used for ranking only: coverage,
 * confidence and refusal are judged on the concepts without them.
 */
export function withTranslations(
  table: Translations,
  concepts: QueryConcept[],
  settings: { weight: number; limit: number; minLift: number },
): QueryConcept[] | undefined {
  const said = new Set(concepts.flatMap((concept) => concept.alternatives.map((a) => a.term)));
  let any = false;
  const expanded = concepts.map((concept) => {
    if (concept.coverageIdf <= 0 || concept.ownIdf === undefined || concept.boost !== (concept.focus ?? 1)) return concept;
    const exact = concept.alternatives.find((a) => a.kind === 'exact' || a.kind === 'typo' || a.kind === 'variant');
    if (!exact) return concept;
    const added = translationsOf(table, exact.term, settings.limit, settings.minLift)
      .filter((t) => !said.has(t.term))
      .map((t) => ({ term: t.term, weight: settings.weight * t.strength, kind: 'translation' as const }));
    if (added.length === 0) return concept;
    any = true;
    return { ...concept, alternatives: [...concept.alternatives, ...added] };
  });
  return any ? expanded : undefined;
}
