import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadGuidanceDir } from '../../../src/faq/docs/load.js';
import { evaluate, parseQuestions, runQuestions } from '../../../src/faq/engine/evaluation.js';
import { buildIndex, search } from '../../../src/faq/engine/index.js';
import { HAS_ODK, ODK_DEV_QUESTIONS, ODK_DOCS } from './corpus.js';

/**
 * Regression guard on the real ODK corpus. The floors are the levels the engine reaches on
 * the dev set today (hit@1 0.400, hit@3 0.633, refused 0.80, answered 0.933), less one
 * question, so a change that loses ground fails here. (Issue #3 targets hit@1 ≥ 0.40 and
 * hit@3 ≥ 0.60 on a held-out set: see the issue note.)
 */
describe.skipIf(!HAS_ODK)('engine on the ODK dev questions', () => {
  it('keeps its retrieval, refusal and speed levels', async () => {
    const loaded = await loadGuidanceDir(ODK_DOCS);
    const started = performance.now();
    const index = buildIndex(loaded.sections);
    const buildMs = performance.now() - started;
    const questions = parseQuestions(readFileSync(ODK_DEV_QUESTIONS, 'utf8'));
    search(index, 'warm up');
    const metrics = evaluate(
      questions,
      runQuestions(questions, (q) => search(index, q)),
    );

    expect(metrics.hitAt1).toBeGreaterThanOrEqual(0.38);
    expect(metrics.hitAt3).toBeGreaterThanOrEqual(0.61);
    expect(metrics.refused).toBeGreaterThanOrEqual(0.7);
    expect(metrics.answered).toBeGreaterThanOrEqual(0.9);
    expect(buildMs).toBeLessThan(2000);
    expect(metrics.p95Ms).toBeLessThan(10);
  });
});
