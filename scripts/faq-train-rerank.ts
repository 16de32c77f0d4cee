/**
 * Trains and cross-validates a linear re-ranker over the FAQ engine's top candidates, on the TUNING
 * sets only (the report-only sets are never loaded here).
 *
 *   npx tsx scripts/faq-train-rerank.ts            cross-validation grid (features × regularisation × K)
 *   npx tsx scripts/faq-train-rerank.ts --fit      also fits on all tuning sets and prints the weights
 *   --groups all,lexical   only these feature groups in the grid (see GROUPS); --lambdas, --depths likewise
 *   --split                also a fixed split: trained on ODK dev + A + sample everyday + staff, measured on
 *                          ODK D + sample apart (a check that a feature carries over to sets it never saw)
 *   --train-tuning '<json>'  train on the candidate lists of the engine with these knobs (measured always on
 *                          the default engine's): '{"translationWeight":0}' is how main's weights were fitted
 *
 * Tried and not kept (branch faq-vec, Dec 2026): general-English word vectors (GloVe 100-d, the 40K most
 * frequent words as int8, 4.3 MB) as features — each question word's best cosine to the section's / heading's
 * words, and the cosine of idf-weighted mean vectors — and as query expansion. Held-out hit@3 moved by at most
 * one question per set either way (same with 150K words), fitted weights left every tuning set's hit@3 as it
 * was, and a question took 1–3 ms more. GloVe's nearness is topical ("login" ~ password 0.68) more than same
 * meaning ("questionnaire" ~ form 0.19); the misses are mostly sections outside the lexical top 20.
 *
 * Model: pairwise logistic regression (RankNet with a linear scorer): for each answerable question whose
 * gold is among the engine's top K, every (gold, other) pair should score gold higher; each question
 * counts once (its pairs averaged); L2 towards 0, full-batch gradient descent, deterministic.
 * Held-out figures: hit@1, hit@3, MRR over the re-ranked top 5, against the engine's own order, on
 * each tuning set left out in turn (trained on the others).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadGuidanceDir } from '../src/faq/docs/index.js';
import { EMPTY_GLOSSARY, parseGlossary } from '../src/faq/glossary.js';
import { type EvalQuestion, isGold, parseQuestions } from '../src/faq/engine/evaluation.js';
import { buildIndex, type EngineTuning, type FaqIndex, parseTuning, search } from '../src/faq/engine/index.js';
import { analyzeQuery } from '../src/faq/engine/query.js';
import { questionView, RERANK_FEATURES, rerankFeatures, rerankOrder } from '../src/faq/engine/rerank.js';
import { RERANK_DEPTH, RERANK_WEIGHTS } from '../src/faq/engine/rerank-weights.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ODK_DOCS = path.resolve(ROOT, '../shared/corpus/odk-docs/docs');
const SAMPLE_DOCS = path.join(ROOT, 'sample/guidance');
const SAMPLE_GLOSSARY = path.join(ROOT, 'sample/glossary.yaml');

/** Tuning sets only: see scripts/faq-eval.ts. */
const TUNING_SETS = [
  { name: 'ODK dev', docs: ODK_DOCS, questions: '../shared/corpus/odk-docs/questions.dev.jsonl' },
  { name: 'ODK A', docs: ODK_DOCS, questions: 'test/faq/questions/odk-extra-a.jsonl' },
  { name: 'ODK D', docs: ODK_DOCS, questions: 'test/faq/questions/odk-extra-d.jsonl' },
  { name: 'sample everyday', docs: SAMPLE_DOCS, questions: 'test/faq/questions/sample-everyday.jsonl', glossary: SAMPLE_GLOSSARY },
  { name: 'sample staff', docs: SAMPLE_DOCS, questions: 'test/faq/questions/sample-staff.jsonl', glossary: SAMPLE_GLOSSARY },
  { name: 'sample apart', docs: SAMPLE_DOCS, questions: 'test/faq/questions/sample-apart.jsonl', glossary: SAMPLE_GLOSSARY },
];

const { values } = parseArgs({
  args: process.argv.slice(2),
  // --within: train only on the same corpus as the held-out set (ODK dev ↔ A; sample sets among themselves).
  options: {
    fit: { type: 'boolean', default: false },
    within: { type: 'boolean', default: false },
    lambda: { type: 'string', default: '0.001' },
    depth: { type: 'string', default: '20' },
    'no-grid': { type: 'boolean', default: false },
    groups: { type: 'string' },
    lambdas: { type: 'string', default: '0.001,0.01,0.1' },
    depths: { type: 'string', default: '10,20,30' },
    split: { type: 'boolean', default: false },
    'train-tuning': { type: 'string' },
  },
});

interface Item {
  set: string;
  rows: number[][];
  gold: boolean[];
}

const DEPTH = 30;

/** One item per answerable tuning question: the engine's top DEPTH (re-ranker off) with its features. */
async function collect(tuning: Partial<EngineTuning>): Promise<Item[]> {
  const collected: Item[] = [];
  const indexes = new Map<string, FaqIndex>();
  for (const set of TUNING_SETS) {
    let index = indexes.get(set.docs);
    if (!index) {
      const loaded = await loadGuidanceDir(set.docs, { onWarning: () => {} });
      const glossary = set.glossary ? parseGlossary(readFileSync(set.glossary, 'utf8'), set.glossary) : EMPTY_GLOSSARY;
      index = buildIndex(loaded.sections, { ...tuning, rerank: 0 }, { glossary });
      indexes.set(set.docs, index);
    }
    const questions: EvalQuestion[] = parseQuestions(readFileSync(path.resolve(ROOT, set.questions), 'utf8'));
    for (const question of questions) {
      if (!question.answerable) continue;
      // The lexical order: the index is built with the re-ranker off.
      const result = search(index, question.question, { limit: DEPTH });
      const view = questionView(index, question.question, analyzeQuery(index, question.question));
      const rows = rerankFeatures(view, result.results);
      collected.push({
        set: set.name,
        rows,
        gold: result.results.map((hit) => isGold(question, { doc: hit.section.doc, heading: hit.section.heading })),
      });
    }
  }
  return collected;
}

// Measured on the default engine's lists; trained on them too unless --train-tuning names another engine.
const items = await collect({});
const trainItems = values['train-tuning'] ? await collect(parseTuning(values['train-tuning'])) : items;

type Mask = boolean[];

function train(train: Item[], mask: Mask, lambda: number, k: number): number[] {
  const n = RERANK_FEATURES.length;
  const w = new Array<number>(n).fill(0);
  w[0] = 1; // start from the engine's own order
  const usable = train.filter((item) => item.gold.slice(0, k).some(Boolean) && !item.gold.slice(0, k).every(Boolean));
  const rate = 0.5;
  for (let epoch = 0; epoch < 400; epoch++) {
    const grad = new Array<number>(n).fill(0);
    for (const item of usable) {
      const rows = item.rows.slice(0, k);
      const scores = rows.map((row) => row.reduce((sum, x, f) => sum + (mask[f] ? w[f]! * x : 0), 0));
      let pairs = 0;
      const g = new Array<number>(n).fill(0);
      rows.forEach((pos, p) => {
        if (!item.gold[p]) return;
        rows.forEach((neg, q) => {
          if (item.gold[q]) return;
          pairs++;
          // d/dw log(1 + exp(-(s_p - s_q)))
          const s = 1 / (1 + Math.exp(scores[p]! - scores[q]!));
          for (let f = 0; f < n; f++) if (mask[f]) g[f]! -= s * (pos[f]! - neg[f]!);
        });
      });
      for (let f = 0; f < n; f++) grad[f]! += g[f]! / pairs;
    }
    for (let f = 0; f < n; f++) {
      if (!mask[f]) continue;
      w[f]! -= rate * (grad[f]! / usable.length + lambda * w[f]!);
    }
  }
  return w.map((value, f) => (mask[f] ? value : 0));
}

interface Figures {
  hit1: number;
  hit3: number;
  mrr: number;
  count: number;
}

function measure(test: Item[], weights: number[] | undefined, k: number): Figures {
  const figures = { hit1: 0, hit3: 0, mrr: 0, count: test.length };
  for (const item of test) {
    const ids = item.gold.map((_, at) => at);
    const head = ids.slice(0, k);
    const order = weights ? [...rerankOrder(weights, head, item.rows.slice(0, k)), ...ids.slice(k)] : ids;
    const rank = order.slice(0, 5).findIndex((at) => item.gold[at]);
    if (rank === 0) figures.hit1++;
    if (rank >= 0 && rank < 3) figures.hit3++;
    if (rank >= 0) figures.mrr += 1 / (rank + 1);
  }
  return figures;
}

const format = (f: Figures) =>
  `${(f.hit1 / f.count).toFixed(3)} / ${(f.hit3 / f.count).toFixed(3)} / ${(f.mrr / f.count).toFixed(3)}`;

const GROUPS: Record<string, string[]> = {
  engine: ['engineScore', 'engineRank'],
  all: [...RERANK_FEATURES],
  coverage: ['engineScore', 'engineRank', 'coverSection', 'coverHeading', 'coverPath', 'coverExact', 'headingSaid'],
  structure: ['engineScore', 'engineRank', 'docTop', 'depth', 'length', 'headingQuestion', 'sameDocAsFirst'],
  lexical: ['engineScore', 'engineRank', 'coverHeading', 'headingSaid', 'bigram', 'whMatch', 'coverExact'],
};

const ODK_SETS = TUNING_SETS.filter((s) => s.docs === ODK_DOCS).map((s) => s.name);
// Each tuning set held out in turn, trained on the others (with --within, on the others of its own corpus).
const folds: { name: string; held: string[]; trainOn: (set: string) => boolean }[] = TUNING_SETS.map((s) => ({
  name: s.name,
  held: [s.name],
  trainOn: (set: string) => set !== s.name && (!values.within || ODK_SETS.includes(set) === ODK_SETS.includes(s.name)),
}));
if (values.split) {
  const held = ['ODK D', 'sample apart'];
  folds.push({ name: 'split: ODK D + sample apart', held, trainOn: (set: string) => !held.includes(set) });
}
const chosen = values.groups?.split(',');

const lines: string[] = [];
lines.push(`answerable tuning questions: ${items.length}; gold in top ${DEPTH}: ${items.filter((i) => i.gold.some(Boolean)).length}`);
lines.push(`training: ${values.within ? 'same corpus only (ODK dev ↔ A; sample leave-one-out among sample sets)' : 'every other tuning set'}`);
lines.push('held-out hit@1 / hit@3 / MRR (top 5); engine = the engine\'s own order');
lines.push('');
const base = folds.map((fold) => measure(items.filter((i) => fold.held.includes(i.set)), undefined, DEPTH));
lines.push(`| config | ${folds.map((f) => f.name).join(' | ')} | Σ hit@3 Δ | Σ hit@1 Δ |`);
lines.push(`| engine | ${base.map(format).join(' | ')} | 0 | 0 |`);
// The committed weights were fitted on every tuning set: in-sample on each fold, so a bar held-out figures
// should not be expected to clear by much.
const committed = folds.map((fold) => measure(items.filter((i) => fold.held.includes(i.set)), [...RERANK_WEIGHTS], RERANK_DEPTH));
const delta = (results: Figures[], key: 'hit1' | 'hit3') => results.reduce((sum, r, at) => sum + r[key] - base[at]![key], 0);
lines.push(`| committed weights (in-sample) | ${committed.map(format).join(' | ')} | ${delta(committed, 'hit3')} | ${delta(committed, 'hit1')} |`);
for (const [group, names] of !values['no-grid'] ? Object.entries(GROUPS).filter(([name]) => !chosen || chosen.includes(name)) : []) {
  const mask = RERANK_FEATURES.map((name) => names.includes(name));
  for (const lambda of values.lambdas.split(',').map(Number)) {
    for (const k of values.depths.split(',').map(Number)) {
      const results = folds.map((fold) => {
        const weights = train(trainItems.filter((i) => fold.trainOn(i.set)), mask, lambda, k);
        return measure(items.filter((i) => fold.held.includes(i.set)), weights, k);
      });
      lines.push(`| ${group} λ${lambda} K${k} | ${results.map(format).join(' | ')} | ${delta(results, 'hit3')} | ${delta(results, 'hit1')} |`);
    }
  }
  process.stderr.write(`${group} done\n`);
}

if (values.fit) {
  // Every feature, fitted on all six tuning sets at the chosen λ and depth, written for the engine.
  const lambda = Number(values.lambda);
  const depth = Number(values.depth);
  const mask = RERANK_FEATURES.map(() => true);
  const weights = train(trainItems, mask, lambda, depth).map((w) => Number(w.toFixed(4)));
  const named = RERANK_FEATURES.map((name, f) => `  ${weights[f]}, // ${name}`).join('\n');
  writeFileSync(
    path.join(ROOT, 'src/faq/engine/rerank-weights.ts'),
    `// Written by \`npx tsx scripts/faq-train-rerank.ts --fit --no-grid --lambda ${values.lambda} --depth ${values.depth}` +
      `${values['train-tuning'] ? ` --train-tuning '${values['train-tuning']}'` : ''}\`:\n` +
      '// pairwise logistic regression on the answerable questions of the six tuning sets. Do not edit by hand.\n\n' +
      `/** Candidates the re-ranker reorders (the engine's top N). */\nexport const RERANK_DEPTH = ${depth};\n\n` +
      `/** One weight per feature, in RERANK_FEATURES order (rerank.ts). */\nexport const RERANK_WEIGHTS: readonly number[] = [\n${named}\n];\n`,
  );
  lines.push('');
  lines.push(`fitted (λ ${lambda}, depth ${depth}) → src/faq/engine/rerank-weights.ts`);
}
process.stdout.write(`${lines.join('\n')}\n`);
