import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GuidanceLibrary, type ReloadedEvent } from '../../../src/faq/docs/library.js';
import type { GuidanceSection } from '../../../src/faq/docs/types.js';

/** A stand-in index: the section ids, enough to see what the library would serve. */
const buildIndex = (sections: GuidanceSection[]) => sections.map((s) => s.id);

function nextReload(library: GuidanceLibrary<string[]>): Promise<ReloadedEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reload within 5 s')), 5000);
    library.once('reloaded', (event) => {
      clearTimeout(timer);
      resolve(event);
    });
  });
}

describe('GuidanceLibrary', () => {
  let dir: string;
  let library: GuidanceLibrary<string[]> | undefined;
  const warnings: string[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'faq-library-'));
    warnings.length = 0;
  });
  afterEach(() => {
    library?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = () =>
    GuidanceLibrary.open(dir, {
      buildIndex,
      debounceMs: 50,
      pollMs: 200,
      onWarning: (m) => warnings.push(m),
    });

  it('picks up new and changed files without a restart', async () => {
    writeFileSync(path.join(dir, 'access.md'), '# Access\n\nAsk your champion.');
    library = await open();
    expect(library.index).toEqual(['access.md#access']);

    const added = nextReload(library);
    writeFileSync(path.join(dir, 'sync.md'), '# Sync\n\nSync daily.');
    expect((await added).changed).toEqual(['sync.md']);
    expect(library.index).toEqual(['access.md#access', 'sync.md#sync']);

    const changed = nextReload(library);
    writeFileSync(path.join(dir, 'access.md'), '# Getting access\n\nAsk your champion.');
    expect((await changed).changed).toEqual(['access.md']);
    expect(library.index).toEqual(['access.md#getting-access', 'sync.md#sync']);
    expect(library.current.docs.map((d) => d.title)).toEqual(['Getting access', 'Sync']);
  });

  it('skips a bad file with a warning naming it and keeps serving the rest', async () => {
    writeFileSync(path.join(dir, 'good.md'), '# Good\n\ntext');
    library = await open();
    const reloaded = nextReload(library);
    writeFileSync(path.join(dir, 'broken.md'), '---\ntitle: [unclosed\n---\n# Broken\n');
    expect((await reloaded).changed).toEqual(['broken.md']);
    expect(library.index).toEqual(['good.md#good']);
    expect(library.current.skipped.map((s) => s.path)).toEqual(['broken.md']);
    expect(warnings.some((w) => w.includes('broken.md'))).toBe(true);

    const fixed = nextReload(library);
    writeFileSync(path.join(dir, 'broken.md'), '---\ntitle: Fixed\n---\n# Fixed\n');
    expect((await fixed).changed).toEqual(['broken.md']);
    expect(library.index).toEqual(['broken.md#fixed', 'good.md#good']);
  });

  it('reload() rebuilds on demand and close() stops watching', async () => {
    writeFileSync(path.join(dir, 'a.md'), '# A');
    library = await open();
    writeFileSync(path.join(dir, 'b.md'), '# B');
    await library.reload();
    expect(library.index).toEqual(['a.md#a', 'b.md#b']);
    library.close();
    writeFileSync(path.join(dir, 'c.md'), '# C');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(library.index).toEqual(['a.md#a', 'b.md#b']);
  });
});
