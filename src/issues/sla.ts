import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { deleteIfThere, isConflict, type Tables } from '../storage/tables.js';
import { type IssueSummary, isUrgent, type SlaConfig } from './model.js';
import type { CreatedWindow, IssueQueries } from './queries.js';

/**
 * SLA for untriaged issues. A New issue older than `untriagedReminderMinutes` gets one reminder in the
 * triage channel; a New issue that is P1 (or, with no priority set, "blocks my work") and older than
 * `escalationMinutes` is escalated once to the rollout team — also one raised to P1 only later. Each (issue, threshold) fires once: a marker row is created
 * before anything is sent, and creation fails with 409 for the second instance or the second run.
 */

export type SlaKind = 'reminder' | 'escalation';

export interface SlaEvent {
  ref: string;
  kind: SlaKind;
  /** The threshold crossed, e.g. `remind-240m`; changing the config makes a new threshold. */
  threshold: string;
  ageMinutes: number;
  issue: IssueSummary;
}

const MINUTE = 60_000;
/** Incremental runs look this far back past the last run, for slow index writes and clock skew. */
const OVERLAP_MS = 5 * MINUTE;

/** Pure: which thresholds the given issues have crossed at `now`. Issues not New are ignored. */
export function dueSlaEvents(issues: readonly IssueSummary[], now: Date, config: SlaConfig): SlaEvent[] {
  const out: SlaEvent[] = [];
  for (const issue of issues) {
    if (issue.status !== 'new') continue;
    const ageMinutes = Math.floor((now.getTime() - Date.parse(issue.createdAt)) / MINUTE);
    // A lost device a champion lowered to P3 is not escalated for its "blocks my work" (see isUrgent).
    const urgent = isUrgent(issue);
    if (urgent && ageMinutes >= config.escalationMinutes) {
      out.push({
        ref: issue.ref,
        kind: 'escalation',
        threshold: `escalate-${config.escalationMinutes}m`,
        ageMinutes,
        issue,
      });
    }
    if (ageMinutes >= config.untriagedReminderMinutes) {
      out.push({
        ref: issue.ref,
        kind: 'reminder',
        threshold: `remind-${config.untriagedReminderMinutes}m`,
        ageMinutes,
        issue,
      });
    }
  }
  return out;
}

export const SLA_MARKS_TABLE = 'IssueSlaMarks';

/** Fired markers: PartitionKey = issue ref, RowKey = threshold. */
export class SlaMarks {
  constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<SlaMarks> {
    return new SlaMarks(await tables.table(SLA_MARKS_TABLE));
  }

  /** True for exactly one caller per (ref, threshold), across runs and instances. */
  async claim(event: Pick<SlaEvent, 'ref' | 'threshold' | 'kind'>, now: Date): Promise<boolean> {
    try {
      await this.table.createEntity({
        partitionKey: event.ref,
        rowKey: event.threshold,
        kind: event.kind,
        firedAt: now.toISOString(),
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Retention: an issue's marks go with it. */
  async dropAll(ref: string): Promise<void> {
    const rows = this.table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${ref}`, select: ['RowKey'] } });
    for await (const r of rows) await this.release({ ref, threshold: String(r.rowKey) });
  }

  /** Gives a claimed event back (its message could not be sent), so the next run fires it again. */
  async release(event: Pick<SlaEvent, 'ref' | 'threshold'>): Promise<void> {
    await deleteIfThere(this.table, event.ref, event.threshold);
  }
}

/**
 * One SLA pass: reads the untriaged partition (never all issues), works out what is due and claims
 * each event. Returns the events this caller won; the caller posts them (and `release`s any it could
 * not post). Run it under the scheduler's lease; the markers keep it right even without one.
 */
export class SlaCheck {
  /** (ref, threshold) pairs this process knows are fired: saves a 409 round trip on every later run. */
  private readonly known = new Set<string>();
  /**
   * When this process last completed a run. Later runs read only the issues that crossed a threshold
   * since then (plus an overlap), not every untriaged issue; the first run, and the one after a
   * `release`, read them all.
   */
  private lastRun: Date | null = null;

  constructor(
    private readonly store: Pick<IssueQueries, 'untriaged'>,
    private readonly marks: SlaMarks,
    private readonly config: SlaConfig,
    private readonly clock: Clock,
  ) {}

  async run(): Promise<SlaEvent[]> {
    const now = this.clock.now();
    const due = dueSlaEvents(await this.store.untriaged(this.windows(now)), now, this.config);
    const won: SlaEvent[] = [];
    for (const event of due) {
      const key = `${event.ref}|${event.threshold}`;
      if (this.known.has(key)) continue;
      if (await this.marks.claim(event, now)) won.push(event);
      this.known.add(key);
    }
    this.lastRun = now;
    return won;
  }

  /** For each threshold T: issues created in [lastRun − T − overlap, now − T]. */
  private windows(now: Date): CreatedWindow[] {
    const at = (ms: number) => new Date(ms);
    return [this.config.untriagedReminderMinutes, this.config.escalationMinutes].map((minutes) => {
      // `to` is exclusive: +1 ms takes in an issue created exactly T minutes ago.
      const to = at(now.getTime() - minutes * MINUTE + 1);
      return this.lastRun ? { from: at(this.lastRun.getTime() - minutes * MINUTE - OVERLAP_MS), to } : { to };
    });
  }

  /** Gives an event back (its message could not be sent): the next run fires it again. */
  release(event: SlaEvent): Promise<void> {
    this.known.delete(`${event.ref}|${event.threshold}`);
    this.lastRun = null;
    return this.marks.release(event);
  }
}
