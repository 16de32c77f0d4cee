import { TableClient } from '@azure/data-tables';
import { vi } from 'vitest';

/*
 * Counting the storage work of one operation (rows returned and calls made, on every table): a press must read
 * what it shows, not everything stored. Counted, not timed.
 */

/**
 * Rows and calls the storage client was asked for while `fn` ran; with `table`, on that table only (its name
 * without the test's prefix, e.g. 'FaqQuestions'), so a count asserted exactly is not moved by other tables' work.
 */
export async function reads<T>(fn: () => Promise<T>, opts: { table?: string } = {}): Promise<{ value: T; rows: number; calls: number }> {
  const counts = { rows: 0, calls: 0 };
  const counted = (client: TableClient) => opts.table === undefined || client.tableName.endsWith(opts.table);
  const list = TableClient.prototype.listEntities;
  const get = TableClient.prototype.getEntity;
  const counting = <I extends AsyncIterator<unknown>>(it: I, size: (v: unknown) => number): I =>
    Object.assign(Object.create(it) as I, {
      next: async () => {
        const r = await it.next();
        if (!r.done) counts.rows += size(r.value);
        return r;
      },
      return: async (value?: unknown) => (it.return ? it.return(value) : { done: true as const, value }),
      [Symbol.asyncIterator]() {
        return this;
      },
    });
  vi.spyOn(TableClient.prototype, 'listEntities').mockImplementation(function (this: TableClient, ...args) {
    const it = list.apply(this, args);
    if (!counted(this)) return it;
    counts.calls++;
    const wrapped = counting(it, () => 1);
    return Object.assign(wrapped, { byPage: (s?: Parameters<typeof it.byPage>[0]) => counting(it.byPage(s), (p) => (p as unknown[]).length) });
  });
  vi.spyOn(TableClient.prototype, 'getEntity').mockImplementation(function (this: TableClient, ...args) {
    if (counted(this)) {
      counts.calls++;
      counts.rows++;
    }
    return get.apply(this, args);
  });
  try {
    return { value: await fn(), ...counts };
  } finally {
    vi.restoreAllMocks();
  }
}


/** The storage calls `callsOn` records (the table client's methods that each make one request, or one per page). */
const STORAGE_CALLS = ['getEntity', 'listEntities', 'createEntity', 'upsertEntity', 'updateEntity', 'deleteEntity', 'submitTransaction'] as const;

/**
 * Records, by method name, every storage call made on `table` (its name without the test's prefix, e.g. 'Outbound')
 * by any client of this process, from now until `stop()`: what a worker's handling of a message costs, counted.
 */
export function callsOn(table: string): { calls: string[]; stop(): void } {
  const calls: string[] = [];
  const spies = STORAGE_CALLS.map((name) => {
    const real = TableClient.prototype[name] as (...args: unknown[]) => unknown;
    return vi.spyOn(TableClient.prototype, name).mockImplementation(function (this: TableClient, ...args: unknown[]) {
      if (this.tableName.endsWith(table)) calls.push(name);
      return real.apply(this, args);
    } as never);
  });
  return { calls, stop: () => spies.forEach((s) => s.mockRestore()) };
}
