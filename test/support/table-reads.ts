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

