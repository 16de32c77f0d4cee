import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { withCorrelation } from '../telemetry/correlation.js';
import type { LeaseStore } from './lease.js';
import { runIfLeader } from './lease.js';

export interface ScheduledJob {
  name: string;
  /** Runs at most this often; the job itself works out what is due (it must be idempotent). */
  everyMs: number;
  run(now: Date): Promise<void>;
}

export interface SchedulerOptions {
  /** A job's lease lasts this long from its run, and at least two of its intervals (default a minute). */
  leaseMs?: number;
}

export interface SchedulerLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Runs periodic jobs on whichever instance holds each job's lease, so two instances never run the same job
 * at once. Every instance ticks; only the leader runs. A failing job is logged and tried again next tick.
 */
export class Scheduler {
  private readonly jobs: ScheduledJob[] = [];
  private readonly lastRun = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly holderId = `instance-${randomUUID()}`;

  constructor(
    private readonly leases: LeaseStore,
    private readonly clock: Clock,
    private readonly log: SchedulerLog,
    private readonly opts: SchedulerOptions = {},
  ) {}

  add(job: ScheduledJob): this {
    this.jobs.push(job);
    return this;
  }

  start(tickMs: number): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    }, tickMs);
    this.timer.unref();
  }

  /** One pass over the jobs that are due; tests call it with a ManualClock. */
  async tick(): Promise<void> {
    for (const job of this.jobs) {
      const now = this.clock.now();
      const last = this.lastRun.get(job.name) ?? Number.NEGATIVE_INFINITY;
      if (now.getTime() - last < job.everyMs) continue;
      this.lastRun.set(job.name, now.getTime());
      try {
        const result = await runIfLeader(
          this.leases,
          this.clock,
          { name: job.name, holderId: this.holderId, ttlMs: Math.max(job.everyMs * 2, this.opts.leaseMs ?? 60_000) },
          // Each run gets its own correlation id: its log lines and the sends it makes are found together.
          () => withCorrelation(() => job.run(now)),
        );
        if (!result.ran) continue;
      } catch (err) {
        this.log.error({ err, job: job.name }, 'scheduled job failed; it runs again next time');
      }
    }
  }

  /** Stops ticking and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
