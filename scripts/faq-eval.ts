/**
 * Measures the FAQ engine on a question set, side by side with a plain BM25 baseline
 * (minisearch, default options, same sections): hit@1, hit@3, MRR, refusals, answers,
 * per-question latency and index build time.
 *   npm run faq:eval -- --docs ../shared/corpus/odk-docs/docs --questions ../shared/corpus/odk-docs/questions.dev.jsonl
 * Options: --tuning '{"idfPower":0.9}' measures a variant of the engine's knobs (see tuning.ts);
 * --halves adds the engine's hit@1 / hit@3 on the odd and even lines of the set separately, a
 * rough view of how far a figure moves on another sample of the same kind of questions.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadGuidanceDir } from '../src/faq/docs/index.js';
import { buildBaseline } from '../src/faq/engine/baseline.js';
import { type EvalMetrics, evaluate, parseQuestions, recall, runQuestions } from '../src/faq/engine/evaluation.js';
import { buildIndex, parseTuning, search } from '../src/faq/engine/index.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    docs: { type: 'string', default: '../shared/corpus/odk-docs/docs' },
    questions: { type: 'string', default: '../shared/corpus/odk-docs/questions.dev.jsonl' },
    tuning: { type: 'string', default: '{}' },
    halves: { type: 'boolean', default: false },
  },
});

let tuning: ReturnType<typeof parseTuning>;
try {
  tuning = parseTuning(values.tuning);
} catch (error) {
  process.stderr.write(`faq:eval: ${(error as Error).message}\n`);
  process.exit(2);
}

const loaded = await loadGuidanceDir(values.docs, {
  onWarning: (message) => process.stderr.write(`${message}\n`),
});
const questions = parseQuestions(readFileSync(values.questions, 'utf8'));

function timed<T>(build: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = build();
  return { value, ms: performance.now() - started };
}

const engine = timed(() => buildIndex(loaded.sections, tuning));
const baseline = timed(() => buildBaseline(loaded.sections));
// One untimed question each, so JIT warm-up isn't billed to the first real one.
search(engine.value, 'warm up');
baseline.value.search('warm up');

const engineAnswers = runQuestions(questions, (q) => search(engine.value, q, { limit: 5 }));
const engineMetrics = evaluate(questions, engineAnswers);
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
if (Object.keys(tuning).length > 0) out.push(`engine tuning: ${JSON.stringify(tuning)}`);
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
if (values.halves) {
  out.push('');
  out.push('| engine on half of the set | hit@1 | hit@3 | answerable |');
  out.push('| ------------------------- | ----: | ----: | ---------: |');
  for (const [name, parity] of [
    ['odd lines (1st, 3rd, …)', 0],
    ['even lines (2nd, 4th, …)', 1],
  ] as const) {
    const keep = (_: unknown, at: number) => at % 2 === parity;
    const half = evaluate(questions.filter(keep), engineAnswers.filter(keep));
    out.push(
      `| ${name.padEnd(25)} | ${half.hitAt1.toFixed(3)} | ${half.hitAt3.toFixed(3)} | ${String(half.answerable).padStart(10)} |`,
    );
  }
}
process.stdout.write(`${out.join('\n')}\n`);
