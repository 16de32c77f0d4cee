/**
 * npx tsx scripts/bench/azurite-growth.ts [--rows 20000] [--step 5000] [--sample 300]
 *
 * How embedded (in-memory) Azurite's table operations slow as a table grows — the reason bench:broadcast's rate
 * falls through a 10,000-recipient run while the machine is idle. Shapes like the outbound path's rows: one
 * partition holding many rows (a broadcast's delivery rows: PK send, RK recipient) and one partition per row
 * (a conversation's window: PK conv:<id>). At each size, --sample point reads, ETag updates and inserts are
 * timed one at a time (as a worker makes them), p50 / p95 in ms. A Storage account answers these in the same
 * time whatever the table holds; if Azurite does not, the bench's decay is the emulator's.
 */
import { TableClient } from '@azure/data-tables';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startAzurite } from '../../src/storage/azurite.js';
import { percentile } from './measure.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000' },
    step: { type: 'string', default: '5000' },
    sample: { type: 'string', default: '300' },
  },
});
const ROWS = Number(values.rows);
const STEP = Number(values.step);
const SAMPLE = Number(values.sample);

const azurite = await startAzurite();
const open = async (name: string) => {
  const client = TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
  await client.createTable();
  return client;
};
const shapes = {
  'one partition': { table: await open('growthOne'), pk: (_i: number) => 'send', rk: (i: number) => `r${i}` },
  'a partition per row': { table: await open('growthMany'), pk: (i: number) => `conv:${i}`, rk: (_i: number) => 'w' },
};

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

const fmt = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `${percentile(sorted, 0.5).toFixed(2)} / ${percentile(sorted, 0.95).toFixed(2)}`;
};

console.log(`embedded Azurite, one request at a time; p50 / p95 ms over ${SAMPLE} requests of each kind\n`);
console.log('| shape | rows in the table | read | update (ETag) | insert |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, shape] of Object.entries(shapes)) {
  let filled = 0;
  for (let size = 0; size <= ROWS; size += STEP) {
    // Fill up to `size` rows in batches (transactions of 100 share a partition; otherwise in parallel groups).
    while (filled < size) {
      const upTo = Math.min(size, filled + 100);
      const entities = Array.from({ length: upTo - filled }, (_, k) => ({
        partitionKey: shape.pk(filled + k),
        rowKey: shape.rk(filled + k),
        json: 'x'.repeat(200),
      }));
      if (name === 'one partition') await shape.table.submitTransaction(entities.map((e) => ['create', e]));
      else await Promise.all(entities.map((e) => shape.table.createEntity(e)));
      filled = upTo;
    }
    const reads: number[] = [];
    const updates: number[] = [];
    const inserts: number[] = [];
    for (let s = 0; s < SAMPLE; s++) {
      const i = size > 0 ? Math.floor((s * 7919) % size) : -1;
      if (i >= 0) {
        let etag = '';
        reads.push(await timed(async () => (etag = (await shape.table.getEntity(shape.pk(i), shape.rk(i))).etag)));
        updates.push(await timed(() => shape.table.updateEntity({ partitionKey: shape.pk(i), rowKey: shape.rk(i), json: 'y' }, 'Merge', { etag })));
      }
      const extra = ROWS * 10 + size + s;
      inserts.push(await timed(() => shape.table.createEntity({ partitionKey: shape.pk(extra), rowKey: shape.rk(extra), json: 'z' })));
      await shape.table.deleteEntity(shape.pk(extra), shape.rk(extra));
    }
    console.log(`| ${name} | ${size.toLocaleString('en')} | ${reads.length ? fmt(reads) : '—'} | ${updates.length ? fmt(updates) : '—'} | ${fmt(inserts)} |`);
  }
}
await azurite.stop();
