import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './engine/corpus.js';

/**
 * The batch CLI is how the engine is scored on held-out questions, so its output format is
 * checked exactly here, through the same command the evaluator runs.
 */
describe('npm run faq -- batch', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'faq-batch-'));
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(
      path.join(dir, 'sub', 'passwords.md'),
      '---\ntitle: Passwords\n---\n# Passwords\n\n## Resetting a forgotten password\n\nUse the *Forgot password* link on the sign-in page.\n',
    );
    writeFileSync(
      path.join(dir, 'sync.md'),
      '# Sync\n\n## When sync fails\n\nCheck the connection, then press **Sync** again.\n',
    );
    writeFileSync(path.join(dir, 'broken.md'), '---\ntitle: [unclosed\n---\n# Broken\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function runBatch(stdin: string) {
    return spawnSync('npm', ['run', '--silent', 'faq', '--', 'batch', '--docs', dir], {
      cwd: REPO_ROOT,
      input: stdin,
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  it('writes one JSONL answer per question, in order, in the exact format', () => {
    const input = [
      { id: 'q1', question: 'i forgot my pasword' },
      { id: 'q2', question: 'sync keeps failing' },
      { id: 'q3', question: 'what is for lunch in the canteen' },
    ]
      .map((line) => JSON.stringify(line))
      .join('\n');
    const run = runBatch(`${input}\n`);
    expect(run.status).toBe(0);

    const lines = run.stdout.split('\n').filter((line) => line.length > 0);
    expect(lines).toHaveLength(3);
    const answers = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const answer of answers) {
      expect(Object.keys(answer)).toEqual(['id', 'answered', 'results', 'ms']);
      expect(typeof answer.answered).toBe('boolean');
      expect(typeof answer.ms).toBe('number');
      expect(answer.ms as number).toBeGreaterThanOrEqual(0);
      const results = answer.results as Record<string, unknown>[];
      expect(Array.isArray(results)).toBe(true);
      expect(results.length).toBeLessThanOrEqual(5);
      for (const result of results) {
        expect(Object.keys(result)).toEqual(['doc', 'heading', 'score']);
        expect(typeof result.score).toBe('number');
      }
      const scores = results.map((result) => result.score as number);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    }
    expect(answers.map((answer) => answer.id)).toEqual(['q1', 'q2', 'q3']);

    const [q1, q2, q3] = answers as { answered: boolean; results: { doc: string; heading: string }[] }[];
    expect(q1!.answered).toBe(true);
    expect(q1!.results[0]).toMatchObject({
      doc: 'sub/passwords.md',
      heading: 'Resetting a forgotten password',
    });
    expect(q2!.results[0]).toMatchObject({ doc: 'sync.md', heading: 'When sync fails' });
    expect(q3!.answered).toBe(false);
    expect(Array.isArray(q3!.results)).toBe(true);
  });

  it('keeps stdout clean: warnings and bad lines go to stderr', () => {
    const run = runBatch('not json\n{"id":"ok","question":"sync fails"}\n\n');
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n').filter((line) => line.length > 0);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).id).toBe('ok');
    expect(run.stderr).toContain('broken.md');
    expect(run.stderr).toMatch(/line 1/);
  });
});
