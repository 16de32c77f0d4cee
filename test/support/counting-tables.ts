import type { Tables } from '../../src/storage/tables.js';
import { testTables } from './storage.js';

/**
 * Tables on the test Azurite whose clients count the queries they make, per table (each `listEntities` is one
 * query, however many pages the SDK then reads): for checks that work per run or per press stays bounded.
 */
export function countingTables(): { tables: Tables; queries: (table?: string) => number } {
  const tables = testTables();
  const counts = new Map<string, number>();
  const open = tables.table.bind(tables);
  tables.table = async (name: string) => {
    const client = await open(name);
    return new Proxy(client, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const fn = value as (...a: unknown[]) => unknown;
        if (prop !== 'listEntities') return fn.bind(target);
        return (...args: unknown[]) => {
          counts.set(name, (counts.get(name) ?? 0) + 1);
          return fn.apply(target, args);
        };
      },
    });
  };
  const queries = (table?: string) => (table ? (counts.get(table) ?? 0) : [...counts.values()].reduce((a, b) => a + b, 0));
  return { tables, queries };
}
