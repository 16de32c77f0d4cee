import { randomBytes } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { mapLimit } from '../map-limit.js';
import { readEntity, updateIfUnchanged } from '../storage/entities.js';
import { deleteIfThere, isConflict, isNotFound } from '../storage/tables.js';
import { META_PARTITION, type MetaRow } from './counter.js';
import {
  type IndexPlan,
  type IndexRow,
  type IndexTable,
  indexRowsFor,
  isPersonRow,
  parseRowId,
  planIndex,
  rowId,
} from './indexes.js';
import type { Issue } from './model.js';

/**
 * Keeps index rows in step with main rows. The main row is the truth; index rows are written after it,
 * in other partitions, so they cannot share its transaction. Two guards make that safe:
 *
 * 1. A repair marker (`Issues` table, RowKey `pending~<time>~<ref>~<random>`) records every index row the
 *    change may touch, no later than the main row is written: for a new issue in the same transaction as its
 *    reference number (PartitionKey `~meta`), for an update in the same transaction as the ETag-guarded write
 *    (in the issue's own partition, `R-00xx`: one call, and a write refused with 412 leaves no marker to drop).
 *    It is removed once the index rows are written. If the process dies or an index write fails in
 *    between, `repairPending` finds the marker and recomputes those rows from the main row (within a few minutes
 *    for a `~meta` marker; within the hour for one in an issue's partition, or at once when the issue is next
 *    touched: `repairRef`).
 * 2. After writing, the writer re-reads the main row: if someone changed the issue meanwhile, their
 *    writes and ours may have interleaved, so it rewrites the rows from the current state, and repeats
 *    until the version it wrote for is still the current one. (A change whose follow-ups are settled makes
 *    that check with the settling write instead, under the ETag of its own write: see `complete`.)
 */

const MARKER_PREFIX = 'pending~';
/** Every marker's RowKey sorts between these; the main rows (`R-0042`: the prefix is letters, digits, '-') do not. */
const markerRange = (pk: string, until: string) =>
  odata`PartitionKey eq ${pk} and RowKey ge ${MARKER_PREFIX} and RowKey lt ${until}`;
const SETTLE_ROUNDS = 6;
/** Azure Tables takes at most 100 operations in one transaction. */
const MAX_TRANSACTION = 100;

type RowRef = Pick<IndexRow, 'table' | 'partitionKey' | 'rowKey'>;

/** Replace, not Merge, when written: a row must not keep properties its new state no longer has (e.g. keywords). */
const entityOf = (r: IndexRow) => ({ partitionKey: r.partitionKey, rowKey: r.rowKey, ...r.props });
/** The `~meta` row saying when the repair job last swept the issues' partitions (outside every marker range). */
const PARTITION_SWEEP_ROW = 'sweep~markers';
/** How often the repair job reads every issue partition for updates' markers (`~meta` it reads at every run). */
const PARTITION_SWEEP_MS = 3_600_000;

export interface PendingChange {
  ref: string;
  plan: IndexPlan;
  /** Every index row id the change may touch (before ∪ after). */
  touched: string[];
  /** The marker row to write before the main row; null when no index row changes (e.g. a comment). */
  marker: MetaRow | null;
}

export class IndexWriter {
  constructor(
    private readonly tables: Record<IndexTable, TableClient>,
    /** The `Issues` table: markers live in its `~meta` partition (new issues) and in the issues' own (updates). */
    private readonly meta: TableClient,
    private readonly readMain: (ref: string) => Promise<Issue | null>,
    /** Every partition of main rows there is (where updates' markers are). */
    private readonly mainPartitions: () => Promise<string[]>,
  ) {}

  /**
   * Works out the index writes of a change and its marker row (in `partitionKey`: `~meta` for a new issue's, the
   * issue's own for an update's, to ride in its write's transaction); writes nothing.
   */
  prepare(before: Issue | null, after: Issue, now: Date, partitionKey = META_PARTITION): PendingChange {
    const plan = planIndex(before, after);
    // A person's `who~` rows are many on a busy issue (up to a thousand +1s) and never change: only those
    // the change writes or removes are recorded, so the marker stays small.
    const touched = [
      ...new Set([
        ...[...(before ? indexRowsFor(before) : []), ...indexRowsFor(after)].filter((r) => !isPersonRow(r)).map(rowId),
        ...plan.upsert.map(rowId),
        ...plan.remove.map(rowId),
      ]),
    ];
    const empty = !plan.upsert.length && !plan.remove.length;
    const marker: MetaRow | null = empty
      ? null
      : {
          partitionKey,
          rowKey: `${MARKER_PREFIX}${now.toISOString()}~${after.ref}~${randomBytes(4).toString('hex')}`,
          ref: after.ref,
          touched: JSON.stringify(touched),
        };
    return { ref: after.ref, plan, touched, marker };
  }

  /** Writes the marker on its own; call before the main write when it did not ride in a transaction. */
  async record(change: PendingChange): Promise<void> {
    if (change.marker) await this.meta.createEntity(change.marker);
  }

  /** The main write did not happen (412/409): nothing to index, drop the marker. */
  async abandon(change: PendingChange): Promise<void> {
    if (change.marker) await this.dropMarker(change.marker);
  }

  /**
   * The main write happened: write the index rows, settle against concurrent writers, drop the marker.
   * `fresh` (a brand-new issue: no earlier rows to leave behind) lets the settle check and the marker
   * removal run side by side. `keep`: the marker is left for the caller to drop with its next write of the
   * issue's partition (a change's follow-ups settled: one transaction), and the settle check is left to that write
   * too: it is made under the ETag of the change's own write, so it succeeds only if nobody wrote the issue since
   * (the rows just written are then its rows); refused (412), the caller rebuilds the rows from the row as it is
   * then (`repairRef`) before dropping the marker. Either way the marker stays until then.
   */
  async complete(change: PendingChange, writtenVersion: number, fresh = false, keep = false): Promise<void> {
    if (!change.marker) return;
    await this.apply(change.plan);
    if (keep) return;
    if (fresh) {
      await Promise.all([
        this.settle(change.ref, writtenVersion, change.touched),
        this.dropMarker(change.marker),
      ]);
    } else {
      await this.settle(change.ref, writtenVersion, change.touched);
      await this.dropMarker(change.marker);
    }
  }

  private async apply(plan: IndexPlan): Promise<void> {
    await this.writeRows(plan.upsert, plan.remove);
  }

  /**
   * Upserts `upsert` and deletes `remove`, one call per partition: a partition's rows go in one transaction (a
   * priority or status change moves the issue's row within each queue partition: its old RowKey deleted, its new one
   * written, one call where it was two). A transaction refused because a row to delete is gone already (404: the
   * transaction wrote nothing) is done again one row at a time, as before.
   */
  private async writeRows(upsert: readonly IndexRow[], remove: readonly RowRef[]): Promise<void> {
    const byPartition = new Map<string, { upsert: IndexRow[]; remove: RowRef[] }>();
    const group = (r: RowRef) => {
      const id = `${r.table}|${r.partitionKey}`;
      return byPartition.get(id) ?? byPartition.set(id, { upsert: [], remove: [] }).get(id)!;
    };
    for (const r of upsert) group(r).upsert.push(r);
    for (const r of remove) group(r).remove.push(r);
    await Promise.all([...byPartition.values()].map((g) => this.writePartition(g.upsert, g.remove)));
  }

  private async writePartition(upsert: readonly IndexRow[], remove: readonly RowRef[]): Promise<void> {
    const one = async () => {
      await Promise.all([...upsert.map((r) => this.upsert(r)), ...remove.map((r) => this.remove(r))]);
    };
    const first = upsert[0] ?? remove[0];
    if (!first || upsert.length + remove.length === 1 || upsert.length + remove.length > MAX_TRANSACTION) return one();
    try {
      await this.tables[first.table].submitTransaction([
        ...upsert.map((r): TransactionAction => ['upsert', entityOf(r), 'Replace']),
        ...remove.map((r): TransactionAction => ['delete', { partitionKey: r.partitionKey, rowKey: r.rowKey }]),
      ]);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await one();
    }
  }

  private upsert(r: IndexRow) {
    return this.tables[r.table].upsertEntity(entityOf(r), 'Replace');
  }

  private async remove(r: RowRef) {
    await deleteIfThere(this.tables[r.table], r.partitionKey, r.rowKey);
  }

  /** Makes the index rows of `ref` match its main row: upserts what should exist, deletes the rest of `touched`. */
  async rewrite(current: Issue | null, touched: readonly string[]): Promise<void> {
    const desired = current ? indexRowsFor(current) : [];
    const keep = new Set(desired.map(rowId));
    await this.writeRows(desired, touched.filter((id) => !keep.has(id)).map(parseRowId));
  }

  private async settle(ref: string, version: number, touched: readonly string[]): Promise<void> {
    let expected = version;
    for (let round = 0; round < SETTLE_ROUNDS; round++) {
      const current = await this.readMain(ref);
      const seen = current?.version ?? 0;
      if (seen === expected) return;
      await this.rewrite(current, touched);
      expected = seen;
    }
  }

  private async dropMarker(marker: { partitionKey: string; rowKey: string }): Promise<void> {
    await deleteIfThere(this.meta, marker.partitionKey, marker.rowKey);
  }

  /**
   * Rebuilds one issue's index rows from its main row, from every marker it has (a change whose index writes failed):
   * for a retry of that change, so its lists agree at once instead of at the next repair run. The markers stay for
   * `repairPending` (one may be a change still in flight), which finds the rows right and drops them.
   */
  async repairRef(ref: string, partitionKey: string): Promise<void> {
    const touched = new Set<string>();
    // A new issue's marker is in `~meta`, an update's in the issue's partition (and in `~meta`, written by an earlier version).
    await Promise.all(
      [META_PARTITION, partitionKey].map(async (pk) => {
        const markers = this.meta.listEntities<{ ref: string; touched: string }>({
          queryOptions: { filter: `${markerRange(pk, `${MARKER_PREFIX}~`)} and ${odata`ref eq ${ref}`}` },
        });
        for await (const m of markers) for (const id of JSON.parse(m.touched) as string[]) touched.add(id);
      }),
    );
    if (!touched.size) return;
    const current = await this.readMain(ref);
    await this.rewrite(current, [...touched]);
    await this.settle(ref, current?.version ?? 0, [...touched]);
  }

  /**
   * The repair path: every marker older than `olderThan` is a change whose index writes did not finish
   * (crash, or a failed index write). Rebuilds those rows from the main rows. Returns how many it fixed.
   * Reads `~meta` (new issues' markers) at every run; the partitions of main rows (updates' markers, a range of
   * RowKeys in each: one query per hundred issues) only when this run claims the partition sweep, at most once
   * per `PARTITION_SWEEP_MS` across all instances (see `claimPartitionSweep`). An issue touched again is repaired
   * at once by `repairRef`, so a marker waiting in its partition matters only for an issue nobody touches.
   */
  async repairPending(olderThan: Date, now: Date, max = 500): Promise<number> {
    const until = MARKER_PREFIX + olderThan.toISOString();
    let fixed = 0;
    const repair = async (pk: string) => {
      if (fixed >= max) return;
      const iter = this.meta.listEntities<{ ref: string; touched: string }>({ queryOptions: { filter: markerRange(pk, until) } });
      for await (const m of iter) {
        if (fixed >= max) break;
        fixed++;
        const touched = JSON.parse(m.touched) as string[];
        const current = await this.readMain(m.ref);
        await this.rewrite(current, touched);
        await this.settle(m.ref, current?.version ?? 0, touched);
        await this.dropMarker({ partitionKey: pk, rowKey: String(m.rowKey) });
      }
    };
    await repair(META_PARTITION);
    if (await this.claimPartitionSweep(now)) await mapLimit(await this.mainPartitions(), 8, repair);
    return fixed;
  }

  /**
   * True when this run is to sweep the issues' partitions: the `~meta` row `PARTITION_SWEEP_ROW` says when the last
   * sweep started, and is moved to `now` under its ETag (created when absent), so of two instances running the job
   * at once only one sweeps. Claimed before sweeping: a sweep cut short (crash, `max`) is taken up an hour later.
   */
  private async claimPartitionSweep(now: Date): Promise<boolean> {
    const row = await readEntity<{ at?: string }>(this.meta, META_PARTITION, PARTITION_SWEEP_ROW);
    const last = row ? Date.parse(String(row.at ?? '')) : NaN;
    if (row && now.getTime() - last < PARTITION_SWEEP_MS) return false;
    const entity = { partitionKey: META_PARTITION, rowKey: PARTITION_SWEEP_ROW, at: now.toISOString() };
    if (row) return (await updateIfUnchanged(this.meta, entity, 'Replace', row.etag)) !== undefined;
    try {
      await this.meta.createEntity(entity);
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }
}
