import type { FaqIndex } from './build.js';
import { isStopWord, normalize, stem } from './text.js';

/** Fewer words than this say too little to tell a language by (a product name, a code). */
const MIN_WORDS = 5;
/** At least this share of the words known neither to English nor to the guidance… */
const UNKNOWN_SHARE = 0.7;
/** …and at most this share of English function words ("a", "me", "on" are words of other languages too). */
const ENGLISH_SHARE = 0.25;
/** Letters of another script than Latin, at least this many and this share of all letters: Amharic, Arabic, Chinese… */
const OTHER_SCRIPT_LETTERS = 4;
const OTHER_SCRIPT_SHARE = 0.5;

/**
 * Whether a question the guidance did not answer looks written in another language than English: mostly letters of
 * another script, or mostly words that are neither English function words, nor the general-English words the engine
 * relates (its synonym table), nor words of the guidance (its vocabulary, or their stems). Offline and cheap; asked
 * only of questions already not answered, so it changes no answer.
 */
export function looksNotEnglish(index: FaqIndex, text: string): boolean {
  const letters = [...text].filter((c) => /\p{L}/u.test(c));
  const other = letters.filter((c) => !/\p{Script=Latin}/u.test(c)).length;
  if (other >= OTHER_SCRIPT_LETTERS && other >= letters.length * OTHER_SCRIPT_SHARE) return true;
  // Words of letters only: a token with digits is a code, a reference or a model number ("FL-403", "R42"), in no language.
  const words = normalize(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 1 && !/\p{N}/u.test(w));
  if (words.length < MIN_WORDS) return false;
  const english = words.filter((w) => isStopWord(w)).length;
  const unknown = words.filter((w) => {
    if (isStopWord(w) || index.spelling.has(w)) return false;
    const s = stem(w);
    return !index.postings.has(s) && !index.synonyms.byTerm.has(s);
  }).length;
  return unknown >= words.length * UNKNOWN_SHARE && english <= words.length * ENGLISH_SHARE;
}
