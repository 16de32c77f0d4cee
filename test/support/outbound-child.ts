import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { StatsSnapshot } from '../../src/outbound/stats.js';
import type { WorkerOptions } from '../../src/outbound/worker.js';

/** An outbound worker in its own process (scripts/outbound-worker.ts), to be killed and started again. */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  /** The last stats line it printed (a killed worker's figures up to its last second). */
  stats: StatsSnapshot | undefined;
  stderr = '';
  /** Its last log lines (warnings and errors: why a message was put back or not finished), for a failure's report. */
  log = '';

  /** `waiting`: the process loads and starts its worker only when `go()` is called. */
  constructor(opts: { storage: string; prefix: string; tenant: number; id: string; worker?: Partial<WorkerOptions>; waiting?: boolean }) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'scripts/outbound-worker.ts'], {
      env: {
        ...process.env,
        OUTBOUND_STORAGE: opts.storage,
        OUTBOUND_PREFIX: opts.prefix,
        OUTBOUND_TENANT: String(opts.tenant),
        OUTBOUND_ID: opts.id,
        OUTBOUND_WORKER: JSON.stringify(opts.worker ?? {}),
        OUTBOUND_WAIT: opts.waiting ? '1' : '',
      },
      stdio: [opts.waiting ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    this.child.stderr?.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4_000);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      const lines = createInterface({ input: this.child.stdout! });
      lines.on('line', (line) => {
        try {
          const msg = JSON.parse(line) as { ready?: boolean; stats?: StatsSnapshot };
          if (msg.ready) resolve();
          if (msg.stats) this.stats = msg.stats;
          else if (!msg.ready) this.log = (this.log + line + '\n').slice(-6_000);
        } catch {
          // not ours
        }
      });
      void this.exited.then(() => reject(new Error(`worker exited before it was ready: ${this.stderr}`)));
    });
    this.ready.catch(() => {}); // a process killed before `go()` was never awaited
  }

  /** Starts the worker of a process begun `waiting`; `ready` follows once it takes messages. */
  go(): void {
    this.child.stdin?.end('go\n');
  }

  /** SIGKILL: no handler runs, nothing is flushed — as a crashed or killed instance. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: a clean stop. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}
