import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadGuidanceDir } from '../../../src/faq/docs/load.js';
import { evaluate, parseQuestions, runQuestions } from '../../../src/faq/engine/evaluation.js';
import { buildIndex, type FaqIndex, search } from '../../../src/faq/engine/index.js';
import { HAS_ODK, ODK_DEV_QUESTIONS, ODK_DOCS, ODK_EXTRA_QUESTIONS } from './corpus.js';

/**
 * Regression guard on the real ODK corpus. The floors are the levels the engine reaches on
 * the dev set today (hit@1 0.400, hit@3 0.633, refused 0.80, answered 0.933), less one
 * question, so a change that loses ground fails here. Speed is `faq:eval`'s to print. (Issue #3 targets hit@1 ≥ 0.40 and
 * hit@3 ≥ 0.60 on a held-out set: see the issue note.)
 */
describe.skipIf(!HAS_ODK)('engine on the ODK dev questions', () => {
  // Speed is measured by `npm run faq:eval`, not here: a timing assertion fails on a busy machine.
  it('keeps its retrieval and refusal levels', async () => {
    const loaded = await loadGuidanceDir(ODK_DOCS);
    const index = buildIndex(loaded.sections);
    const questions = parseQuestions(readFileSync(ODK_DEV_QUESTIONS, 'utf8'));
    const metrics = evaluate(
      questions,
      runQuestions(questions, (q) => search(index, q)),
    );

    expect(metrics.hitAt1).toBeGreaterThanOrEqual(0.38);
    expect(metrics.hitAt3).toBeGreaterThanOrEqual(0.61);
    expect(metrics.refused).toBeGreaterThanOrEqual(0.7);
    expect(metrics.answered).toBeGreaterThanOrEqual(0.9);
  });
});

/**
 * The same guard on this project's extra question sets (test/faq/questions): today's levels less
 * one question. Set A: hit@1 0.417, hit@3 0.567; set B: hit@1 0.433, hit@3 0.517.
 */
describe.skipIf(!HAS_ODK)('engine on the extra ODK question sets', () => {
  // One index for both sets: the docs are the same.
  let built: Promise<FaqIndex> | undefined;
  const odkIndex = () => (built ??= loadGuidanceDir(ODK_DOCS).then((loaded) => buildIndex(loaded.sections)));

  it.each([
    ['A', ODK_EXTRA_QUESTIONS.a, 0.4, 0.55],
    ['B', ODK_EXTRA_QUESTIONS.b, 0.416, 0.5],
  ])('set %s keeps its hit@1 and hit@3', async (_name, file, hit1, hit3) => {
    const index = await odkIndex();
    const questions = parseQuestions(readFileSync(file, 'utf8'));
    const metrics = evaluate(
      questions,
      runQuestions(questions, (q) => search(index, q)),
    );
    expect(metrics.hitAt1).toBeGreaterThanOrEqual(hit1);
    expect(metrics.hitAt3).toBeGreaterThanOrEqual(hit3);
  });
});
