import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/**
 * Runs a server (the app's `src/main.ts`, or a reference bot) as a child process, the way it runs for real:
 * its own heap, its own event loop, its RSS readable from /proc, its crash visible as an exit.
 */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Settings from the caller's shell that would point the app elsewhere (credentials, storage, a model). */
export const LOCAL_ONLY: Record<string, undefined> = {
  MicrosoftAppId: undefined,
  MicrosoftAppPassword: undefined,
  MicrosoftAppTenantId: undefined,
  MicrosoftAppType: undefined,
  AZURE_STORAGE_CONNECTION_STRING: undefined,
  AZURE_STORAGE_ACCOUNT_NAME: undefined,
  OPENAI_API_KEY: undefined,
  AZURE_OPENAI_ENDPOINT: undefined,
  AZURE_OPENAI_API_KEY: undefined,
};

export interface LogLine {
  level: number;
  msg?: string;
  activityId?: string;
  [key: string]: unknown;
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** Set once the process has ended (a crash, when the caller did not stop it). */
  exit: { code: number | null; signal: string | null } | undefined;
  /** Log lines at error level or above (JSON lines on stdout). */
  errors: LogLine[];
  /** With node's --trace-gc: the live heap (MB) after each major GC, by isolate — what is really kept. */
  liveHeapAfterGc: { isolate: string; mb: number }[];
  /** The last lines of stderr, for a crash report. */
  stderrTail: string[];
  /** Resolves with the next stderr line matching `pattern`. */
  nextStderrLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resident memory of the process (and, separately, of its child processes such as embedded Azurite). */
  rss(): { self: number; children: number } | undefined;
  /** CPU time used so far (user + system, seconds) by the process and by its direct children. */
  cpuSeconds(): { self: number; children: number };
  stop(): Promise<void>;
}

export async function startServerProcess(opts: {
  entry: string;
  args?: string[];
  /** Added to this process's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** A line on stderr or stdout that carries the base URL in its first group, e.g. /Bot endpoint: (\S+)\/api/. */
  ready: RegExp;
  /** Node options, after `--import tsx` unless `compiled` (then a preloaded file must be .js). */
  nodeArgs?: string[];
  /** Run a compiled `.js` entry with plain node, as production does (no tsx loader and its second isolate). */
  compiled?: boolean;
}): Promise<ServerProcess> {
  const env = { ...process.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child: ChildProcess = spawn(
    process.execPath,
    [...(opts.compiled ? [] : ['--import', 'tsx']), ...(opts.nodeArgs ?? []), opts.entry, ...(opts.args ?? [])],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const waiters = new Set<(line: string) => void>();
  const proc: ServerProcess = {
    url: '',
    pid: child.pid ?? -1,
    exit: undefined,
    errors: [],
    liveHeapAfterGc: [],
    stderrTail: [],
    nextStderrLine: (pattern, timeoutMs = 5_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no stderr line matching ${pattern} within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (line: string) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(line);
        };
        waiters.add(waiter);
      }),
    rss: () => rssOf(child.pid ?? -1),
    cpuSeconds: () => {
      const pid = child.pid ?? -1;
      return { self: cpuOf(pid), children: childrenOf(pid).reduce((a, c) => a + cpuOf(c), 0) };
    },
    stop: async () => {
      if (proc.exit) return;
      const ended = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      // Longer than the app's own shutdown bound (SHUTDOWN_TIMEOUT_SECONDS), so that bound is what shows.
      const force = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await ended;
      clearTimeout(force);
    },
  };
  let resolveUrl: (url: string) => void = () => {};
  const urlFound = new Promise<string>((r) => {
    resolveUrl = r;
  });
  const watch = (line: string) => {
    const m = opts.ready.exec(line);
    if (m?.[1]) resolveUrl(m[1].replace('//localhost:', '//127.0.0.1:'));
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    watch(line);
    const gc = MAJOR_GC.exec(line);
    if (gc) proc.liveHeapAfterGc.push({ isolate: gc[1]!, mb: Number(gc[2]) });
    // Only error lines are parsed: the rest is the app's normal logging.
    if (!/"level":(5|6)\d/.test(line)) return;
    try {
      proc.errors.push(JSON.parse(line) as LogLine);
    } catch {
      /* not JSON */
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    watch(line);
    for (const w of [...waiters]) w(line);
    proc.stderrTail.push(line);
    if (proc.stderrTail.length > 40) proc.stderrTail.shift();
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      proc.exit = { code, signal };
      reject(new Error(`${opts.entry} ended before it was ready (code ${code}):\n${proc.stderrTail.join('\n')}`));
    });
  });
  exited.catch(() => {});
  proc.url = await Promise.race([urlFound, exited]);
  return proc;
}

/** `[pid:0xISOLATE]  1234 ms: Mark-Compact 94.0 (161.4) -> 70.5 (121.1) MB, …` from --trace-gc. */
const MAJOR_GC = /\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(/;

/**
 * The main isolate's live heap after major GCs: its largest value in the first and in the second half of the
 * run. A leak keeps raising it; a heap that is only allowed to grow between collections does not.
 */
export function liveHeapTrend(samples: { isolate: string; mb: number }[]): { firstHalfMax: number; secondHalfMax: number; count: number } | undefined {
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(s.isolate, (counts.get(s.isolate) ?? 0) + 1);
  const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const mine = samples.filter((s) => s.isolate === main).map((s) => s.mb);
  if (mine.length < 4) return undefined;
  const half = Math.floor(mine.length / 2);
  return { firstHalfMax: Math.max(...mine.slice(0, half)), secondHalfMax: Math.max(...mine.slice(half)), count: mine.length };
}

/** VmRSS of a process and of its direct children, in bytes (Linux /proc). */
function rssOf(pid: number): { self: number; children: number } | undefined {
  const self = vmRss(pid);
  if (self === undefined) return undefined;
  return { self, children: childrenOf(pid).reduce((a, c) => a + (vmRss(c) ?? 0), 0) };
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // no children file: count none
  }
}

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s). */
function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function vmRss(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` and keeps the peak. */
export function rssMonitor(proc: ServerProcess, everyMs = 250) {
  const first = proc.rss();
  const stats = { start: first?.self ?? 0, peak: first?.self ?? 0, last: first?.self ?? 0, childrenPeak: first?.children ?? 0 };
  const timer = setInterval(() => {
    const now = proc.rss();
    if (!now) return;
    stats.last = now.self;
    stats.peak = Math.max(stats.peak, now.self);
    stats.childrenPeak = Math.max(stats.childrenPeak, now.children);
  }, everyMs);
  return {
    stats,
    /** Marks "now" as the start (after warm-up). */
    restart() {
      const now = proc.rss();
      if (now) Object.assign(stats, { start: now.self, peak: now.self, last: now.self });
    },
    stop() {
      clearInterval(timer);
      const now = proc.rss();
      if (now) stats.last = now.self;
      return stats;
    },
  };
}

export const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
