import { stemmer } from 'stemmer';
import { isStopWord } from '../text/stopwords.js';

/**
 * "Is it one of these?": a cheap likeness between a new report and open issues of the same category
 * and site, on the words of title and description. The store keeps each open issue's keywords in
 * its category index row, so the check is one bounded partition read and no extra fetches.
 */


/** Distinct stems of the meaningful words, title words first, at most `max`. */
export function keywords(text: string, max = 40): string[] {
  const out = new Set<string>();
  for (const raw of text
    .toLowerCase()
    .normalize('NFKD')
    .split(/[^\p{L}\p{N}]+/u)) {
    if (raw.length < 3 || isStopWord(raw) || /^\d+$/.test(raw)) continue;
    out.add(stemmer(raw));
    if (out.size >= max) break;
  }
  return [...out];
}

export function issueKeywords(title: string, description: string): string[] {
  return keywords(`${title} ${description}`);
}

/** Cosine likeness of two keyword sets, 0..1. */
export function likeness(a: readonly string[], b: readonly string[]): number {
  if (!a.length || !b.length) return 0;
  const set = new Set(a);
  let shared = 0;
  for (const w of new Set(b)) if (set.has(w)) shared++;
  return shared / Math.sqrt(set.size * new Set(b).size);
}

/** Two reports look alike when they share at least two words and enough of them overall. */
export const LIKENESS_THRESHOLD = 0.3;

export function looksAlike(a: readonly string[], b: readonly string[]): boolean {
  const shared = b.filter((w) => a.includes(w)).length;
  return shared >= Math.min(2, a.length, b.length) && likeness(a, b) >= LIKENESS_THRESHOLD;
}
