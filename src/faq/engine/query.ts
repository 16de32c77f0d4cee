import type { FaqIndex } from './build.js';
import { spellingVariants, withoutPrefix } from './morphology.js';
import { rawStems } from './synonyms.js';
import { stem, words } from './text.js';

/** One way a query concept can show up in a section, and how much finding it there is worth. */
export interface Alternative {
  term: string;
  weight: number;
  /**
   * exact: the typed word; typo: its spelling repair; variant: same word family; related: synonym group;
   * translation: a doc term that goes with the word across the docs (ranking only).
   */
  kind: 'exact' | 'typo' | 'variant' | 'related' | 'translation';
}

/** A word the user typed (or a phrase), with the index terms that stand for it. */
export interface QueryConcept {
  typed: string;
  alternatives: Alternative[];
  /** idf the concept counts with in "how much of the question was covered" (0 for phrase helpers). */
  coverageIdf: number;
  /** The idf of the word as typed (or repaired) when the docs use it; caps what its synonyms are worth. */
  ownIdf: number | undefined;
  /** Ranking weight of the concept as a whole: above 1 for an error code, which names its own topic. */
  boost: number;
  /** The part of `boost` that comes from standing in the part of the question that asks (`askingPartBonus`). */
  focus?: number;
}

/**
 * Turns a question into concepts: each content word with its stem; when the docs don't know
 * the word, their spelling of it (British/American) or else a typo repair, and the word without
 * a prefix ("resend" → send); its word family and its synonym group. Unknown words stay in
 * with the idf of a never-seen term, so a question about things the docs never mention can't
 * look well covered.
 */
export function analyzeQuery(index: FaqIndex, question: string): QueryConcept[] {
  const { tuning } = index;
  const concepts: QueryConcept[] = [];
  const seen = new Set<string>();

  const asking = tuning.askingPartBonus > 0 ? askingPartTerms(question) : undefined;
  for (const word of words(question)) {
    const term = stem(word);
    if (seen.has(term)) continue;
    seen.add(term);
    const focus = asking?.has(term) ? 1 + tuning.askingPartBonus : 1;

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
    const unknown = !index.postings.has(term);
    // The docs' spelling of the same word ("organisation" where they write "organization").
    const respelled = unknown
      ? spellingVariants(word)
          .map(stem)
          .find((variant) => variant !== term && index.postings.has(variant))
      : undefined;
    if (respelled) {
      base = respelled;
      add(base, 1, 'variant');
      ownIdf = index.idf.get(base);
    } else if (unknown && !index.synonyms.byTerm.has(term)) {
      const corrected = index.spelling.correct(word);
      if (corrected) {
        base = stem(corrected);
        add(base, tuning.typoWeight, 'typo');
        ownIdf = index.idf.get(base);
      }
    }
    if (unknown) for (const rest of withoutPrefix(word)) add(stem(rest), tuning.prefixWeight, 'variant');
    for (const [related, relation] of index.synonyms.byTerm.get(base) ?? []) {
      if (relation === 'variant') add(related, tuning.variantWeight, 'variant');
      else add(related, tuning.relatedWeight, 'related');
    }
    concepts.push({
      typed: word,
      alternatives: [...alternatives.values()],
      coverageIdf: ownIdf ?? index.unknownIdf,
      ownIdf,
      // Only an error code keeps its digits ("FL-403" → fl403): people copy it from the screen.
      // A code the glossary explains ("K-05" = monthly report) is a word like any other.
      focus,
      boost: focus * (/\d/.test(word) && !index.synonyms.byTerm.has(term) ? tuning.codeBoost : 1),
    });
  }

  const sequence = rawStems(question);
  for (const phrase of index.synonyms.byPhrase) {
    if (!containsSequence(sequence, phrase.words, PHRASE_GAP)) continue;
    const alternatives: Alternative[] = [];
    for (const [related, relation] of phrase.related) {
      if (!index.postings.has(related)) continue;
      const weight = relation === 'variant' ? tuning.variantWeight : tuning.relatedWeight;
      alternatives.push({ term: related, weight, kind: relation });
    }
    if (alternatives.length > 0) {
      concepts.push({ typed: phrase.words.join(' '), alternatives, coverageIdf: 0, ownIdf: undefined, boost: 1 });
    }
  }
  return concepts;
}

/** A part of a question that asks, rather than tells. */
const ASKING = /^\W*(?:how|what|whats|where|when|who|why|which|can|could|should|shall|do|does|did|is|are|will|would|may|must|any)\b/i;

/**
 * Terms of the parts that ask, when the question also has parts that only tell (see
 * `EngineTuning.askingPartBonus`); undefined when every part asks or none does.
 */
function askingPartTerms(question: string): Set<string> | undefined {
  const parts = question.split(/[,.;:!?]+|\s+-\s+/).map((part) => part.trim()).filter((part) => words(part).length > 0);
  const asking = parts.filter((part) => ASKING.test(part));
  if (asking.length === 0 || asking.length === parts.length) return undefined;
  return new Set(asking.flatMap((part) => words(part).map(stem)));
}

/**
 * Words allowed between the words of a phrase: separable phrasal verbs put their object in the
 * middle ("get it back", "cut them off", "turn it on").
 */
const PHRASE_GAP = 1;

/** Whether the needle's words occur in order, each within `gap` words of the one before. */
export function containsSequence(haystack: readonly string[], needle: readonly string[], gap = 0): boolean {
  if (needle.length === 0) return true;
  for (let start = 0; start < haystack.length; start++) {
    if (haystack[start] !== needle[0]) continue;
    let at = start;
    let matched = 1;
    while (matched < needle.length) {
      let next = -1;
      for (let k = at + 1; k <= Math.min(haystack.length - 1, at + 1 + gap); k++) {
        if (haystack[k] === needle[matched]) {
          next = k;
          break;
        }
      }
      if (next < 0) break;
      at = next;
      matched++;
    }
    if (matched === needle.length) return true;
  }
  return false;
}
