import type { Tables } from '../../src/storage/tables.js';
import { testTables } from './storage.js';

type Paged = AsyncIterableIterator<unknown> & { byPage: (settings?: unknown) => AsyncIterableIterator<unknown[]> };

/**
 * Tables on the test Azurite whose clients count the queries they make, per table (each `listEntities` is one
 * query, however many pages the SDK then reads), and the rows those queries gave the caller: for checks that
 * work per run or per press stays bounded.
 */
export function countingTables(): { tables: Tables; queries: (table?: string) => number; rows: (table?: string) => number } {
  const tables = testTables();
  const counts = new Map<string, number>();
  const rowCounts = new Map<string, number>();
  const add = (map: Map<string, number>, name: string, n: number) => map.set(name, (map.get(name) ?? 0) + n);
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
          add(counts, name, 1);
          const iter = fn.apply(target, args) as Paged;
          // Rows are counted as the caller takes them, row by row or a page at a time.
          const rows: Paged = {
            next: async () => {
              const r = await iter.next();
              if (!r.done) add(rowCounts, name, 1);
              return r;
            },
            return: async (v?: unknown) => (iter.return ? iter.return(v) : { done: true, value: v }),
            [Symbol.asyncIterator]() {
              return rows;
            },
            byPage: (settings?: unknown) => {
              const pages = iter.byPage(settings);
              const counted: AsyncIterableIterator<unknown[]> = {
                next: async () => {
                  const r = await pages.next();
                  if (!r.done) add(rowCounts, name, r.value.length);
                  return r;
                },
                return: async (v?: unknown) => (pages.return ? pages.return(v) : { done: true, value: v }) as IteratorResult<unknown[]>,
                [Symbol.asyncIterator]() {
                  return counted;
                },
              };
              return counted;
            },
          };
          return rows;
        };
      },
    });
  };
  const total = (map: Map<string, number>, table?: string) => (table ? (map.get(table) ?? 0) : [...map.values()].reduce((a, b) => a + b, 0));
  return { tables, queries: (table) => total(counts, table), rows: (table) => total(rowCounts, table) };
}
