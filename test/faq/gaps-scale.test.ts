import { describe, expect, it } from 'vitest';
import { groupGaps, questionTerms } from '../../src/faq/gaps.js';
import type { AskedQuestion } from '../../src/faq/questions.js';

/*
 * Gap grouping over a month of open questions that share many common words (every question names the app, the
 * tablet, the district …): the groups are the ones a plain scan makes (each question joins the oldest group whose
 * seed is alike enough, else seeds its own), and the time it takes is printed (no timed assertion: the box is shared).
 */

const COMMON = ['tablet', 'sync', 'data', 'district', 'app', 'report', 'visit', 'household', 'login', 'supervisor', 'village', 'form'];

/** `n` questions on `topics` topics: each a topic's own words (four or five of its six) and two or three common words. */
function month(n: number, topics: number): AskedQuestion[] {
  let seed = 42;
  // mulberry32: the same questions on every run.
  const rand = (k: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * k);
  };
  const topicWords = (t: number) => [0, 1, 2, 3, 4, 5].map((i) => `zq${t}x${i}`);
  const out: AskedQuestion[] = [];
  for (let i = 0; i < n; i++) {
    const own = topicWords(rand(topics)).filter(() => rand(4) > 0).slice(0, 5);
    const common = [...COMMON].sort(() => rand(3) - 1).slice(0, 2 + rand(2));
    const at = new Date(Date.UTC(2027, 0, 1) + i * 60_000).toISOString();
    out.push({
      id: `q${String(i).padStart(6, '0')}`,
      question: [...own, ...common].sort(() => rand(3) - 1).join(' '),
      asker: { id: `29:u${i}`, name: `U ${i}` },
      askedAt: at,
      answered: rand(5) === 0,
      helpful: 0,
      notHelpful: rand(5) === 0 ? 1 : 0,
    } as AskedQuestion);
  }
  return out;
}

/** The grouping as defined: oldest first, each question into the first group whose seed is alike enough. */
function plainScan(questions: AskedQuestion[], threshold = 0.5): string[][] {
  const gaps = questions.filter((q) => !q.answered || q.notHelpful > q.helpful).sort((a, b) => a.askedAt.localeCompare(b.askedAt) || a.id.localeCompare(b.id));
  const groups: { terms: Set<string>; ids: string[] }[] = [];
  for (const q of gaps) {
    const terms = questionTerms(q.question);
    const home = groups.find((g) => {
      let n = 0;
      for (const t of terms) if (g.terms.has(t)) n++;
      return terms.size > 0 && g.terms.size > 0 && n / (terms.size + g.terms.size - n) >= threshold;
    });
    if (home) home.ids.push(q.id);
    else groups.push({ terms, ids: [q.id] });
  }
  return groups.map((g) => g.ids).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

const idsOf = (questions: AskedQuestion[], threshold?: number) =>
  groupGaps(questions, threshold).map((g) => [...g.questionIds].reverse()).sort((a, b) => a[0]!.localeCompare(b[0]!));

describe('gap grouping of questions that share many common words', () => {
  it('makes the groups a plain scan makes, on a sample of 1,500', () => {
    const sample = month(1_500, 120);
    const groups = idsOf(sample);
    expect(groups.length).toBeGreaterThan(50);
    expect(groups.some((g) => g.length > 3)).toBe(true);
    expect(groups).toEqual(plainScan(sample));
    // A stricter and a looser threshold too: the index must find every group the scan would.
    for (const t of [0.3, 0.7]) expect(idsOf(sample, t), `threshold ${t}`).toEqual(plainScan(sample, t));
  });

  it('prints how long 2,000 and 8,000 such questions, most of them their own group, take to group', () => {
    // Few repeats (most questions their own group), as when the guidance misses many different things.
    for (const n of [2_000, 8_000]) {
      const questions = month(n, Math.round(n / 2));
      groupGaps(questions); // warm
      const started = performance.now();
      const groups = groupGaps(questions);
      console.log(`groupGaps: ${n} questions sharing common words → ${groups.length} groups in ${(performance.now() - started).toFixed(0)} ms`);
    }
  });
});
