import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGuidanceDoc } from '../../src/faq/docs/parse.js';
import { buildIndex, openFaqLibrary, search } from '../../src/faq/engine/index.js';
import { GlossaryError, GlossaryFile, parseGlossary } from '../../src/faq/glossary.js';
import { SAMPLE_GLOSSARY } from './engine/corpus.js';

const dirs: string[] = [];
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'glossary-'));
  dirs.push(dir);
  return dir;
}

const GUIDE = `# Monthly report

## When is the monthly summary due?

The monthly summary is due on the 5th of the following month.

## Recording a household visit

Open the household and choose New visit.
`;

describe('parseGlossary', () => {
  it('reads the sample glossary: the system nickname and the form codes', () => {
    const glossary = parseGlossary(readFileSync(SAMPLE_GLOSSARY, 'utf8'));
    expect(glossary.groups).toContainEqual(['K-05', 'monthly report', 'monthly summary']);
    expect(glossary.groups[0]![0]).toBe('FieldLedger');
  });

  it('names the bad entry by its position and its term', () => {
    const bad = 'terms:\n  - term: K-02\n    means: [household visit]\n  - term: K-05\n    means: []\n';
    expect(() => parseGlossary(bad, 'glossary.yaml')).toThrow(
      new GlossaryError('glossary.yaml: terms[1] (K-05).means: must list at least one meaning'),
    );
    expect(() => parseGlossary('terms:\n  - term: DPO\n    mean: [x]\n', 'g.yaml')).toThrow(/terms\[0\] \(DPO\)/);
    expect(() => parseGlossary('terms:\n  - term: a, b\n    means: [c]\n', 'g.yaml')).toThrow(
      /terms\[0\] \(a, b\)\.term: must not contain a comma/,
    );
    expect(() => parseGlossary('terms: [unclosed', 'g.yaml')).toThrow(/g\.yaml: not valid YAML/);
  });
});

describe('the engine with a glossary', () => {
  const sections = parseGuidanceDoc('report.md', GUIDE).sections;

  it('reads a form code as what it means', () => {
    const question = 'when is the K-05 due';
    const plain = search(buildIndex(sections), question);
    const glossary = parseGlossary('terms:\n  - term: K-05\n    means: [monthly summary]\n');
    const withGlossary = search(buildIndex(sections, {}, { glossary }), question);
    expect(withGlossary.answered).toBe(true);
    expect(withGlossary.results[0]!.section.heading).toBe('When is the monthly summary due?');
    expect(withGlossary.confidence).toBeGreaterThan(plain.confidence);
  });
});

describe('GlossaryFile and the live library', () => {
  it('a saved change is picked up without a restart; a bad edit is named and the last good glossary kept', async () => {
    const dir = tempDir();
    const docs = path.join(dir, 'docs');
    const file = path.join(dir, 'glossary.yaml');
    mkdirSync(docs);
    writeFileSync(path.join(docs, 'report.md'), GUIDE);
    writeFileSync(file, 'terms:\n  - term: DPO\n    means: [data protection officer]\n');
    const warnings: string[] = [];
    const library = await openFaqLibrary(docs, {
      glossaryFile: file,
      onWarning: (m) => warnings.push(m),
      debounceMs: 10,
      pollMs: 50,
    });
    closers.push(() => library.close());
    const askK05 = () => search(library.current.index, 'when is the K-05 due');
    expect(askK05().answered).toBe(false);

    const reloaded = new Promise((resolve) => library.once('reloaded', resolve));
    writeFileSync(file, 'terms:\n  - term: K-05\n    means: [monthly summary]\n');
    await expect(reloaded).resolves.toEqual({ changed: [file] });
    expect(askK05().results[0]!.section.heading).toBe('When is the monthly summary due?');
    expect(askK05().answered).toBe(true);

    writeFileSync(file, 'terms:\n  - term: K-05\n    means: []\n');
    await expect.poll(() => warnings.join('\n'), { timeout: 3000 }).toMatch(/terms\[0\] \(K-05\)\.means/);
    expect(askK05().answered).toBe(true);
  });

  it('an edit that makes the file huge is refused before it is parsed: the size is named, the last good glossary kept', async () => {
    const dir = tempDir();
    const docs = path.join(dir, 'docs');
    const file = path.join(dir, 'glossary.yaml');
    mkdirSync(docs);
    writeFileSync(path.join(docs, 'report.md'), GUIDE);
    writeFileSync(file, 'terms:\n  - term: K-05\n    means: [monthly summary]\n');
    const warnings: string[] = [];
    const library = await openFaqLibrary(docs, { glossaryFile: file, onWarning: (m) => warnings.push(m), debounceMs: 10, pollMs: 50 });
    closers.push(() => library.close());
    expect(search(library.current.index, 'when is the K-05 due').answered).toBe(true);

    // Parsing YAML blocks the process (every user's turn) for seconds per megabyte: a pasted dump must not be read.
    writeFileSync(file, `# ${'x'.repeat(3_000_000)}\nterms: []\n`);
    await expect.poll(() => warnings.join('\n'), { timeout: 3000 }).toMatch(/glossary\.yaml: .*larger than .*KB/);
    expect(warnings.join('\n')).toMatch(/previous version stays in use/);
    expect(search(library.current.index, 'when is the K-05 due').answered).toBe(true);
  });

  it('refuses to open a bad glossary at start, naming the entry', async () => {
    const file = path.join(tempDir(), 'glossary.yaml');
    writeFileSync(file, 'system:\n  name: FieldLedger\n  nicknames: [""]\n');
    await expect(GlossaryFile.open(file, { pollMs: 0 })).rejects.toThrow(/system\.nicknames\[0\]: must not be empty/);
  });
});

describe('parseGlossary on a file that is not a glossary', () => {
  it('a file of thousands of unknown keys (another YAML file pointed at by mistake) is named in one short message', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `setting_${i}: 1`).join('\n');
    let message = '';
    try {
      parseGlossary(text, 'g.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^g\.yaml: /);
    expect(message).toContain('setting_0');
    expect(message.length).toBeLessThan(400);
  });
});
