/**
 * Typo repair against the docs' own vocabulary: a typed word the docs never use is mapped to
 * the closest word they do use, if one is close enough ("enumarator" → "enumerator"). Words
 * shorter than 4 letters are left alone: at that length everything is one edit from something.
 */
export class SpellingVocabulary {
  /** Known words bucketed by length, so a lookup only scans lengths within the edit budget. */
  private readonly byLength = new Map<number, { word: string; count: number }[]>();
  private readonly known: Map<string, number>;
  /** Repairs already worked out (misses too): the same typos come back again and again. */
  private readonly memo = new Map<string, string | undefined>();

  constructor(wordCounts: Map<string, number>) {
    this.known = wordCounts;
    for (const [word, count] of wordCounts) {
      const bucket = this.byLength.get(word.length) ?? [];
      bucket.push({ word, count });
      this.byLength.set(word.length, bucket);
    }
  }

  has(word: string): boolean {
    return this.known.has(word);
  }

  /** Closest known word within the edit budget, most frequent on ties; undefined if none. */
  correct(word: string): string | undefined {
    if (this.memo.has(word)) return this.memo.get(word);
    const repaired = this.closest(word);
    if (this.memo.size < 50_000) this.memo.set(word, repaired);
    return repaired;
  }

  private closest(word: string): string | undefined {
    const budget = editBudget(word.length);
    if (budget === 0) return undefined;
    let best: { word: string; count: number; distance: number } | undefined;
    for (let length = word.length - budget; length <= word.length + budget; length++) {
      for (const candidate of this.byLength.get(length) ?? []) {
        // Typos rarely touch the first letter; requiring it keeps "canteen" from becoming "content".
        if (candidate.word[0] !== word[0]) continue;
        const distance = damerauLevenshtein(word, candidate.word, budget);
        if (distance > budget) continue;
        if (
          !best ||
          distance < best.distance ||
          (distance === best.distance && candidate.count > best.count)
        ) {
          best = { ...candidate, distance };
        }
      }
    }
    return best?.word;
  }
}

export function editBudget(length: number): number {
  if (length < 4) return 0;
  if (length < 8) return 1;
  return 2;
}

/** Optimal-string-alignment distance (adjacent swaps count as one edit), cut off above `max`. */
export function damerauLevenshtein(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const width = b.length + 1;
  let previous2 = new Array<number>(width).fill(0);
  let previous = Array.from({ length: width }, (_, j) => j);
  let current = new Array<number>(width).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = current[0];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, previous2[j - 2]! + 1);
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    [previous2, previous, current] = [previous, current, previous2];
  }
  return previous[b.length]!;
}
