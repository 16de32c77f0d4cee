import { describe, expect, it } from 'vitest';
import { deleteIfThere, isPreconditionFailed, safeKey, statusOf } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';

describe('Tables on Azurite', () => {
  it('creates a table on first use and refuses a stale ETag with 412', async () => {
    const tables = testTables();
    const t = await tables.table('Things');
    await t.createEntity({ partitionKey: 'p', rowKey: 'r', n: 1 });
    const first = await t.getEntity<{ n: number }>('p', 'r');
    await t.updateEntity({ partitionKey: 'p', rowKey: 'r', n: 2 }, 'Merge', { etag: first.etag });
    const err = await t
      .updateEntity({ partitionKey: 'p', rowKey: 'r', n: 3 }, 'Merge', { etag: first.etag })
      .catch((e: unknown) => e);
    expect(isPreconditionFailed(err)).toBe(true);
    expect((await t.getEntity<{ n: number }>('p', 'r')).n).toBe(2);
  });

  it('deletes a row if it is there, says whether it was, and throws what is not a missing row', async () => {
    const t = await testTables().table('Things');
    await t.createEntity({ partitionKey: 'p', rowKey: 'r' });
    expect(await deleteIfThere(t, 'p', 'r')).toBe(true);
    expect(await deleteIfThere(t, 'p', 'r')).toBe(false);
    await expect(t.getEntity('p', 'r')).rejects.toSatisfy((e: unknown) => statusOf(e) === 404);
    // A key storage refuses is a caller's mistake, not a row already gone.
    const refused = await deleteIfThere(t, 'p', 'a/b').catch((e: unknown) => e);
    expect(statusOf(refused)).toBeGreaterThanOrEqual(400);
    expect(statusOf(refused)).not.toBe(404);
  });

  it('escapes characters keys may not hold', () => {
    expect(safeKey('a/b#c?d\\e')).not.toMatch(/[/#?\\]/);
    expect(safeKey('29:abc-DEF_1')).toBe('29:abc-DEF_1');
  });
});
