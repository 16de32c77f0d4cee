import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadGuidanceDir } from '../../../src/faq/docs/load.js';
import { parseQuestions } from '../../../src/faq/engine/evaluation.js';
import { HAS_ODK, ODK_DEV_QUESTIONS, ODK_DOCS, ODK_EXTRA_QUESTIONS } from '../engine/corpus.js';

describe.skipIf(!HAS_ODK)('ODK corpus parsing', () => {
  it.each([
    ['the dev set', ODK_DEV_QUESTIONS],
    ['extra set A', ODK_EXTRA_QUESTIONS.a],
    ['extra set B', ODK_EXTRA_QUESTIONS.b],
  ])('has exactly one section for every gold {doc, heading} of %s', async (_name, file) => {
    const warnings: string[] = [];
    const loaded = await loadGuidanceDir(ODK_DOCS, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(loaded.docs).toHaveLength(63);
    const questions = parseQuestions(readFileSync(file, 'utf8'));
    const golds = questions.flatMap((q) => q.gold);
    expect(golds.length).toBeGreaterThan(55);
    const unmatched = golds.filter(
      (gold) => loaded.sections.filter((s) => s.doc === gold.doc && s.heading === gold.heading).length !== 1,
    );
    expect(unmatched).toEqual([]);
  });
});
