import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TableClient } from '@azure/data-tables';
import { afterEach, describe, expect, it } from 'vitest';
import { RefCounter } from '../../src/issues/counter.js';
import { createLogger } from '../../src/log.js';
import { StorageUnavailableError } from '../../src/storage/call-policy.js';
import { EmbeddedStorage } from '../../src/storage/embedded.js';
import { collect, Tables } from '../../src/storage/tables.js';
import { until } from '../support/until.js';
import { tempDir } from '../support/tempdir.js';

const running: EmbeddedStorage[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

/** Saves are looked for every 0.5 s, not production's 2 s: a test that waits for a trim sees it sooner. */
async function start(dir: string): Promise<{ storage: EmbeddedStorage; tables: Tables }> {
  const storage = await EmbeddedStorage.start({ location: dir, log: createLogger('silent'), checkEveryMs: 500 });
  running.push(storage);
  // A long deadline: calls made while Azurite restarts wait for it rather than give up.
  return { storage, tables: new Tables(storage.connectionString, '', { ...storage.tablesOptions(), timeoutMs: 60_000 }) };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const dataDir = () => tempDir('rd-embedded');
const killTable = (storage: EmbeddedStorage) => process.kill(storage.pid('table')!, 'SIGKILL');

async function rows(t: TableClient): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const e of await collect(t.listEntities<Record<string, unknown>>())) {
    const { etag: _e, timestamp: _t, 'odata.metadata': _m, ...rest } = e as Record<string, unknown>;
    out[`${e.partitionKey}/${e.rowKey}`] = rest;
  }
  return out;
}


describe('embedded storage when Azurite is killed', () => {
  it('restarts it and keeps every write it confirmed; issue numbers go on, never reused', async () => {
    const { storage, tables } = await start(dataDir());
    const t = await tables.table('Things');
    await t.createEntity({ partitionKey: 'p', rowKey: 'created', n: 1, at: new Date('2026-01-05T09:00:00Z') });
    await t.createEntity({ partitionKey: 'p', rowKey: 'merged', a: 'one', b: 'one' });
    await t.upsertEntity({ partitionKey: 'p', rowKey: 'merged', b: 'two' }, 'Merge');
    const merged = await t.getEntity('p', 'merged');
    await t.updateEntity({ partitionKey: 'p', rowKey: 'merged', c: 'three' }, 'Merge', { etag: merged.etag });
    await t.createEntity({ partitionKey: 'p', rowKey: 'replaced', a: 'one', b: 'one' });
    await t.upsertEntity({ partitionKey: 'p', rowKey: 'replaced', a: 'two' }, 'Replace');
    await t.createEntity({ partitionKey: 'p', rowKey: 'deleted', n: 1 });
    await t.deleteEntity('p', 'deleted');
    await t.submitTransaction([
      ['create', { partitionKey: 'q', rowKey: 'tx1', n: 1 }],
      ['upsert', { partitionKey: 'q', rowKey: 'tx2', n: 2 }, 'Replace'],
    ]);
    await t.submitTransaction([
      ['update', { partitionKey: 'q', rowKey: 'tx1', m: 1 }, 'Merge'],
      ['delete', { partitionKey: 'q', rowKey: 'tx2' }],
    ]);
    const counter = new RefCounter(await tables.table('Issues'), 'R-');
    const given: number[] = [];
    for (let i = 0; i < 5; i++) given.push((await counter.allocate(new Date(), `request-${i}`)).number);
    const before = await rows(t);

    killTable(storage); // right after the writes returned: Azurite saves only every 5 s
    // A write made while Azurite is down waits for the restart and is not undone by the replay.
    await t.upsertEntity({ partitionKey: 'p', rowKey: 'merged', d: 'during restart' }, 'Merge');
    expect(storage.health().status).toBe('ok');

    expect(await rows(t)).toEqual({ ...before, 'p/merged': { ...before['p/merged'], d: 'during restart' } });
    expect(before['p/merged']).toMatchObject({ a: 'one', b: 'two', c: 'three' });
    expect(before['p/replaced']).toEqual({ partitionKey: 'p', rowKey: 'replaced', a: 'two' });
    expect(before['p/created']!.at).toEqual(new Date('2026-01-05T09:00:00Z'));
    expect(Object.keys(before)).not.toContain('p/deleted');
    expect(Object.keys(before)).not.toContain('q/tx2');
    // A retried request gets its own number again; a new one gets the next, not one already given.
    const again = new RefCounter(await tables.table('Issues'), 'R-');
    expect(await again.allocate(new Date(), 'request-4')).toEqual({ number: given[4], fresh: false });
    expect((await again.allocate(new Date(), 'request-5')).number).toBe(Math.max(...given) + 1);
  });

  it('drops journal records once Azurite has saved them, and still loses nothing on a kill', async () => {
    const dir = dataDir();
    const { storage, tables } = await start(dir);
    const t = await tables.table('Things');
    const journalFiles = () => readdirSync(path.join(dir, 'journal')).length;
    let n = 0;
    // Keep writing until a save was seen twice and whole journal segments were deleted.
    let most = 0;
    await until('journal trimmed', async () => {
      await t.upsertEntity({ partitionKey: 'p', rowKey: `r${n}`, n });
      n++;
      most = Math.max(most, journalFiles());
      return most > 1 && journalFiles() < most;
    });
    killTable(storage);
    await t.upsertEntity({ partitionKey: 'p', rowKey: 'after', n: -1 });
    const all = await rows(t);
    expect(Object.keys(all)).toHaveLength(n + 1);
    for (let i = 0; i < n; i++) expect(all[`p/r${i}`]?.n).toBe(i);
  }, 90_000);

  it('says it is down, and calls fail at once, when Azurite cannot be restarted', async () => {
    const dir = dataDir();
    const { storage, tables } = await start(dir);
    const t = await tables.table('Things');
    await t.createEntity({ partitionKey: 'p', rowKey: 'r' });
    // A database file Azurite cannot read makes every restart fail.
    writeFileSync(path.join(dir, 'table', '__azurite_db_table__.json'), '{"not json');
    killTable(storage);
    await until('storage down', () => storage.health().status === 'down');
    expect(storage.health()).toMatchObject({ status: 'down', reason: expect.stringMatching(/could not be restarted/) });
    const err = await t.getEntity('p', 'r').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect((err as Error).message).toMatch(/storage is down/);
  }, 60_000);
});

describe('throw-away (in-memory) embedded storage when Azurite is killed', () => {
  it('says it is down rather than start again empty and hand out issue numbers a second time', async () => {
    const storage = await EmbeddedStorage.start({ log: createLogger('silent') });
    running.push(storage);
    const tables = new Tables(storage.connectionString, '', storage.tablesOptions());
    const counter = new RefCounter(await tables.table('Issues'), 'R-');
    expect((await counter.allocate(new Date())).number).toBe(1);
    killTable(storage);
    await until('storage down', () => storage.health().status === 'down');
    expect(storage.health()).toMatchObject({ reason: expect.stringMatching(/in-memory .* restart the app/) });
    expect(await counter.allocate(new Date()).catch((e: unknown) => e)).toBeInstanceOf(StorageUnavailableError);
  });
});

describe('embedded storage when the whole app is killed', () => {
  it('a new start on the same folder has every confirmed write and goes on with the numbers', async () => {
    const dir = dataDir();
    const writer = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/journal-writer.ts', import.meta.url)), dir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    writer.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await until('writer done', () => out.includes('\n'));
    const told = JSON.parse(out) as { table: number; queue: number; lastRef: number };
    // Both die at once, before Azurite's next save.
    process.kill(told.table, 'SIGKILL');
    writer.kill('SIGKILL');

    const { tables } = await start(dir);
    const all = await rows(await tables.table('Things'));
    expect(Object.keys(all)).toHaveLength(29);
    expect(all['p/r1']).toMatchObject({ n: 1, note: 'merged' });
    expect(all['p/r2']).toBeUndefined();
    const counter = new RefCounter(await tables.table('Issues'), 'R-');
    expect((await counter.allocate(new Date(), 'a new request')).number).toBe(told.lastRef + 1);
    // The dead app's queue service did not live on beside the new one: its guard notices the orphaning
    // within a second and saves and exits (slower on a loaded machine).
    await until('orphaned queue service gone', () => !alive(told.queue), 30_000);
  }, 90_000);
});
