import { type TableClient, TableTransaction } from '@azure/data-tables';
import { RefCounter } from '../../src/issues/counter.js';
import { issueToEntity } from '../../src/issues/entity.js';
import { type IndexRow, indexRowsFor } from '../../src/issues/indexes.js';
import type { Issue } from '../../src/issues/model.js';
import type { IssueTables } from '../../src/issues/tables.js';

/**
 * Loads many issues at once (benchmarks) with transactions of up to 100 rows per partition,
 * `parallel` in flight. The issues must be new; the counter is raised past the highest number.
 */
export async function bulkLoadIssues(
  t: IssueTables,
  prefix: string,
  issues: readonly Issue[],
  opts: { parallel?: number } = {},
): Promise<void> {
  type Batch = { client: TableClient; tx: TableTransaction };
  const batches: Batch[] = [];
  const open = new Map<string, Batch>();
  const add = (client: TableClient, key: string, entity: { partitionKey: string; rowKey: string }) => {
    let b = open.get(key);
    if (!b) {
      b = { client, tx: new TableTransaction() };
      open.set(key, b);
      batches.push(b);
    }
    b.tx.createEntity(entity);
    if (b.tx.actions.length === 100) open.delete(key);
  };
  for (const issue of issues) {
    const e = issueToEntity(issue, prefix);
    add(t.main, `main|${e.partitionKey}`, e);
    for (const r of indexRowsFor(issue))
      add(t.idx[r.table], `${r.table}|${r.partitionKey}`, rowEntity(r));
  }
  let next = 0;
  const workers = Array.from({ length: Math.max(1, opts.parallel ?? 4) }, async () => {
    while (next < batches.length) {
      const b = batches[next++]!;
      await b.client.submitTransaction(b.tx.actions);
    }
  });
  await Promise.all(workers);
  if (issues.length) {
    let max = 0;
    let since = issues[0]!.createdAt;
    for (const i of issues) {
      if (i.number > max) max = i.number;
      if (i.createdAt < since) since = i.createdAt;
    }
    await new RefCounter(t.main, prefix).raiseTo(max, since);
  }
}

function rowEntity(r: IndexRow) {
  return { partitionKey: r.partitionKey, rowKey: r.rowKey, ...r.props };
}

