import { appendFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JournalOp, TableJournal } from '../../src/storage/journal.js';
import { tempDir } from '../support/tempdir.js';

const freshDir = () => path.join(tempDir('rd-journal'), 'journal');
const put = (rowKey: string, n: number): JournalOp => ({
  k: 'put',
  mode: 'Replace',
  e: { partitionKey: 'p', rowKey, n },
});

describe('TableJournal', () => {
  it('keeps records in the order of the calls, also when many are appended at once, across a reopen', async () => {
    const dir = freshDir();
    const journal = await TableJournal.open(dir);
    await Promise.all(Array.from({ length: 50 }, (_, i) => journal.append('T', put(`r${i}`, i))));
    await journal.close();

    const again = await TableJournal.open(dir);
    const records = await again.records();
    expect(records.map((r) => r.s)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(records.map((r) => (r.o.k === 'put' ? r.o.e.n : null))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await again.append('T', put('next', 50));
    expect(again.lastSeq).toBe(51); // numbers go on; none is given twice
    await again.close();
  });

  it('ignores a record torn by a crash and goes on after it', async () => {
    const dir = freshDir();
    const journal = await TableJournal.open(dir);
    await journal.append('T', put('a', 1));
    await journal.close();
    const [segment] = readdirSync(dir);
    appendFileSync(path.join(dir, segment!), '{"s":2,"t":"T","o":{"k":"put","mode":"Repl'); // cut by the crash
    const again = await TableJournal.open(dir);
    await again.append('T', put('b', 2));
    expect((await again.records()).map((r) => [r.s, r.o.k === 'put' && r.o.e.rowKey])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    await again.close();
  });

  it('trims whole segments up to a number and keeps every record after it', async () => {
    const journal = await TableJournal.open(freshDir());
    for (let i = 1; i <= 3; i++) await journal.append('T', put(`r${i}`, i));
    await journal.rotateIfUsed();
    for (let i = 4; i <= 6; i++) await journal.append('T', put(`r${i}`, i));
    await journal.rotateIfUsed();
    await journal.append('T', put('r7', 7));

    expect(await journal.trimThrough(4)).toBe(1); // the second segment holds 5 and 6: it stays whole
    expect((await journal.records()).map((r) => r.s)).toEqual([4, 5, 6, 7]);
    expect(await journal.trimThrough(7)).toBe(1); // the segment being written is never deleted
    expect((await journal.records()).map((r) => r.s)).toEqual([7]);
    await journal.close();
  });
});
