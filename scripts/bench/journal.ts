/**
 * npm run bench:journal [-- --writes 2000 --parallel 8]
 *
 * What the embedded-storage write journal costs: the same table writes against one embedded Azurite
 * (data on disk, in a temporary folder), through a plain client and through the journaled one, one at a
 * time (latency p50/p95; the two alternate write by write, after a warm-up, so load from elsewhere on the
 * machine falls on both alike) and with `--parallel` writers (throughput). Also the journal alone (append
 * + fdatasync), which is the floor of the added latency on this disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../src/log.js';
import { EmbeddedStorage } from '../../src/storage/embedded.js';
import { TableJournal } from '../../src/storage/journal.js';
import { Tables } from '../../src/storage/tables.js';

const { values } = parseArgs({
  options: {
    writes: { type: 'string', default: '2000' },
    parallel: { type: 'string', default: '8' },
  },
});
const WRITES = Number(values.writes);
const PARALLEL = Number(values.parallel);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!;
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

function report(label: string, times: number[]): void {
  console.log(
    `${label.padEnd(34)} p50 ${fmt(pct(times, 0.5))}   p95 ${fmt(pct(times, 0.95))}   p99 ${fmt(pct(times, 0.99))}`,
  );
}

async function sequential(label: string, write: (i: number) => Promise<unknown>): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < WRITES; i++) {
    const t0 = performance.now();
    await write(i);
    times.push(performance.now() - t0);
  }
  report(label, times);
}

async function parallel(label: string, write: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < WRITES) await write(next++);
    }),
  );
  const perSecond = WRITES / ((performance.now() - t0) / 1000);
  console.log(`${label.padEnd(34)} ${perSecond.toFixed(0)} writes/s`);
  return perSecond;
}

const dir = mkdtempSync(path.join(tmpdir(), 'rd-bench-journal-'));
try {
  console.log(`${WRITES} writes each, ${PARALLEL} writers in the parallel runs, data in ${dir}\n`);
  const journal = await TableJournal.open(path.join(dir, 'bare-journal'));
  const entity = (i: number) => ({ partitionKey: `p${i % 16}`, rowKey: `r${i}`, title: 'x'.repeat(200), n: i });
  await sequential('journal alone (append + fdatasync)', (i) =>
    journal.append('Bench', { k: 'put', mode: 'Replace', e: entity(i) }),
  );
  await journal.close();

  const storage = await EmbeddedStorage.start({ location: path.join(dir, 'data'), log: createLogger('warn') });
  try {
    const plain = await new Tables(storage.connectionString, 'plain').table('Bench');
    const logged = await new Tables(storage.connectionString, 'journaled', storage.tablesOptions()).table('Bench');
    for (let i = 0; i < 200; i++) {
      await plain.upsertEntity(entity(-i - 1), 'Replace');
      await logged.upsertEntity(entity(-i - 1), 'Replace');
    }
    const plainSeq: number[] = [];
    const loggedSeq: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      for (const [client, times] of [
        [plain, plainSeq],
        [logged, loggedSeq],
      ] as const) {
        const t0 = performance.now();
        await client.upsertEntity(entity(i), 'Replace');
        times.push(performance.now() - t0);
      }
    }
    report('upsert, plain client', plainSeq);
    report('upsert, journaled client', loggedSeq);
    const plainPar = await parallel('upsert, plain, parallel', (i) => plain.upsertEntity(entity(i + WRITES), 'Replace'));
    const loggedPar = await parallel('upsert, journaled, parallel', (i) =>
      logged.upsertEntity(entity(i + WRITES), 'Replace'),
    );
    console.log(
      `\nadded per write (sequential): p50 ${fmt(pct(loggedSeq, 0.5) - pct(plainSeq, 0.5))}, ` +
        `p95 ${fmt(pct(loggedSeq, 0.95) - pct(plainSeq, 0.95))}; ` +
        `parallel throughput ${((loggedPar / plainPar) * 100).toFixed(0)}% of plain`,
    );
  } finally {
    await storage.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
