/**
 * FAQ engine from the command line.
 *   faq batch --docs DIR   JSONL {"id","question"} on stdin → one JSONL answer per line on stdout
 *   faq ask --docs DIR "question"   the answer passage and its source, for people
 * Only answers go to stdout; warnings and errors go to stderr.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadGuidanceDir } from '../src/faq/docs/index.js';
import { parseGlossary } from '../src/faq/glossary.js';
import { bestPassage, buildIndex, type FaqIndex, search, warmUp } from '../src/faq/engine/index.js';

const USAGE = `usage:
  faq batch --docs DIR [--glossary FILE]  < questions.jsonl > answers.jsonl
  faq ask --docs DIR [--glossary FILE] "question"`;

async function openIndex(docsDir: string, glossaryFile?: string): Promise<FaqIndex> {
  const loaded = await loadGuidanceDir(docsDir, {
    onWarning: (message) => process.stderr.write(`${message}\n`),
  });
  if (loaded.docs.length === 0) process.stderr.write(`faq: no guidance docs found in ${docsDir}\n`);
  const glossary = glossaryFile ? parseGlossary(readFileSync(glossaryFile, 'utf8'), glossaryFile) : undefined;
  return buildIndex(loaded.sections, {}, glossary ? { glossary } : {});
}

interface BatchLine {
  id: string;
  answered: boolean;
  results: { doc: string; heading: string; score: number }[];
  ms: number;
}

async function batch(docsDir: string, glossary?: string): Promise<void> {
  const index = await openIndex(docsDir, glossary);
  // The first searches pay for JIT warm-up; don't bill it to the first questions.
  warmUp(index);
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (!line.trim()) continue;
    let id: string;
    let question: string;
    try {
      const row = JSON.parse(line) as { id?: unknown; question?: unknown };
      if (row.id === undefined || row.id === null) throw new Error('missing "id"');
      id = String(row.id);
      question = typeof row.question === 'string' ? row.question : '';
      if (typeof row.question !== 'string')
        process.stderr.write(`faq: line ${lineNumber}: missing "question"\n`);
    } catch (error) {
      process.stderr.write(`faq: line ${lineNumber} skipped: ${(error as Error).message}\n`);
      continue;
    }
    const started = performance.now();
    const result = search(index, question, { limit: 5 });
    const ms = performance.now() - started;
    const out: BatchLine = {
      id,
      answered: result.answered,
      results: result.results.map((hit) => ({
        doc: hit.section.doc,
        heading: hit.section.heading,
        score: hit.score,
      })),
      ms: Math.round(ms * 1000) / 1000,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
}

async function ask(docsDir: string, question: string, glossary?: string): Promise<void> {
  const index = await openIndex(docsDir, glossary);
  const result = search(index, question, { limit: 3 });
  const [best, ...related] = result.results;
  if (!best || !result.answered) {
    process.stdout.write(`The guidance doesn't cover this (confidence ${result.confidence.toFixed(2)}).\n`);
    if (result.offTopic.length) process.stdout.write(`It asks about: ${result.offTopic.join(', ')}.\n`);
    if (best) process.stdout.write(`Closest section: ${cite(best.section)}\n`);
    return;
  }
  process.stdout.write(`${bestPassage(best.section, question)}\n\n`);
  process.stdout.write(`Source: ${cite(best.section)}  (confidence ${result.confidence.toFixed(2)})\n`);
  for (const hit of related) process.stdout.write(`Related: ${cite(hit.section)}\n`);
  if (result.uncovered.length) {
    process.stdout.write(`Not covered by the guidance: ${result.uncovered.map((part) => `"${part}"`).join(', ')}\n`);
  }
}

function cite(section: { docTitle: string; heading: string; doc: string; anchor: string }): string {
  const where =
    section.heading === section.docTitle ? section.docTitle : `${section.docTitle} › ${section.heading}`;
  return `${where} — ${section.doc}#${section.anchor}`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { docs: { type: 'string' }, glossary: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  const [command, ...rest] = positionals;
  const docsDir = values.docs ?? process.env.GUIDANCE_DIR ?? 'sample/guidance';
  // Only with --glossary: the batch interface scores a docs folder on its own.
  const glossary = values.glossary;
  if (values.help || !command) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (command === 'batch') {
    await batch(docsDir, glossary);
    return 0;
  }
  if (command === 'ask') {
    const question = rest.join(' ').trim();
    if (!question) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    await ask(docsDir, question, glossary);
    return 0;
  }
  process.stderr.write(`faq: unknown command ${command}\n${USAGE}\n`);
  return 2;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`faq: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
