import { ManualClock } from '../../src/clock.js';
import type { Person, Reporter } from '../../src/issues/model.js';
import { IssueStore, type IssueStoreOptions } from '../../src/issues/store.js';
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

export async function openStore(
  opts: IssueStoreOptions = {},
): Promise<{ store: IssueStore; clock: ManualClock; tables: Tables }> {
  const tables = testTables();
  const clock = (opts.clock as ManualClock | undefined) ?? new ManualClock('2026-03-02T09:00:00Z');
  const store = await IssueStore.open(tables, { ...opts, clock });
  return { store, clock, tables };
}
