import type { TableClient } from '@azure/data-tables';

/*
 * Tables partitioned by UTC day ('YYYY-MM-DD'), such as the FAQ's question log and the outbound delivery
 * index: old days are dropped by retention as a range of partitions, and one person's rows are found with
 * one range read per day (their key is the RowKey's prefix) from the first day the table holds.
 */

/** `2026-01-05` for a time (UTC). */
export const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

/**
 * The first day in the table: one row read (rows come in key order). A partition key may carry more after
 * the day (`<day>|<bucket>`, a day spread over partitions): the day is its first 10 characters.
 */
export async function firstDay(table: TableClient): Promise<string | undefined> {
  const page = await table.listEntities({ queryOptions: { select: ['PartitionKey'] } }).byPage({ maxPageSize: 1 }).next();
  const row = page.done ? undefined : page.value[0];
  return row ? String(row.partitionKey).slice(0, 10) : undefined;
}

/** Runs `read` for each day from `first` to `last` (inclusive), `parallel` days at a time. */
export async function forEachDay(first: string, last: string, read: (day: string) => Promise<void>, parallel = 8): Promise<void> {
  const days: string[] = [];
  for (let d = new Date(`${first}T00:00:00Z`); dayOf(d) <= last; d = new Date(d.getTime() + 86_400_000)) days.push(dayOf(d));
  for (let i = 0; i < days.length; i += parallel) await Promise.all(days.slice(i, i + parallel).map(read));
}

/** Rows read from a range of day partitions, grouped by day (each row mapped on the way). */
export function groupByDay<R extends { partitionKey?: string }, T>(rows: readonly R[], map: (row: R, day: string) => T): Map<string, T[]> {
  const byDay = new Map<string, T[]>();
  for (const row of rows) {
    const day = String(row.partitionKey).slice(0, 10);
    const list = byDay.get(day);
    if (list) list.push(map(row, day));
    else byDay.set(day, [map(row, day)]);
  }
  return byDay;
}
