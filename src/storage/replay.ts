import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { DeleteOp, JournalRecord, PutOp } from './journal.js';
import { deleteIfThere } from './tables.js';

/*
 * Writing the journal's records again onto Azurite after it lost its last seconds.
 *
 * Why unconditional replay of a suffix is right: per entity, every journaled write is one of
 *   put Replace e (create, update/upsert Replace):  s ↦ e               (a constant)
 *   delete:                                          s ↦ absent          (a constant)
 *   put Merge e (update/upsert Merge):               s ↦ s with e's properties set
 * Azurite's saved file holds the state after some prefix o1..ok of the writes (it saves its whole memory);
 * the journal holds a suffix oj..on with j ≤ k+1 (records are trimmed only once a save certainly holds
 * them). Replaying oj..on onto state_k gives state_n: if the suffix holds a constant, everything before the
 * last constant is overwritten anyway; if it holds only merges, merging e_j..e_k again onto a state that
 * already has them changes nothing (each property ends with the last value written to it), and the rest
 * are applied as they were. A transaction is the same per entity, its operations being on distinct rows.
 * An update that succeeded implies the row existed, so replaying it as an upsert can only differ where the
 * true history agrees. Writes per entity are journaled in the order Azurite applied them (KeyLocks).
 *
 * So per entity only the last constant and the merges after it are needed; they are applied in rounds,
 * upserts of one partition batched 100 to a transaction.
 */

type Step = PutOp | DeleteOp;

export interface ReplayResult {
  records: number;
  entities: number;
  tables: number;
}

export async function replay(
  records: JournalRecord[],
  clientFor: (table: string) => TableClient,
  concurrency = 4,
): Promise<ReplayResult> {
  const tables = new Set<string>();
  // table → partition → row → steps since the last constant
  const plan = new Map<string, Map<string, Map<string, Step[]>>>();
  for (const r of [...records].sort((a, b) => a.s - b.s)) {
    tables.add(r.t);
    const steps = r.o.k === 'tx' ? r.o.ops : r.o.k === 'table' ? [] : [r.o];
    for (const step of steps) {
      const [pk, rk] = step.k === 'del' ? [step.pk, step.rk] : [step.e.partitionKey, step.e.rowKey];
      const partitions = getOr(plan, r.t, () => new Map<string, Map<string, Step[]>>());
      const rows = getOr(partitions, pk, () => new Map<string, Step[]>());
      const constant = step.k === 'del' || step.mode === 'Replace';
      rows.set(rk, constant ? [step] : [...(rows.get(rk) ?? []), step]);
    }
  }

  for (const t of tables) await clientFor(t).createTable();
  const work: (() => Promise<void>)[] = [];
  let entities = 0;
  for (const [t, partitions] of plan) {
    const client = clientFor(t);
    for (const rows of partitions.values()) {
      entities += rows.size;
      work.push(() => replayPartition(client, [...rows.values()]));
    }
  }
  await runLimited(work, concurrency);
  return { records: records.length, entities, tables: tables.size };
}

async function replayPartition(client: TableClient, rows: Step[][]): Promise<void> {
  const rounds = Math.max(0, ...rows.map((r) => r.length));
  for (let i = 0; i < rounds; i++) {
    const steps = rows.map((r) => r[i]).filter((s): s is Step => s !== undefined);
    const puts = steps.filter((s): s is PutOp => s.k === 'put');
    for (let at = 0; at < puts.length; at += 100) {
      const actions: TransactionAction[] = puts.slice(at, at + 100).map((p) => ['upsert', p.e, p.mode]);
      await client.submitTransaction(actions);
    }
    for (const d of steps.filter((s): s is DeleteOp => s.k === 'del')) {
      await deleteIfThere(client, d.pk, d.rk);
    }
  }
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

async function runLimited(work: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < work.length) await work[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, work.length) }, worker));
}
