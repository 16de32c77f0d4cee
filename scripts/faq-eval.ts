/**
 * Measures the FAQ engine on a question set, side by side with a plain BM25 baseline
 * (minisearch, default options, same sections): hit@1, hit@3, MRR, refusals, answers,
 * per-question latency and index build time.
 *   npm run faq:eval -- --docs ../shared/corpus/odk-docs/docs --questions ../shared/corpus/odk-docs/questions.dev.jsonl
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadGuidanceDir } from '../src/faq/docs/index.js';
import { buildBaseline } from '../src/faq/engine/baseline.js';
import { type EvalMetrics, evaluate, parseQuestions, recall, runQuestions } from '../src/faq/engine/evaluation.js';
import { buildIndex, search } from '../src/faq/engine/index.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    docs: { type: 'string', default: '../shared/corpus/odk-docs/docs' },
    questions: { type: 'string', default: '../shared/corpus/odk-docs/questions.dev.jsonl' },
  },
});

const loaded = await loadGuidanceDir(values.docs, {
  onWarning: (message) => process.stderr.write(`${message}\n`),
});
const questions = parseQuestions(readFileSync(values.questions, 'utf8'));

function timed<T>(build: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = build();
  return { value, ms: performance.now() - started };
}

const engine = timed(() => buildIndex(loaded.sections));
const baseline = timed(() => buildBaseline(loaded.sections));
// One untimed question each, so JIT warm-up isn't billed to the first real one.
search(engine.value, 'warm up');
baseline.value.search('warm up');

const engineMetrics = evaluate(
  questions,
  runQuestions(questions, (q) => search(engine.value, q, { limit: 5 })),
);
const baselineMetrics = evaluate(
  questions,
  runQuestions(questions, (q) => baseline.value.search(q, 5)),
);

// Recall over a deeper list (untimed): how often the gold section is retrieved at all, whatever its rank.
const RECALL_DEPTH = 30;
const engineRecall = recall(
  questions,
  runQuestions(questions, (q) => search(engine.value, q, { limit: RECALL_DEPTH })),
);
const baselineRecall = recall(
  questions,
  runQuestions(questions, (q) => baseline.value.search(q, RECALL_DEPTH)),
);

interface Column extends EvalMetrics {
  buildMs: number;
  recall: number;
}
const engineColumn: Column = { ...engineMetrics, buildMs: engine.ms, recall: engineRecall };
const baselineColumn: Column = { ...baselineMetrics, buildMs: baseline.ms, recall: baselineRecall };

const rows: [string, (m: Column) => string][] = [
  ['hit@1', (m) => m.hitAt1.toFixed(3)],
  ['hit@3', (m) => m.hitAt3.toFixed(3)],
  ['MRR (top 5)', (m) => m.mrr.toFixed(3)],
  [`recall@${RECALL_DEPTH}`, (m) => m.recall.toFixed(3)],
  ['out-of-scope refused', (m) => m.refused.toFixed(3)],
  ['answerable answered', (m) => m.answered.toFixed(3)],
  ['p50 ms / question', (m) => m.p50Ms.toFixed(2)],
  ['p95 ms / question', (m) => m.p95Ms.toFixed(2)],
  ['index build ms', (m) => m.buildMs.toFixed(0)],
];

const out: string[] = [];
out.push(
  `docs: ${values.docs} (${loaded.docs.length} docs, ${loaded.sections.length} sections)` +
    (loaded.skipped.length ? `, ${loaded.skipped.length} skipped` : ''),
);
out.push(
  `questions: ${values.questions} (${engineMetrics.answerable} answerable, ${engineMetrics.outOfScope} out of scope)`,
);
out.push('');
const width = Math.max(...rows.map(([name]) => name.length));
out.push(`| ${'metric'.padEnd(width)} | engine | BM25 baseline |`);
out.push(`| ${'-'.repeat(width)} | -----: | ------------: |`);
for (const [name, format] of rows) {
  out.push(
    `| ${name.padEnd(width)} | ${format(engineColumn).padStart(6)} | ${format(baselineColumn).padStart(13)} |`,
  );
}
process.stdout.write(`${out.join('\n')}\n`);
