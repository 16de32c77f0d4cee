import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root, found from this file so tests run from any working directory. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The shared ODK corpus sits beside the repo (../shared); CI clones it there too. */
export const ODK_DIR = path.resolve(REPO_ROOT, '../shared/corpus/odk-docs');
export const ODK_DOCS = path.join(ODK_DIR, 'docs');
export const ODK_DEV_QUESTIONS = path.join(ODK_DIR, 'questions.dev.jsonl');
const present = existsSync(ODK_DOCS) && existsSync(ODK_DEV_QUESTIONS);
// Locally a missing corpus skips these tests; in CI (CI=true) it is a failure, never a silent skip.
if (!present && process.env.CI === 'true') {
  throw new Error(`The shared ODK corpus is missing at ${ODK_DIR}; CI must check out ../shared beside the repo.`);
}
export const HAS_ODK = present;

/** This project's extra question sets on the same corpus (see test/faq/questions/README.md). */
export const ODK_EXTRA_QUESTIONS = {
  a: path.join(REPO_ROOT, 'test/faq/questions/odk-extra-a.jsonl'),
  b: path.join(REPO_ROOT, 'test/faq/questions/odk-extra-b.jsonl'),
  c: path.join(REPO_ROOT, 'test/faq/questions/odk-extra-c.jsonl'),
  d: path.join(REPO_ROOT, 'test/faq/questions/odk-extra-d.jsonl'),
};

/** Everyday questions about the demo rollout, over `sample/guidance` (see test/faq/questions/README.md). */
export const SAMPLE_GUIDANCE = path.join(REPO_ROOT, 'sample/guidance');
export const SAMPLE_GLOSSARY = path.join(REPO_ROOT, 'sample/glossary.yaml');
export const SAMPLE_QUESTIONS = path.join(REPO_ROOT, 'test/faq/questions/sample-everyday.jsonl');
/** More staff questions about the sample guidance, written for tuning (see test/faq/questions/README.md). */
export const SAMPLE_STAFF_QUESTIONS = path.join(REPO_ROOT, 'test/faq/questions/sample-staff.jsonl');
export const SAMPLE_APART_QUESTIONS = path.join(REPO_ROOT, 'test/faq/questions/sample-apart.jsonl');
export const SAMPLE_APART_2_QUESTIONS = path.join(REPO_ROOT, 'test/faq/questions/sample-apart-2.jsonl');
