import type { TableClient, TransactionAction } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { type JournalRecord, TableJournal } from '../../src/storage/journal.js';
import { replay } from '../../src/storage/replay.js';
import { collect, Tables } from '../../src/storage/tables.js';
import { azuriteConnection } from '../support/storage.js';
import { tempDir } from '../support/tempdir.js';

/** A small seeded generator, so a failure can be run again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ROWS = [
  ['p1', 'a'],
  ['p1', 'b'],
  ['p1', 'c'],
  ['p2', 'a'],
] as const;

/** Random writes, as features make them (conditional updates, transactions, deletes); failures are fine. */
async function randomWrites(t: TableClient, rnd: () => number, count: number): Promise<void> {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const props = () => {
    const out: Record<string, unknown> = {};
    for (const p of ['x', 'y', 'z']) if (rnd() < 0.5) out[p] = pick([1, 2, 'three', true, null]);
    if (rnd() < 0.2) out.when = new Date(Date.UTC(2026, 0, 1 + Math.floor(rnd() * 28)));
    return out;
  };
  for (let i = 0; i < count; i++) {
    const [partitionKey, rowKey] = pick(ROWS);
    const entity = { partitionKey, rowKey, ...props() };
    const kind = pick(['create', 'upsertMerge', 'upsertReplace', 'updateMerge', 'updateReplace', 'delete', 'tx']);
    try {
      if (kind === 'create') await t.createEntity(entity);
      if (kind === 'upsertMerge') await t.upsertEntity(entity, 'Merge');
      if (kind === 'upsertReplace') await t.upsertEntity(entity, 'Replace');
      if (kind === 'updateMerge' || kind === 'updateReplace') {
        const { etag } = await t.getEntity(partitionKey, rowKey);
        await t.updateEntity(entity, kind === 'updateMerge' ? 'Merge' : 'Replace', { etag });
      }
      if (kind === 'delete') await t.deleteEntity(partitionKey, rowKey);
      if (kind === 'tx') {
        const others = ROWS.filter(([pk, rk]) => pk === 'p1' && rk !== rowKey);
        const actions: TransactionAction[] = [
          ['upsert', { partitionKey: 'p1', rowKey: rowKey, ...props() }, pick(['Merge', 'Replace'] as const)],
          [pick(['create', 'delete', 'update'] as const), { partitionKey: 'p1', rowKey: pick(others)[1], ...props() }],
        ];
        await t.submitTransaction(actions);
      }
    } catch {
      // refused (409, 404, 412): not journaled, as it changed nothing
    }
  }
}

async function contents(t: TableClient): Promise<Record<string, unknown>[]> {
  const rows = await collect(t.listEntities<Record<string, unknown>>());
  return rows
    .map(({ etag: _e, timestamp: _t, 'odata.metadata': _m, ...rest }) => rest)
    .sort((a, b) => `${a.partitionKey}/${a.rowKey}`.localeCompare(`${b.partitionKey}/${b.rowKey}`));
}

describe('journal replay', () => {
  it('replaying any suffix of the journal onto the state after any later prefix gives the true state', async () => {
    for (const seed of [1, 2]) {
      const journal = await TableJournal.open(tempDir('rd-replay'));
      const prefix = `r${seed}${Date.now().toString(36)}`;
      const truth = await new Tables(azuriteConnection(), `${prefix}a`, { journal }).table('Things');
      await randomWrites(truth, random(seed), 60);
      const records = (await journal.records()).filter((r) => r.o.k !== 'table');
      await journal.close();
      const expected = await contents(truth);

      const n = records.length;
      for (const k of [0, Math.floor(n / 3), Math.floor((2 * n) / 3), n]) {
        for (const j of new Set([0, Math.floor(k / 2), k])) {
          // What Azurite saved: the writes up to k, applied one by one.
          const replica = await new Tables(azuriteConnection(), `${prefix}b${k}x${j}`).table('Things');
          const name = replica.tableName;
          const one = (rs: JournalRecord[]) => replay(rs, () => replica);
          for (const r of records.slice(0, k)) await one([{ ...r, t: name }]);
          // What the journal still held: from j on (j ≤ k: it overlaps what was saved).
          await one(records.slice(j).map((r) => ({ ...r, t: name })));
          expect(await contents(replica), `seed ${seed}, saved ${k} of ${n}, journal from ${j}`).toEqual(expected);
        }
      }
    }
  }, 120_000);
});
