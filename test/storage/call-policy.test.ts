import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devConnectionString, freePort } from '../../src/storage/azurite.js';
import { isStorageUnavailable, StorageUnavailableError } from '../../src/storage/call-policy.js';
import { Tables } from '../../src/storage/tables.js';
import { type PausableAzurite, startPausableAzurite } from '../support/pausable-azurite.js';

let azurite: PausableAzurite;

beforeAll(async () => {
  azurite = await startPausableAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

describe('storage calls when storage does not answer', () => {
  it('end with StorageUnavailableError instead of hanging, for reads and writes, and work again after', async () => {
    const tables = new Tables(azurite.connectionString, 'paused');
    const t = await tables.table('Things');
    await t.createEntity({ partitionKey: 'p', rowKey: 'before', n: 1 });

    azurite.pause();
    const read = await t.getEntity('p', 'before').catch((e: unknown) => e);
    const write = await t.upsertEntity({ partitionKey: 'p', rowKey: 'during', n: 2 }).catch((e: unknown) => e);
    const query = await t
      .listEntities({ queryOptions: { filter: "PartitionKey eq 'p'" } })
      .next()
      .catch((e: unknown) => e);
    const transaction = await t
      .submitTransaction([['upsert', { partitionKey: 'p', rowKey: 'tx', n: 3 }]])
      .catch((e: unknown) => e);
    const ping = await tables.ping().catch((e: unknown) => e);
    azurite.resume();

    for (const err of [read, write, query, transaction, ping]) {
      expect(err).toBeInstanceOf(StorageUnavailableError);
      expect((err as Error).message).toMatch(/did not answer within \d+ ms/);
    }

    expect((await t.getEntity<{ n: number }>('p', 'before')).n).toBe(1);
    await t.upsertEntity({ partitionKey: 'p', rowKey: 'after', n: 4 });
    expect((await t.getEntity<{ n: number }>('p', 'after')).n).toBe(4);
  });

  it('says storage is unreachable when nothing listens, and keeps refusals (404, 409) as they are', async () => {
    const tables = new Tables(azurite.connectionString, 'refusals');
    const t = await tables.table('Things');
    await t.createEntity({ partitionKey: 'p', rowKey: 'r' });
    const conflict = await t.createEntity({ partitionKey: 'p', rowKey: 'r' }).catch((e: unknown) => e);
    const missing = await t.getEntity('p', 'nothing').catch((e: unknown) => e);
    expect(isStorageUnavailable(conflict)).toBe(false);
    expect((conflict as { statusCode?: number }).statusCode).toBe(409);
    expect((missing as { statusCode?: number }).statusCode).toBe(404);

    const nowhere = new Tables(devConnectionString('127.0.0.1', await freePort(), await freePort()));
    const err = await nowhere.table('Things').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect((err as Error).message).toMatch(/unreachable \(ECONNREFUSED\)|did not answer/);
  });
});
