import { isStopWord } from '../text/stopwords.js';
import { stemmer } from 'stemmer';
import type { AskedQuestion } from './questions.js';

/** A group of questions that ask the same thing, for the rollout team's docs to-do list. */
export interface GapGroup {
  /**
   * Stable while the group grows: the id of its oldest question (groups are seeded oldest first,
   * and later questions join them), so an "Answer this" card can carry it.
   */
  id: string;
  /** Every question in the group (the champion's answer is sent to all their askers). */
  questionIds: string[];
  /** The most recent wording, as the example shown. */
  example: string;
  count: number;
  unanswered: number;
  notHelpful: number;
  askers: number;
  lastAskedAt: string;
  questions: string[];
}


export function questionTerms(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return new Set(words.filter((w) => !isStopWord(w) && w.length > 1).map((w) => stemmer(w)));
}

/** Share of content words two questions have in common (Jaccard). */
export function similarity(a: Set<string>, b: Set<string>): number {
  if (!a.size || !b.size) return 0;
  let shared = 0;
  for (const t of a) if (b.has(t)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * The questions that show a gap in the guidance — unanswered, or answered but marked not helpful — grouped
 * when their content words mostly overlap (greedy, against each group's first question), biggest groups first.
 */
export function groupGaps(questions: AskedQuestion[], threshold = 0.5): GapGroup[] {
  // Oldest first, so a group is seeded by (and named after) its first question and keeps that id.
  const gaps = questions
    .filter((q) => !q.answered || q.notHelpful > q.helpful)
    .sort((a, b) => a.askedAt.localeCompare(b.askedAt) || a.id.localeCompare(b.id));
  const groups: { terms: Set<string>; items: AskedQuestion[] }[] = [];
  for (const q of gaps) {
    const terms = questionTerms(q.question);
    const home = groups.find((g) => similarity(g.terms, terms) >= threshold);
    if (home) home.items.push(q);
    else groups.push({ terms, items: [q] });
  }
  return groups
    .map(({ items: oldestFirst }) => ({ id: oldestFirst[0]!.id, items: [...oldestFirst].reverse() }))
    .map(({ id, items }) => ({
      id,
      questionIds: items.map((q) => q.id),
      example: items[0]?.question ?? '',
      count: items.length,
      unanswered: items.filter((q) => !q.answered).length,
      notHelpful: items.filter((q) => q.answered).length,
      askers: new Set(items.map((q) => q.asker.aadObjectId ?? q.asker.id)).size,
      lastAskedAt: items[0]?.askedAt ?? '',
      questions: [...new Set(items.map((q) => q.question))].slice(0, 5),
    }))
    .sort((a, b) => b.count - a.count || b.lastAskedAt.localeCompare(a.lastAskedAt));
}
