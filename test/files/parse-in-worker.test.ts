import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NotChecked, parseInWorker, type WorkerParser } from '../../src/files/parse-in-worker.js';
import { WatchedFile } from '../../src/files/watched-file.js';

const LINES: WorkerParser = { module: new URL('./fixtures/parsers.ts', import.meta.url).href, name: 'lines' };

const opened: WatchedFile<unknown>[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A watched list file parsed in the worker thread, with the warnings it gave. Its folder is watched too, so a
 * write may be read before the test's own reload: reloads run in turn, so after one the newest text is in use.
 */
async function watchedList(first: string, timeoutMs?: number, name = 'list.txt') {
  const dir = mkdtempSync(path.join(tmpdir(), 'rd-parse-worker-'));
  dirs.push(dir);
  const file = path.join(dir, name);
  writeFileSync(file, first);
  const warnings: string[] = [];
  /** The texts handed to the worker thread, in order. */
  const handed: string[] = [];
  const watched = await WatchedFile.open(file, {
    parse: (text, source) => (handed.push(text), parseInWorker<string[]>(LINES, text, source, { timeoutMs })),
    missing: [],
    onWarning: (m) => warnings.push(m),
    pollMs: 0,
    maxBytes: 1024,
  });
  opened.push(watched as WatchedFile<unknown>);
  return { file, watched, warnings, handed };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
}

describe('a settings file parsed in a worker thread', () => {
  it('gives back the parsed value, and the parser\'s own message for a file it refuses (the last good kept)', async () => {
    const { file, watched, warnings } = await watchedList('a\nb\n');
    expect(watched.current).toEqual(['a', 'b']);

    writeFileSync(file, 'throw\n');
    expect(await watched.reload()).toBe(false);
    expect(watched.current).toEqual(['a', 'b']);
    expect(warnings.at(-1)).toBe('list.txt: line 1: not a list; the previous version stays in use');
  });

  it('keeps the last good value when the worker crashes, says so, and reads the next edit in a fresh worker', async () => {
    const { file, watched, warnings } = await watchedList('a\n');

    writeFileSync(file, 'crash\n');
    expect(await watched.reload()).toBe(false);
    expect(watched.current).toEqual(['a']);
    expect(warnings.at(-1)).toBe('list.txt: not checked, the parser stopped (exit code 7); the previous version stays in use');

    writeFileSync(file, 'a\nb\n');
    await watched.reload();
    expect(watched.current).toEqual(['a', 'b']);
  });

  it('ends a worker that does not answer within the bound, keeps the last good value, and reads the next edit in a fresh worker', async () => {
    // The bound is only how long this test waits for a parser that never returns.
    const { file, watched, warnings } = await watchedList('a\n', 2_000);

    writeFileSync(file, 'hang\n');
    expect(await watched.reload()).toBe(false);
    expect(watched.current).toEqual(['a']);
    expect(warnings.at(-1)).toBe('list.txt: not checked, the parser gave no answer within 2 s; the previous version stays in use');

    writeFileSync(file, 'a\nc\n');
    await watched.reload();
    expect(watched.current).toEqual(['a', 'c']);
  });

  it('another file\'s edit is read and taken while one file\'s parser hangs', { timeout: 120_000 }, async () => {
    // The bound is only how long this test waits for the hung parser to be ended: b.txt's read takes milliseconds, up
    // to a second or so when its worker has to start afresh on a loaded machine, well inside 5 s.
    const a = await watchedList('a\n', 5_000, 'a.txt');
    const b = await watchedList('b\n', undefined, 'b.txt');

    writeFileSync(a.file, 'hang\n');
    let aSettled = false;
    const aReload = a.watched.reload().finally(() => (aSettled = true));
    // Once a.txt's text is handed to the worker thread, b.txt is edited: its new list is in use while a.txt's
    // parse still hangs.
    await until(() => a.handed.includes('hang\n'));
    writeFileSync(b.file, 'b\nc\n');
    expect(await b.watched.reload()).toBe(true);
    expect(b.watched.current).toEqual(['b', 'c']);
    expect(aSettled).toBe(false);

    expect(await aReload).toBe(false);
    expect(a.watched.current).toEqual(['a']);
    expect(a.warnings.at(-1)).toBe('a.txt: not checked, the parser gave no answer within 5 s; the previous version stays in use');
  });

  it('a value that is not plain data is a fault of the check, not of the file, naming the file', async () => {
    const refused = parseInWorker({ ...LINES, name: 'notPlain' }, 'x', 'list.txt');
    await expect(refused).rejects.toThrow(/^list\.txt: not checked, .*could not be cloned/);
    await expect(refused).rejects.toBeInstanceOf(NotChecked);
  });

  it('a parser that cannot be loaded leaves the file not checked (the app\'s fault), not refused as badly written', async () => {
    const missingModule = parseInWorker({ module: new URL('./fixtures/no-such-parser.ts', import.meta.url).href, name: 'lines' }, 'a\n', 'list.txt');
    await expect(missingModule).rejects.toBeInstanceOf(NotChecked);
    await expect(missingModule).rejects.toThrow(/^list\.txt: not checked, the parser could not be loaded/);
    const missingExport = parseInWorker({ ...LINES, name: 'noSuchExport' }, 'a\n', 'list.txt');
    await expect(missingExport).rejects.toBeInstanceOf(NotChecked);
    await expect(missingExport).rejects.toThrow(/^list\.txt: not checked, the parser could not be loaded \(no function "noSuchExport"/);
    // The file's own faults are still the file's.
    const refused = parseInWorker(LINES, 'throw\n', 'list.txt');
    await expect(refused).rejects.toThrow('list.txt: line 1: not a list');
    await expect(refused).rejects.not.toBeInstanceOf(NotChecked);
  });
});
