import type { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { RefCounter } from '../../src/issues/counter.js';
import { StorageUnavailableError } from '../../src/storage/call-policy.js';
import { safeKey } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';

/** The real table on the test Azurite, with its transactions counted (and made to fail while `down`). */
async function countedTable() {
  const table = await testTables().table('Issues');
  const seen = { transactions: 0, refused: 0, down: false };
  const counted = new Proxy(table, {
    get(target, prop, receiver) {
      if (prop !== 'submitTransaction') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: Parameters<TableClient['submitTransaction']>) => {
        seen.transactions++;
        if (seen.down) throw new StorageUnavailableError('storage did not answer within 1000 ms');
        try {
          return await target.submitTransaction(...args);
        } catch (err) {
          seen.refused++;
          throw err;
        }
      };
    },
  });
  return { table: counted, seen };
}

const at = new Date('2026-03-02T09:00:00Z');

describe('RefCounter', () => {
  it('gives a burst of reports on one instance consecutive numbers, one transaction each (no ETag retries)', async () => {
    const { table, seen } = await countedTable();
    const counter = new RefCounter(table, 'R-');
    await counter.allocate(at, 'first'); // the counter row exists: the burst below only updates it
    seen.transactions = 0;
    const numbers = await Promise.all(Array.from({ length: 20 }, (_, i) => counter.allocate(at, `key-${i}`)));
    expect(numbers.map((a) => a.number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect(numbers.every((a) => a.fresh)).toBe(true);
    expect(seen.transactions).toBe(20);
    expect(seen.refused).toBe(0);
  });

  it('never gives two instances the same number', async () => {
    const { table } = await countedTable();
    const one = new RefCounter(table, 'R-');
    const two = new RefCounter(table, 'R-');
    const numbers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).allocate(at, `key-${i}`)),
    );
    expect(numbers.map((a) => a.number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('fails the reports waiting behind one that storage did not answer at once, and tries again afterwards', async () => {
    const { table, seen } = await countedTable();
    const counter = new RefCounter(table, 'R-');
    seen.down = true;
    const waiting = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => counter.allocate(at, `key-${i}`)));
    expect(waiting.every((r) => r.status === 'rejected' && r.reason instanceof StorageUnavailableError)).toBe(true);
    expect(seen.transactions).toBe(1);
    seen.down = false;
    expect((await counter.allocate(at, 'key-0')).number).toBe(1);
  });

  describe("a request's key (a chat's id and Teams' activity id)", () => {
    const CHAT = 'a:1QzOpaqueChatOfCounter';
    const idemRows = async (table: TableClient) => {
      const rows: string[] = [];
      for await (const r of table.listEntities({ queryOptions: { filter: "PartitionKey eq '~meta'" } })) rows.push(JSON.stringify(r));
      return rows.filter((r) => r.includes('idem~'));
    };

    it('is kept only hashed, so the counter names no chat once its person is forgotten; a retry still gets its number', async () => {
      const { table } = await countedTable();
      const counter = new RefCounter(table, 'R-');
      const first = await counter.allocate(at, `${CHAT}|act-1`);
      expect((await idemRows(table)).filter((r) => r.includes(CHAT))).toEqual([]);
      expect(await counter.allocate(at, `${CHAT}|act-1`)).toEqual({ number: first.number, fresh: false });
    });

    it('written in the clear before, is moved to its hashed key for the numbers asked (forget), still found by a retry', async () => {
      const { table } = await countedTable();
      const counter = new RefCounter(table, 'R-');
      const mine = await counter.allocate(at, 'other|act-0');
      // As an earlier version wrote it: the key as is (made safe for a row key).
      await table.createEntity({ partitionKey: '~meta', rowKey: `idem~R-~${safeKey(`${CHAT}|act-9`)}`, n: 7, at: at.toISOString() });
      await table.createEntity({ partitionKey: '~meta', rowKey: `idem~R-~${safeKey(`${CHAT}|act-8`)}`, n: 8, at: at.toISOString() });
      expect(await counter.hashLegacyKeys([7, mine.number])).toBe(1);
      const left = await idemRows(table);
      expect(left.filter((r) => r.includes(`${CHAT}|act-9`))).toEqual([]);
      // Numbers not asked for are left alone.
      expect(left.filter((r) => r.includes(`${CHAT}|act-8`))).toHaveLength(1);
      expect(await counter.allocate(at, `${CHAT}|act-9`)).toEqual({ number: 7, fresh: false });
      expect(await counter.hashLegacyKeys([7])).toBe(0);
    });
  });
});
