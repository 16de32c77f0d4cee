import { headingText } from '../docs/parse.js';
import type { GuidanceSection } from '../docs/types.js';

/** One line of a question set such as `questions.dev.jsonl`. */
export interface EvalQuestion {
  id: string;
  question: string;
  answerable: boolean;
  gold: { doc: string; heading: string }[];
}

/** What a retriever says about one question, as the batch CLI reports it. */
export interface EvalAnswer {
  answered: boolean;
  results: { doc: string; heading: string }[];
  ms: number;
}

export interface EvalMetrics {
  answerable: number;
  outOfScope: number;
  hitAt1: number;
  hitAt3: number;
  /** Mean reciprocal rank of the first gold section within the returned results (≤ 5). */
  mrr: number;
  /** Share of out-of-scope questions answered "not covered". */
  refused: number;
  /** Share of answerable questions given an answer. */
  answered: number;
  p50Ms: number;
  p95Ms: number;
}

/** Parses a JSONL question set; blank lines skipped, a bad line is an error naming its number. */
export function parseQuestions(jsonl: string): EvalQuestion[] {
  const questions: EvalQuestion[] = [];
  jsonl.split('\n').forEach((line, at) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`questions line ${at + 1}: not JSON`);
    }
    const row = value as Partial<EvalQuestion>;
    if (typeof row.id !== 'string' || typeof row.question !== 'string') {
      throw new Error(`questions line ${at + 1}: needs string "id" and "question"`);
    }
    questions.push({
      id: row.id,
      question: row.question,
      answerable: row.answerable !== false,
      // A gold heading may be copied from the markdown ("Who do I *not* contact?"): compared as sections name it.
      gold: Array.isArray(row.gold) ? row.gold.map((gold) => ({ ...gold, heading: headingText(gold.heading) })) : [],
    });
  });
  return questions;
}

export function isGold(question: EvalQuestion, result: { doc: string; heading: string }): boolean {
  return question.gold.some((gold) => gold.doc === result.doc && gold.heading === result.heading);
}

export function evaluate(questions: EvalQuestion[], answers: EvalAnswer[]): EvalMetrics {
  let answerable = 0;
  let outOfScope = 0;
  let hit1 = 0;
  let hit3 = 0;
  let reciprocal = 0;
  let refused = 0;
  let answered = 0;
  questions.forEach((question, at) => {
    const answer = answers[at]!;
    if (!question.answerable) {
      outOfScope++;
      if (!answer.answered) refused++;
      return;
    }
    answerable++;
    if (answer.answered) answered++;
    const rank = answer.results.findIndex((result) => isGold(question, result));
    if (rank === 0) hit1++;
    if (rank >= 0 && rank < 3) hit3++;
    if (rank >= 0) reciprocal += 1 / (rank + 1);
  });
  const times = answers.map((answer) => answer.ms).sort((a, b) => a - b);
  return {
    answerable,
    outOfScope,
    hitAt1: answerable ? hit1 / answerable : 0,
    hitAt3: answerable ? hit3 / answerable : 0,
    mrr: answerable ? reciprocal / answerable : 0,
    refused: outOfScope ? refused / outOfScope : 0,
    answered: answerable ? answered / answerable : 0,
    p50Ms: percentile(times, 0.5),
    p95Ms: percentile(times, 0.95),
  };
}

/** Share of answerable questions with a gold section anywhere in the results (e.g. the top 30): what re-ranking could reach. */
export function recall(questions: EvalQuestion[], answers: EvalAnswer[]): number {
  const answerable = questions.filter((q) => q.answerable);
  if (!answerable.length) return 0;
  const found = questions.filter((q, at) => q.answerable && answers[at]!.results.some((r) => isGold(q, r)));
  return found.length / answerable.length;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}

/** Runs a question set through a search function, timing each question alone. */
export function runQuestions(
  questions: EvalQuestion[],
  ask: (question: string) => { answered: boolean; results: { section: GuidanceSection }[] },
): EvalAnswer[] {
  return questions.map((question) => {
    const started = performance.now();
    const result = ask(question.question);
    const ms = performance.now() - started;
    return {
      answered: result.answered,
      results: result.results.map((hit) => ({ doc: hit.section.doc, heading: hit.section.heading })),
      ms,
    };
  });
}
