import { ManualClock } from '../../src/clock.js';
import type { IssueSummary, Person, Reporter } from '../../src/issues/model.js';
import { IssueExport } from '../../src/issues/export.js';
import { IssueQueries } from '../../src/issues/queries.js';
import { IssueRepository, type RepositoryOptions } from '../../src/issues/repository.js';
import { type IssueTables, openIssueTables } from '../../src/issues/tables.js';
import type { Tables } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';

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
export async function openStore(opts: RepositoryOptions = {}): Promise<{
  repo: IssueRepository;
  queries: IssueQueries;
  exporter: IssueExport;
  clock: ManualClock;
  tables: Tables;
  issueTables: IssueTables;
}> {
  const tables = testTables();
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
