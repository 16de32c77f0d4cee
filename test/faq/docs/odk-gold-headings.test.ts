import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadGuidanceDir } from '../../../src/faq/docs/load.js';
import { parseQuestions } from '../../../src/faq/engine/evaluation.js';
import {
  HAS_ODK,
  ODK_DEV_QUESTIONS,
  ODK_DOCS,
  ODK_EXTRA_QUESTIONS,
  SAMPLE_GUIDANCE,
  SAMPLE_QUESTIONS,
  SAMPLE_STAFF_QUESTIONS,
  SAMPLE_APART_QUESTIONS,
  SAMPLE_APART_2_QUESTIONS,
} from '../engine/corpus.js';

/** Every gold {doc, heading} names exactly one section, so a question can't be scored against a typo. */
async function unmatchedGolds(docsDir: string, file: string) {
  const warnings: string[] = [];
  const loaded = await loadGuidanceDir(docsDir, { onWarning: (m) => warnings.push(m) });
  const questions = parseQuestions(readFileSync(file, 'utf8'));
  const golds = questions.flatMap((q) => q.gold);
  const unmatched = golds.filter(
    (gold) => loaded.sections.filter((s) => s.doc === gold.doc && s.heading === gold.heading).length !== 1,
  );
  return { warnings, docs: loaded.docs.length, questions, golds, unmatched };
}

describe.skipIf(!HAS_ODK)('ODK corpus parsing', () => {
  it.each([
    ['the dev set', ODK_DEV_QUESTIONS],
    ['extra set A', ODK_EXTRA_QUESTIONS.a],
    ['extra set B', ODK_EXTRA_QUESTIONS.b],
    ['extra set C', ODK_EXTRA_QUESTIONS.c],
    ['extra set D', ODK_EXTRA_QUESTIONS.d],
  ])('has exactly one section for every gold {doc, heading} of %s', async (_name, file) => {
    const { warnings, docs, golds, unmatched } = await unmatchedGolds(ODK_DOCS, file);
    expect(warnings).toEqual([]);
    expect(docs).toBe(63);
    expect(golds.length).toBeGreaterThan(45);
    expect(unmatched).toEqual([]);
  });
});

describe('sample guidance question sets', () => {
  it.each([
    ['everyday', SAMPLE_QUESTIONS],
    ['staff', SAMPLE_STAFF_QUESTIONS],
    ['apart', SAMPLE_APART_QUESTIONS],
    ['apart 2', SAMPLE_APART_2_QUESTIONS],
  ])('%s: has exactly one section for every gold {doc, heading}, and both kinds of question', async (_name, file) => {
    const { warnings, questions, unmatched } = await unmatchedGolds(SAMPLE_GUIDANCE, file);
    expect(warnings).toEqual([]);
    expect(unmatched).toEqual([]);
    expect(questions.filter((q) => q.answerable).length).toBeGreaterThanOrEqual(20);
    expect(questions.filter((q) => !q.answerable).length).toBeGreaterThan(0);
  });
});
