import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WatchedFile } from '../../src/files/watched-file.js';

const opened: WatchedFile<unknown>[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.close();
});

function parse(text: string, source: string): string[] {
  if (text.includes('broken')) throw new Error(`${source}: broken`);
  return text.split('\n').filter(Boolean);
}

describe('a watched settings file', () => {
  it('picks up a saved change without a restart, and keeps the last good version when an edit is broken', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rd-watched-'));
    const file = path.join(dir, 'list.txt');
    writeFileSync(file, 'a\nb\n');
    const warnings: string[] = [];
    const watched = await WatchedFile.open(file, { parse, missing: [], onWarning: (m) => warnings.push(m), debounceMs: 20, pollMs: 50, maxBytes: 1024 });
    opened.push(watched as WatchedFile<unknown>);
    expect(watched.current).toEqual(['a', 'b']);

    const changed = new Promise<string[]>((resolve) => watched.once('changed', resolve));
    writeFileSync(file, 'a\nb\nc\n');
    expect(await changed).toEqual(['a', 'b', 'c']);

    writeFileSync(file, 'broken\n');
    expect(await watched.reload()).toBe(false);
    expect(watched.current).toEqual(['a', 'b', 'c']);
    expect(warnings.at(-1)).toBe('list.txt: broken; the previous version stays in use');
  });

  it('starts empty when the file is missing, and says so', async () => {
    const warnings: string[] = [];
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rd-watched-')), 'none.txt');
    const watched = await WatchedFile.open(file, { parse, missing: ['(none)'], onWarning: (m) => warnings.push(m), pollMs: 0, maxBytes: 1024 });
    opened.push(watched as WatchedFile<unknown>);
    expect(watched.current).toEqual(['(none)']);
    expect(warnings).toEqual([`${file}: not found; starting empty`]);
  });

  it('reads a file of exactly its limit, and refuses one byte more unread, naming the file, its size and the limit', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rd-watched-')), 'list.txt');
    writeFileSync(file, 'a\n'.repeat(1024));
    const warnings: string[] = [];
    let parsed = 0;
    const counting = (text: string, source: string) => (parsed++, parse(text, source));
    const watched = await WatchedFile.open(file, { parse: counting, missing: [], onWarning: (m) => warnings.push(m), pollMs: 0, maxBytes: 2048 });
    opened.push(watched as WatchedFile<unknown>);
    expect(watched.current).toHaveLength(1024);

    writeFileSync(file, `${'a\n'.repeat(1024)}b`);
    expect(await watched.reload()).toBe(false);
    expect(parsed).toBe(1);
    expect(warnings).toEqual(['list.txt: 3 KB, larger than the 2 KB it may be; the previous version stays in use']);
    expect(watched.current).toHaveLength(1024);
  });

  it('with a parser that takes its time, an edit read while an older text is still being parsed ends in use', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rd-watched-')), 'list.txt');
    writeFileSync(file, 'a\n');
    let release: () => void = () => {};
    const slow = new Promise<void>((r) => (release = r));
    let parsingSlow: () => void = () => {};
    const slowStarted = new Promise<void>((r) => (parsingSlow = r));
    let parsingNewer: () => void = () => {};
    const newerStarted = new Promise<void>((r) => (parsingNewer = r));
    // The text "slow" is parsed only once `release` is called, as a large file is in its worker thread.
    const parseSlowly = async (text: string, source: string) => {
      if (text.includes('slow')) {
        parsingSlow();
        await slow;
      }
      if (text.includes('b')) parsingNewer();
      return parse(text, source);
    };
    const watched = await WatchedFile.open(file, { parse: parseSlowly, missing: [], pollMs: 0, debounceMs: 60_000, maxBytes: 1024 });
    opened.push(watched as WatchedFile<unknown>);

    writeFileSync(file, 'slow\n');
    const older = watched.reload();
    // The first reload has read its text and is parsing it when the file changes again.
    await slowStarted;
    writeFileSync(file, 'b\nc\n');
    const newer = watched.reload();
    // The older parse ends last if the newer one is not made to wait for it: give the newer one the time a
    // small file's read takes (200 event-loop turns) to get ahead, or end as soon as it has.
    let turns = 0;
    const waitTurns = async () => {
      while (turns++ < 200) await new Promise((r) => setImmediate(r));
    };
    await Promise.race([newerStarted, waitTurns()]);
    turns = Infinity;
    release();
    await Promise.all([older, newer]);
    expect(watched.current).toEqual(['b', 'c']);
  });
});
