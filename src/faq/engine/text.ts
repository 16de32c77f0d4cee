import { stemmer } from 'stemmer';
import { isStopWord } from '../../text/stopwords.js';

export { isStopWord };


/** Lower case, accents off, apostrophes dropped so "don't" and "dont" meet. */
export function normalize(text: string): string {
  return normalizeCase(text).toLowerCase();
}

/**
 * Surface words of a text, in order: camelCase split ("OutOfMemoryError" → out of memory
 * error) with the whole word kept too ("OData" → odata, data), since people type a product's
 * name as one word; snake_case split; numbers dropped (in questions they are quantities, not
 * topics); stop words and single letters dropped.
 */
export function words(text: string): string[] {
  const out: string[] = [];
  // Hyphens kept at first, so an error code ("FL-403", "E1102") is seen whole; it is kept as one
  // word (people look it up verbatim) as well as split like any other token.
  for (const token of normalizeCase(text).split(/[^\p{L}\p{N}-]+/u)) {
    if (ERROR_CODE.test(token)) out.push(token.replace(/-/g, '').toLowerCase());
    for (const part of token.split('-')) {
      pushWord(out, part.toLowerCase());
      if (!MIXED_CASE.test(part) || PLURAL_ABBREVIATION.test(part)) continue;
      const spaced = part.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
      for (const piece of spaced.toLowerCase().split(' ')) pushWord(out, piece);
    }
  }
  return out;
}

/** `normalize` without the lower-casing: accents and apostrophes off, case kept for camelCase. */
function normalizeCase(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/['’`]/g, '');
}

/** Letter groups then two to six digits, hyphens between: "FL-403", "FL-AUTH-423", "E1102". */
const ERROR_CODE = /^[A-Za-z]{1,6}(?:-[A-Za-z]{1,6})*-?\d{2,6}$/;

/** A case change inside a word: "OData", "XLSForm", "geoPoint". */
const MIXED_CASE = /[a-z][A-Z]|[A-Z]{2}[a-z]/;

/** An abbreviation's plural ("FOs", "IDs", "PDFs"), not a case change: split, it leaves a stray "os" or "ds". */
const PLURAL_ABBREVIATION = /^[A-Z]{2,}s$/;

/**
 * Conversational adverbs that say nothing about the topic, yet stem onto words that do:
 * "actually" → actual, "basically" → basic, "literally" → liter.
 */
const FILLERS = new Set(
  'actually basically literally honestly seriously kindly perhaps somehow anyway anyways totally definitely probably apparently'.split(' '),
);

/**
 * Chat shorthand staff type in Teams, read as the word it stands for: the docs spell words out,
 * so "tmrw" and "wks" would otherwise be unknown words that make a question look off-topic.
 */
const SHORTHAND: Record<string, string> = {
  tmrw: 'tomorrow',
  tmr: 'tomorrow',
  tmrow: 'tomorrow',
  '2moro': 'tomorrow',
  yday: 'yesterday',
  wk: 'week',
  wks: 'weeks',
  yr: 'year',
  yrs: 'years',
  mth: 'month',
  mths: 'months',
  hrs: 'hours',
  mins: 'minutes',
  secs: 'seconds',
  nos: 'numbers',
  diff: 'different',
  msg: 'message',
  msgs: 'messages',
  pwd: 'password',
  pic: 'photo',
  pics: 'photos',
  govt: 'government',
  dept: 'department',
  mgr: 'manager',
  acct: 'account',
  prob: 'problem',
  probs: 'problems',
  ppl: 'people',
  approx: 'approximately',
};

function pushWord(out: string[], typed: string): void {
  const raw = SHORTHAND[typed] ?? typed;
  if (raw.length < 2 || /^\p{N}+$/u.test(raw) || isStopWord(raw) || FILLERS.has(raw)) return;
  // "40m", "v2021" → keep the letters only; digits glued to words are versions and sizes.
  const letters = raw.replace(/\p{N}+/gu, '');
  if (letters.length < 2 || isStopWord(letters)) return;
  out.push(letters);
}

const stemCache = new Map<string, string>();

/**
 * Porter stem, applied until it no longer changes (at most three rounds), cached: the same few
 * thousand words are stemmed over and over. One round leaves word families apart that a second
 * joins: "conditionally" → "condition" but "conditional" → "condit" (and "condition" → "condit").
 */
export function stem(word: string): string {
  let stemmed = stemCache.get(word);
  if (stemmed === undefined) {
    stemmed = stemmer(word);
    for (let round = 1; round < 3; round++) {
      const again = stemmer(stemmed);
      if (again === stemmed) break;
      stemmed = again;
    }
    if (stemCache.size < 200_000) stemCache.set(word, stemmed);
  }
  return stemmed;
}

/** Stemmed terms of a text, the unit the index counts. */
export function terms(text: string): string[] {
  return words(text).map(stem);
}
