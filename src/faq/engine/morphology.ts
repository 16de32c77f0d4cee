/**
 * Spelling and word-formation variants of a typed word that the docs don't use, so the
 * question can still meet the docs' own form of it. Rules of English spelling only; whether a
 * variant is used at all is decided by the caller against the index.
 */

/** British → American endings (organise → organize, colour → color, programme → program). */
const BRITISH_TO_AMERICAN: [RegExp, string][] = [
  [/isation/, 'ization'],
  [/ise(s|d|r|rs)?$/, 'ize$1'],
  [/ising$/, 'izing'],
  [/yse(s|d)?$/, 'yze$1'],
  [/ysing$/, 'yzing'],
  [/our(s|ed|ing|ful|ite|ites)?$/, 'or$1'],
  [/tre(s)?$/, 'ter$1'],
  [/ogue(s)?$/, 'og$1'],
  [/mme(s)?$/, 'm$1'],
  [/([aeiou])ll(ed|ing|er|ers)$/, '$1l$2'],
  [/ence$/, 'ense'],
  [/ae/, 'e'],
  [/oe/, 'e'],
];

/** Other spellings of a word, most likely first (none when no rule applies). */
export function spellingVariants(word: string): string[] {
  const out: string[] = [];
  for (const [pattern, replacement] of BRITISH_TO_AMERICAN) {
    if (pattern.test(word)) out.push(word.replace(pattern, replacement));
  }
  return out;
}

/**
 * Prefixes that leave the topic of a word in place: "resend" is about sending, "uninstall"
 * about installing, "autofill" about filling. People coin these freely; manuals often don't.
 */
const PREFIXES = ['re', 'un', 'pre', 'auto', 'multi', 'sub', 'de', 'dis', 'non', 'over', 'mis', 'co'];
const MIN_STEM_LETTERS = 4;

/** The word without a topic-keeping prefix, each way it can be read ("reopen" → ["open"]). */
export function withoutPrefix(word: string): string[] {
  return PREFIXES.filter(
    (prefix) => word.startsWith(prefix) && word.length - prefix.length >= MIN_STEM_LETTERS,
  ).map((prefix) => word.slice(prefix.length));
}
