/** Timing helpers the benchmarks share: p50/p95 of sequential calls after a warm-up, and the printed table. */

export interface Row {
  name: string;
  p50: number;
  p95: number;
  /** p95 target in ms; null for background work with no target. */
  target: number | null;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

export async function measure(
  name: string,
  target: number | null,
  fn: (i: number) => Promise<unknown>,
  opts: { samples: number; warmup?: number },
): Promise<Row> {
  for (let i = 0; i < (opts.warmup ?? 5); i++) await fn(i); // warm-up
  const times: number[] = [];
  for (let i = 0; i < opts.samples; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { name, p50: percentile(times, 0.5), p95: percentile(times, 0.95), target };
}

/** Several operations sampled in turn (one call of each per round), so passing load affects them alike. */
export async function measureInterleaved(
  ops: readonly [name: string, fn: () => Promise<unknown>][],
  target: number | null,
  opts: { samples: number; warmup?: number },
): Promise<Row[]> {
  for (let i = 0; i < (opts.warmup ?? 5); i++) for (const [, fn] of ops) await fn();
  const times = ops.map(() => [] as number[]);
  for (let i = 0; i < opts.samples; i++) {
    for (const [k, [, fn]] of ops.entries()) {
      const start = performance.now();
      await fn();
      times[k]!.push(performance.now() - start);
    }
  }
  return ops.map(([name], k) => {
    const sorted = times[k]!.sort((a, b) => a - b);
    return { name, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), target };
  });
}

/** The rows as a table with a verdict each; true when every row with a target met it. */
export function printRows(rows: readonly Row[]): boolean {
  const w = Math.max(...rows.map((r) => r.name.length));
  const line = (a: string, b: string, c: string, d: string, e: string) =>
    `${a.padEnd(w)}  ${b.padStart(8)}  ${c.padStart(8)}  ${d.padStart(8)}  ${e}`;
  console.log(line('operation', 'p50 ms', 'p95 ms', 'target', ''));
  console.log('-'.repeat(w + 36));
  for (const r of rows) {
    const verdict = r.target === null ? 'background' : r.p95 <= r.target ? 'ok' : 'OVER';
    console.log(line(r.name, r.p50.toFixed(1), r.p95.toFixed(1), r.target === null ? '—' : `≤ ${r.target}`, verdict));
  }
  return rows.every((r) => r.target === null || r.p95 <= r.target);
}
