/**
 * What bench:broadcast watches while a run sends, to find where its rate goes (scripts/bench/broadcast.ts):
 * - CPU per process every 10 s (/proc: embedded Azurite's table and queue processes, the workers, the bench
 *   itself with the connector stand-in) — is a core saturated, and which process?
 * - the workers' storage calls every 10 s, by table or queue, with the ms they took (storage-counter.ts,
 *   preloaded into the workers; SIGUSR2 makes each print its totals) — which calls grow slower as rows pile up.
 * - optionally V8 CPU profiles of Azurite's table process and the workers (`--cpu-prof DIR`), summed by function.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TICK_MS = 1000 / 100; // /proc counts CPU in clock ticks (USER_HZ 100 on Linux)

/** CPU ms used so far by a process (user + system), or undefined once it is gone. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** The storage counter's preload, for the workers' NODE_OPTIONS. */
export const STORAGE_COUNTER = fileURLToPath(new URL('./storage-counter.ts', import.meta.url));
/** Preload that records a CPU profile into $CPU_PROF_DIR until the process exits (SIGHUP: exit now). */
export const CPU_PROFILE_PRELOAD = fileURLToPath(new URL('./cpu-profile-preload.mjs', import.meta.url));

type Totals = Record<string, number>;

/** Reads a worker's `STORAGE_TARGETS` / `STORAGE_TARGET_MS` lines as they come. */
export class StorageTally {
  count: Totals = {};
  ms: Totals = {};
  constructor(child: ChildProcess) {
    let buf = '';
    child.stderr?.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('STORAGE_TARGETS ')) this.count = JSON.parse(line.slice(16)) as Totals;
        if (line.startsWith('STORAGE_TARGET_MS ')) this.ms = JSON.parse(line.slice(18)) as Totals;
      }
    });
  }
}

const sum = (into: Totals, from: Totals, sign = 1) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + sign * v;
};

/** A table or queue's name without the bench's prefix, and `$batch` for transactions. */
const shortTarget = (t: string) => t.replace(/^(\w+) bench/, '$1 ');

export interface ProbeSample {
  /** CPU share of one core per process during the 10 s (ms/s ÷ 10 = %). */
  cpu: Record<string, number>;
  /** Storage calls during the 10 s by target, and mean ms each. */
  calls: Record<string, { n: number; ms: number }>;
}

/** Samples every 10 s from `start()` until `stop()`. */
export class Probe {
  readonly samples: ProbeSample[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastCpu = new Map<string, number>();
  private lastCalls: { count: Totals; ms: Totals } = { count: {}, ms: {} };

  constructor(
    /** Processes by name; called each time (workers are replaced after a kill). */
    private readonly pids: () => Record<string, number | undefined>,
    /** The workers' storage tallies and processes, called each time. */
    private readonly workers: () => { child: ChildProcess; tally: StorageTally; retired?: boolean }[],
  ) {}

  start(): void {
    this.read(false);
    this.timer = setInterval(() => this.read(true), 10_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private read(keep: boolean): void {
    const cpu: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids())) {
      const ms = cpuMsOf(pid);
      const key = `${name}:${pid}`;
      if (ms === undefined) continue;
      const before = this.lastCpu.get(key);
      this.lastCpu.set(key, ms);
      const group = name.replace(/-\d+$/, '');
      if (before !== undefined) cpu[group] = (cpu[group] ?? 0) + (ms - before) / 100; // % of one core over 10 s
    }
    const sample: ProbeSample = { cpu, calls: {} };
    if (keep) this.samples.push(sample);
    const workers = this.workers().filter((w) => !w.retired && w.child.exitCode === null && w.child.signalCode === null);
    if (!workers.length) return;
    // Each worker prints its totals on SIGUSR2; read them a moment later (a line takes well under 300 ms).
    for (const w of workers) w.child.kill('SIGUSR2');
    const settle = setTimeout(() => {
      const count: Totals = {};
      const ms: Totals = {};
      for (const w of this.workers()) {
        sum(count, w.tally.count);
        sum(ms, w.tally.ms);
      }
      for (const [k, n] of Object.entries(count)) {
        const dn = n - (this.lastCalls.count[k] ?? 0);
        const dms = (ms[k] ?? 0) - (this.lastCalls.ms[k] ?? 0);
        if (dn > 0) sample.calls[shortTarget(k)] = { n: dn, ms: dms / dn };
      }
      this.lastCalls = { count, ms };
    }, 300);
    settle.unref();
  }
}

/** Self time per function in a V8 .cpuprofile: the top `n` (name, file, share of busy time, ms). */
export function topFunctions(file: string, n = 15): { fn: string; share: number; ms: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const name = new Map<number, string>();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const where = f.url ? `${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|scripts)\//, '$1/')}:${f.lineNumber + 1}` : '';
    name.set(node.id, `${f.functionName || '(anonymous)'} ${where}`.trim());
  }
  const ms = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const fn = name.get(id) ?? '?';
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    ms.set(fn, (ms.get(fn) ?? 0) + dt);
    if (fn !== '(idle)') busy += dt;
  });
  return [...ms]
    .filter(([fn]) => fn !== '(idle)')
    .map(([fn, t]) => ({ fn, ms: Math.round(t), share: Math.round((1000 * t) / busy) / 10 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, n);
}

/** The .cpuprofile files in `dir` written by the process `pid`. */
export function profilesOf(dir: string, pid: number | undefined): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && pid !== undefined && f.includes(`.${pid}.`))
    .map((f) => path.join(dir, f));
}
