import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devConnectionString, freePort } from '../../src/storage/azurite.js';
import { CallBudget, deadlinePolicy, gatePolicy, isStorageUnavailable, StorageUnavailableError, storageCallsUntil } from '../../src/storage/call-policy.js';
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

describe('storage calls of work that may be given up (storageCallsUntil)', () => {
  type Request = Parameters<ReturnType<typeof deadlinePolicy>['sendRequest']>[0];
  type Next = Parameters<ReturnType<typeof deadlinePolicy>['sendRequest']>[1];

  it("do not hand the work's signal to the policies after them (the token refresh other turns share), and are still given up when it aborts", async () => {
    const policy = deadlinePolicy(new CallBudget());
    const run = new AbortController();
    // What the SDK's bearer-token policy, next in line, would pass to the token refresh every caller shares.
    const seen: (AbortSignal | undefined)[] = [];
    let answer!: () => void;
    // Like the HTTP client: the request ends when its signal aborts.
    const next: Next = (req) => {
      const signal = req.abortSignal as AbortSignal | undefined;
      seen.push(signal);
      return new Promise((resolve, reject) => {
        answer = () => resolve({ status: 200, headers: {}, request: req } as never);
        signal?.addEventListener('abort', () => reject(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' })));
      });
    };
    const call = storageCallsUntil(run.signal, () => policy.sendRequest({} as Request, next));
    await Promise.resolve();
    run.abort();
    // The run is given up at once; the request itself is not aborted by it.
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.aborted).toBe(false);
    answer();
    // And a run already given up makes no call at all.
    await expect(storageCallsUntil(run.signal, () => policy.sendRequest({} as Request, next))).rejects.toThrow();
    expect(seen).toHaveLength(1);
  });

  it('send no try of work given up while it waited at the gate (or between retries): nothing reaches storage after the abort', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const tries: unknown[] = [];
    const policy = gatePolicy({ gate: () => gate });
    const next: Next = (req) => {
      tries.push(req);
      return Promise.resolve({ status: 204, headers: {}, request: req } as never);
    };
    const run = new AbortController();
    const call = storageCallsUntil(run.signal, () => policy.sendRequest({} as Request, next));
    run.abort();
    open();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(tries).toHaveLength(0);
    // Work not given up goes through the same gate.
    await expect(policy.sendRequest({} as Request, next)).resolves.toMatchObject({ status: 204 });
    expect(tries).toHaveLength(1);
  });
});
