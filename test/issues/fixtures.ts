import type { TransactionAction } from '@azure/data-tables';
import { ManualClock } from '../../src/clock.js';
import { META_PARTITION, type RefCounter } from '../../src/issues/counter.js';
import { readEntity } from '../../src/storage/entities.js';
import { entityToIssue, issueToEntity } from '../../src/issues/entity.js';
import { indexRowsFor, planIndex } from '../../src/issues/indexes.js';
import type { Issue, IssueSummary, NewIssue, Person, Reporter, Status } from '../../src/issues/model.js';
import { formatRef, parseRef, refBucket } from '../../src/issues/refs.js';
import { createIssue } from '../../src/issues/rules.js';
import { IssueExport } from '../../src/issues/export.js';
import { IssueQueries } from '../../src/issues/queries.js';
import { IssueRepository, type RepositoryOptions } from '../../src/issues/repository.js';
import { type IssueTables, openIssueTables } from '../../src/issues/tables.js';
import type { Tables } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';
import type { TableClient } from '@azure/data-tables';

export const alice: Reporter = { id: '29:alice', name: 'Alice', aadObjectId: 'aad-alice' };
export const bob: Reporter = { id: '29:bob', name: 'Bob' };
export const amina: Person = { id: '29:amina', name: 'Amina' };
export const bo: Person = { id: '29:bo', name: 'Bo' };

export function form(over: Record<string, unknown> = {}) {
  return {
    title: 'Cannot log in to the IMS',
    description: 'The login page says my account is locked since the update this morning',
    location: 'Login screen',
    category: 'Access / login',
    severity: 'blocks',
    site: 'North clinic',
    ...over,
  };
}

/** The issue log's three stores over one fresh set of tables. */
export async function openStore(opts: RepositoryOptions = {}, over: { tables?: Tables } = {}): Promise<{
  repo: IssueRepository;
  queries: IssueQueries;
  exporter: IssueExport;
  clock: ManualClock;
  tables: Tables;
  issueTables: IssueTables;
}> {
  const tables = over.tables ?? testTables();
  const clock = (opts.clock as ManualClock | undefined) ?? new ManualClock('2026-03-02T09:00:00Z');
  const issueTables = await openIssueTables(tables);
  const repo = new IssueRepository(issueTables, { ...opts, clock });
  const queries = new IssueQueries(issueTables, repo.counter, clock);
  return { repo, queries, exporter: new IssueExport(issueTables), clock, tables, issueTables };
}

/** A list line (an index row's summary) for tests of what lists and snapshots do with them. */
export function summaryLine(ref: string, createdAt: string, over: Partial<IssueSummary> = {}): IssueSummary {
  return {
    ref,
    title: `Issue ${ref}`,
    status: 'new',
    priority: null,
    severity: 'minor',
    category: 'Reports',
    site: 'Tembe',
    assignee: null,
    reporter: { id: 'x', name: 'Xavi' },
    affectedCount: 0,
    createdAt,
    ...over,
  };
}

/**
 * Writes `count` done issues straight into the tables, as the repository would have left them (main rows and
 * every index row, in transactions of up to 100 rows per partition) — a thousand issues in a few dozen calls
 * instead of thousands of changes. Numbered after the counter's current number, which is raised past them. The
 * i-th is logged `i` minutes after `from` and closed a day later, so the first is both the oldest logged and the
 * least recently closed. Returns their references in that order.
 */
export async function seedDoneIssues(
  issueTables: IssueTables,
  counter: RefCounter,
  opts: { count: number; from: Date; status: Exclude<Status, 'new' | 'triaged' | 'in_progress' | 'waiting' | 'duplicate'>; fields?: Partial<NewIssue>; prefix?: string },
): Promise<string[]> {
  const prefix = opts.prefix ?? 'R-';
  const row = await readEntity<{ n: number }>(issueTables.main, META_PARTITION, prefix);
  const first = Number(row?.n ?? 0) + 1;
  const fields = { ...form(), severity: 'minor', ...opts.fields } as NewIssue;
  const issues: Issue[] = [];
  for (let i = 0; i < opts.count; i++) {
    const n = first + i;
    const logged = new Date(opts.from.getTime() + i * 60_000);
    const closedAt = new Date(logged.getTime() + 86_400_000).toISOString();
    const base = createIssue({ ...fields, title: `${fields.title} ${n}` }, alice, formatRef(prefix, n), n, logged);
    issues.push({ ...base, status: opts.status, closedAt, updatedAt: closedAt, version: 2 });
  }
  const byPartition = new Map<string, { table: TableClient; actions: TransactionAction[] }>();
  const add = (table: TableClient, name: string, partitionKey: string, entity: Record<string, unknown> & { partitionKey: string; rowKey: string }) => {
    const key = `${name}|${partitionKey}`;
    const group = byPartition.get(key) ?? { table, actions: [] };
    group.actions.push(['upsert', entity, 'Replace']);
    byPartition.set(key, group);
  };
  for (const issue of issues) {
    const main = issueToEntity(issue, prefix);
    add(issueTables.main, 'main', main.partitionKey, main);
    for (const r of indexRowsFor(issue)) add(issueTables.idx[r.table], r.table, r.partitionKey, { partitionKey: r.partitionKey, rowKey: r.rowKey, ...r.props });
  }
  for (const { table, actions } of byPartition.values()) {
    for (let i = 0; i < actions.length; i += 100) await table.submitTransaction(actions.slice(i, i + 100));
  }
  await counter.raiseTo(first + opts.count - 1, opts.from.toISOString());
  return issues.map((i) => i.ref);
}

/**
 * Marks `ref` a duplicate of `of` the way versions before `duplicatesIn` did: its own main row (under no ETag, as a
 * seed) and index rows only — the original's row is not touched, so it does not list `ref` among its duplicates.
 */
export async function writeOldDuplicateLink(issueTables: IssueTables, ref: string, of: string, by: Person, at: Date): Promise<void> {
  const parsed = parseRef(ref, 'R-');
  if (!parsed) throw new Error(`not a ref: ${ref}`);
  const row = await readEntity<Record<string, unknown>>(issueTables.main, refBucket('R-', parsed.number), parsed.ref);
  if (!row) throw new Error(`no issue ${ref}`);
  const before = entityToIssue(row);
  const when = at.toISOString();
  const version = before.version + 1;
  const after: Issue = {
    ...before,
    status: 'duplicate',
    duplicateOf: of,
    closedAt: when,
    updatedAt: when,
    version,
    history: [...before.history, { at: when, by, what: 'duplicate', from: before.status, to: of, version }],
  };
  await issueTables.main.upsertEntity(issueToEntity(after, 'R-'), 'Replace');
  const plan = planIndex(before, after);
  for (const r of plan.remove) await issueTables.idx[r.table].deleteEntity(r.partitionKey, r.rowKey);
  for (const r of plan.upsert) await issueTables.idx[r.table].upsertEntity({ partitionKey: r.partitionKey, rowKey: r.rowKey, ...r.props }, 'Replace');
}

/**
 * An earlier change's queue rows landing late (a slow link), after those of the issue as it is (`now`): its rows as
 * they were (`was`) replace the current ones.
 */
export async function landStaleQueueRows(issueTables: IssueTables, now: Issue, was: Partial<Issue>): Promise<void> {
  const queue = (issue: Issue) => indexRowsFor(issue).filter((r) => r.table === 'queue');
  await Promise.all(queue(now).map((r) => issueTables.idx.queue.deleteEntity(r.partitionKey, r.rowKey)));
  await Promise.all(queue({ ...now, ...was }).map((r) => issueTables.idx.queue.upsertEntity({ partitionKey: r.partitionKey, rowKey: r.rowKey, ...r.props }, 'Replace')));
}
