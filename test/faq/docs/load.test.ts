import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadGuidanceDir } from '../../../src/faq/docs/load.js';

describe('loadGuidanceDir', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'faq-load-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads *.md recursively, sorted, with paths relative to the dir', async () => {
    mkdirSync(path.join(dir, 'team'));
    writeFileSync(path.join(dir, 'b.md'), '# B\n\nbee');
    writeFileSync(path.join(dir, 'team', 'a.md'), '# A\n\nay');
    writeFileSync(path.join(dir, 'notes.txt'), 'not markdown');
    mkdirSync(path.join(dir, '.hidden'));
    writeFileSync(path.join(dir, '.hidden', 'c.md'), '# C');
    const loaded = await loadGuidanceDir(dir);
    expect(loaded.docs.map((d) => d.path)).toEqual(['b.md', 'team/a.md']);
    expect(loaded.sections.map((s) => s.id)).toEqual(['b.md#b', 'team/a.md#a']);
    expect(loaded.skipped).toEqual([]);
  });

  it('skips unreadable or unparsable files with a warning naming each, and serves the rest', async () => {
    writeFileSync(path.join(dir, 'good.md'), '# Good\n\nstill served');
    writeFileSync(path.join(dir, 'latin1.md'), Buffer.from([0x23, 0x20, 0x43, 0x61, 0x66, 0xe9, 0x0a]));
    writeFileSync(path.join(dir, 'yaml.md'), '---\ntitle: [oops\n---\n# Bad yaml\n');
    symlinkSync(path.join(dir, 'missing-target.md'), path.join(dir, 'dangling.md'));
    const warnings: string[] = [];
    const loaded = await loadGuidanceDir(dir, { onWarning: (m) => warnings.push(m) });
    expect(loaded.docs.map((d) => d.path)).toEqual(['good.md']);
    expect(loaded.skipped.map((s) => s.path).sort()).toEqual(['dangling.md', 'latin1.md', 'yaml.md']);
    expect(warnings).toHaveLength(3);
    for (const name of ['dangling.md', 'latin1.md', 'yaml.md']) {
      expect(warnings.some((w) => w.includes(name))).toBe(true);
    }
    expect(warnings.find((w) => w.includes('latin1.md'))).toMatch(/UTF-8/);
  });

  it('warns and serves nothing when the dir is missing', async () => {
    const warnings: string[] = [];
    const loaded = await loadGuidanceDir(path.join(dir, 'nope'), { onWarning: (m) => warnings.push(m) });
    expect(loaded.docs).toEqual([]);
    expect(warnings).toHaveLength(1);
  });
});
