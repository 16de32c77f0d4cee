import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DiskOutbox, OutboxFullError } from '../../src/storage/disk-outbox.js';
import { idempotentEffect } from './fixtures/idempotent-effect.js';
import { until } from '../support/until.js';
import { tempDir } from '../support/tempdir.js';

const freshFile = () => path.join(tempDir('rd-outbox'), 'outbox.jsonl');

function worker(...args: string[]): { child: ChildProcess; out: () => string } {
  const script = fileURLToPath(new URL('./fixtures/outbox-worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  return { child, out: () => out };
}


async function kill(child: ChildProcess): Promise<void> {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

describe('DiskOutbox', () => {
  it('hands items over in order, removes each only once handled, and keeps the rest across a reopen', async () => {
    const file = freshFile();
    const outbox = await DiskOutbox.open<{ title: string }>(file);
    for (const k of ['a', 'b', 'c']) expect(await outbox.add(k, { title: `report ${k}` })).toBe(true);
    expect(await outbox.add('b', { title: 'the same request again' })).toBe(false);

    const seen: string[] = [];
    const failing = await outbox.drain(async (item, key) => {
      if (key === 'b') throw new Error('storage still down');
      seen.push(item.title);
    });
    expect(failing).toMatchObject({ handled: 1, failed: { key: 'b' } });
    expect(seen).toEqual(['report a']);
    await outbox.close();

    const reopened = await DiskOutbox.open<{ title: string }>(file);
    expect(reopened.list().map((e) => [e.key, e.item.title])).toEqual([
      ['b', 'report b'],
      ['c', 'report c'],
    ]);
    expect(await reopened.drain(async (item) => void seen.push(item.title))).toEqual({ handled: 2 });
    expect(seen).toEqual(['report a', 'report b', 'report c']);
    expect(reopened.size).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(''); // nothing pending: the file is emptied
    await reopened.close();
  });

  it('rewrites a pending item in its place, the old one gone from the file at once and after a reopen; one no longer pending is not rewritten', async () => {
    const file = freshFile();
    const outbox = await DiskOutbox.open<{ by: string }>(file);
    for (const k of ['a', 'b', 'c']) await outbox.add(k, { by: `person ${k}` });
    expect(await outbox.replace('b', { by: 'Former member 3f9a' })).toBe(true);
    expect(await outbox.replace('gone', { by: 'Former member 3f9a' })).toBe(false);
    expect(outbox.list().map((e) => e.item.by)).toEqual(['person a', 'Former member 3f9a', 'person c']);
    // The old item is out of the file at once: it may name the person.
    expect(readFileSync(file, 'utf8')).not.toContain('person b');
    await outbox.close();

    const reopened = await DiskOutbox.open<{ by: string }>(file);
    expect(reopened.list().map((e) => [e.key, e.item.by])).toEqual([
      ['a', 'person a'],
      ['b', 'Former member 3f9a'],
      ['c', 'person c'],
    ]);
    await reopened.close();
  });

  it('refuses an item with a clear error when full, keeps what it had, and has room again once drained', async () => {
    const outbox = await DiskOutbox.open<string>(freshFile(), { maxBytes: 400 });
    let added = 0;
    let refusal: unknown;
    for (let i = 0; i < 20 && !refusal; i++) {
      try {
        await outbox.add(`k${i}`, 'x'.repeat(50));
        added++;
      } catch (err) {
        refusal = err;
      }
    }
    expect(refusal).toBeInstanceOf(OutboxFullError);
    expect((refusal as Error).message).toMatch(/outbox is full \(\d+ items waiting/);
    expect(outbox.size).toBe(added);
    await outbox.drain(async () => {});
    expect(await outbox.add('later', 'x'.repeat(50))).toBe(true);
    await outbox.close();
  });

  it('ignores a line torn by a crash mid-append, and adds after it are read back', async () => {
    const file = freshFile();
    const first = await DiskOutbox.open<number>(file);
    await first.add('kept', 1);
    await first.close();
    appendFileSync(file, '{"add":{"key":"torn","item":2,"at":"2026-'); // the crash cut this line
    const second = await DiskOutbox.open<number>(file);
    await second.add('next', 3);
    await second.close();
    const third = await DiskOutbox.open<number>(file);
    expect(third.list().map((e) => e.key)).toEqual(['kept', 'next']);
    await third.close();
  });

  it('loses no item it confirmed when the process is killed while adding', async () => {
    const file = freshFile();
    const w = worker('add', file, '100000');
    await until('some items added', () => w.out().split('\n').length > 50);
    await kill(w.child);
    const confirmed = w.out().split('\n').filter(Boolean);
    const outbox = await DiskOutbox.open<{ n: number }>(file);
    const kept = new Set(outbox.list().map((e) => e.key));
    for (const key of confirmed) expect(kept.has(key)).toBe(true);
    await outbox.close();
  });

  it('after a kill mid-drain, draining again gives every item exactly one effect and re-handles at most one', async () => {
    const file = freshFile();
    const effects = tempDir('rd-effects');
    const outbox = await DiskOutbox.open<{ n: number }>(file);
    for (let i = 0; i < 40; i++) await outbox.add(`k${i}`, { n: i });
    await outbox.close();

    const calls = () =>
      existsSync(path.join(effects, 'calls.log'))
        ? readFileSync(path.join(effects, 'calls.log'), 'utf8').split('\n').filter(Boolean)
        : [];
    const w = worker('drain', file, effects);
    await until('some items handled', () => calls().length >= 10);
    await kill(w.child);
    const before = calls();
    expect(before.length).toBeLessThan(40); // it really was cut short

    const reopened = await DiskOutbox.open<{ n: number }>(file);
    const result = await reopened.drain((item, key) => idempotentEffect(effects, key, item.n));
    await reopened.close();

    expect(result.failed).toBeUndefined();
    const effectFiles = readdirSync(effects).filter((f) => f.startsWith('effect-'));
    expect(effectFiles.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `effect-k${i}`).sort());
    const after = calls().slice(before.length);
    expect(after.filter((k) => before.includes(k)).length).toBeLessThanOrEqual(1);
    expect([...before, ...after.filter((k) => !before.includes(k))]).toEqual(
      Array.from({ length: 40 }, (_, i) => `k${i}`),
    ); // in order
  });
});
