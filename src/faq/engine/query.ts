import type { FaqIndex } from './build.js';
import { rawStems } from './synonyms.js';
import { stem, words } from './text.js';

/** One way a query concept can show up in a section, and how much finding it there is worth. */
export interface Alternative {
  term: string;
  weight: number;
  /** exact: the typed word; typo: its spelling repair; variant: same word family; related: synonym group. */
  kind: 'exact' | 'typo' | 'variant' | 'related';
}

/** A word the user typed (or a phrase), with the index terms that stand for it. */
export interface QueryConcept {
  typed: string;
  alternatives: Alternative[];
  /** idf the concept counts with in "how much of the question was covered" (0 for phrase helpers). */
  coverageIdf: number;
  /** The idf of the word as typed (or repaired) when the docs use it; caps what its synonyms are worth. */
  ownIdf: number | undefined;
}

/**
 * Turns a question into concepts: each content word with its stem, a typo repair when the
 * docs don't know the word, its word family and its synonym group. Unknown words stay in
 * with the idf of a never-seen term, so a question about things the docs never mention can't
 * look well covered.
 */
export function analyzeQuery(index: FaqIndex, question: string): QueryConcept[] {
  const { tuning } = index;
  const concepts: QueryConcept[] = [];
  const seen = new Set<string>();

  for (const word of words(question)) {
    const term = stem(word);
    if (seen.has(term)) continue;
    seen.add(term);

    const alternatives = new Map<string, Alternative>();
    const add = (candidate: string, weight: number, kind: Alternative['kind']) => {
      if (!index.postings.has(candidate)) return;
      const existing = alternatives.get(candidate);
      if (!existing || existing.weight < weight)
        alternatives.set(candidate, { term: candidate, weight, kind });
    };

    add(term, 1, 'exact');
    let base = term;
    let ownIdf = index.idf.get(term);
    if (!index.postings.has(term) && !index.synonyms.byTerm.has(term)) {
      const corrected = index.spelling.correct(word);
      if (corrected) {
        base = stem(corrected);
        add(base, tuning.typoWeight, 'typo');
        ownIdf = index.idf.get(base);
      }
    }
    for (const [related, relation] of index.synonyms.byTerm.get(base) ?? []) {
      if (relation === 'variant') add(related, tuning.variantWeight, 'variant');
      else add(related, tuning.relatedWeight, 'related');
    }
    concepts.push({
      typed: word,
      alternatives: [...alternatives.values()],
      coverageIdf: ownIdf ?? index.unknownIdf,
      ownIdf,
    });
  }

  const sequence = rawStems(question);
  for (const phrase of index.synonyms.byPhrase) {
    if (!containsSequence(sequence, phrase.words)) continue;
    const alternatives: Alternative[] = [];
    for (const [related, relation] of phrase.related) {
      if (!index.postings.has(related)) continue;
      const weight = relation === 'variant' ? tuning.variantWeight : tuning.relatedWeight;
      alternatives.push({ term: related, weight, kind: relation });
    }
    if (alternatives.length > 0) {
      concepts.push({ typed: phrase.words.join(' '), alternatives, coverageIdf: 0, ownIdf: undefined });
    }
  }
  return concepts;
}

function containsSequence(haystack: readonly string[], needle: readonly string[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
