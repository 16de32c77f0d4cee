import { odata, type TableClient, TableTransaction } from '@azure/data-tables';
import { fromJsonColumn, readEntity, toJsonColumn } from '../storage/entities.js';
import { groupByDay } from '../storage/day-partitions.js';
import { collect, isConflict, safeKey, type Tables } from '../storage/tables.js';
import type { DayFigures, WeekFigures } from './daily.js';
import type { IssueEvent } from './events.js';

/*
 * The adoption figures' tables (see docs/storage-adoption.md):
 *
 * `AdoptionEvents`  PK = UTC day 'YYYY-MM-DD', RK = event key '<ref>|v<version>|<kind>' (safeKey'd)
 *                   → the roll-up reads a range of days with one range query; a repeated event is a 409.
 * `AdoptionDaily`   PK 'day',  RK 'YYYY-MM-DD' → a day's figures (counts as JSON columns; gaps, durations,
 *                                               the active-user sketch and the open snapshot in their own
 *                                               columns, so a page view selects only what it shows)
 *                   PK 'week', RK Monday 'YYYY-MM-DD' → a week's figures, folded from its days
 *                   → a dashboard reads a range of week rows (one partition, a dozen rows), never events.
 * `AdoptionState`   PK 'rollup' RK 'state' → how far the roll-up has finalised; PK 'digest' RK '<ISO week>'
 *                   → the week's digest claimed (once, across instances).
 */

export const ADOPTION_TABLES = { events: 'AdoptionEvents', daily: 'AdoptionDaily', state: 'AdoptionState' } as const;

type EventRow = Omit<IssueEvent, 'key' | 'day'> & { partitionKey: string; rowKey: string; key: string };

export class EventStore {
  constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<EventStore> {
    return new EventStore(await tables.table(ADOPTION_TABLES.events));
  }

  private row(e: IssueEvent): EventRow {
    const { day, ...rest } = e;
    return { partitionKey: day, rowKey: safeKey(e.key), ...rest };
  }

  /** Records events as they happen; one already recorded (a retried request) is left as it is. */
  async record(events: readonly IssueEvent[]): Promise<void> {
    await Promise.all(
      events.map(async (e) => {
        try {
          await this.table.createEntity(this.row(e));
        } catch (err) {
          if (!isConflict(err)) throw err;
        }
      }),
    );
  }

  /** Writes many events at once (the backfill), 100 per transaction in each day partition; rewriting one is harmless. */
  async recordMany(events: readonly IssueEvent[], parallel = 4): Promise<void> {
    const byDay = new Map<string, IssueEvent[]>();
    for (const e of events) {
      const list = byDay.get(e.day);
      if (list) list.push(e);
      else byDay.set(e.day, [e]);
    }
    const batches: IssueEvent[][] = [];
    for (const list of byDay.values()) for (let i = 0; i < list.length; i += 100) batches.push(list.slice(i, i + 100));
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          const tx = new TableTransaction();
          for (const e of batch) tx.upsertEntity(this.row(e), 'Replace');
          await this.table.submitTransaction(tx.actions);
        }
      }),
    );
  }

  async day(day: string): Promise<IssueEvent[]> {
    return (await this.between(day, day)).get(day) ?? [];
  }

  /** Events from `first` to `last` (UTC days, inclusive), by day: one range query over the day partitions. */
  async between(first: string, last: string): Promise<Map<string, IssueEvent[]>> {
    const rows = await collect(this.table.listEntities<EventRow>({ queryOptions: { filter: odata`PartitionKey ge ${first} and PartitionKey le ${last}` } }));
    return groupByDay(rows, (r, day) => ({
      key: r.key,
      kind: r.kind,
      day,
      at: r.at,
      ref: r.ref,
      category: r.category,
      site: r.site,
      priority: r.priority,
      urgent: Boolean(r.urgent),
      actor: r.actor,
      ...(typeof r.minutes === 'number' ? { minutes: r.minutes } : {}),
    }));
  }

  /** How many events name one of these actor hashes (privacy: what `forget` will change). */
  async countByActor(actors: readonly string[]): Promise<number> {
    return (await this.byActor(actors)).length;
  }

  /**
   * Privacy `forget`: events keep counting, with the stand-in's hash in place of the person's (the same
   * hash the weekly rebuild writes once the issue names the stand-in). Returns how many it changed.
   */
  async replaceActor(actors: readonly string[], by: string): Promise<number> {
    const rows = await this.byActor(actors);
    for (const r of rows) await this.table.updateEntity({ partitionKey: r.partitionKey, rowKey: r.rowKey, actor: by }, 'Merge');
    return rows.length;
  }

  /** A scan of every day: only `forget` needs it, rarely, over a table of a few thousand rows a month. */
  private async byActor(actors: readonly string[]): Promise<{ partitionKey: string; rowKey: string }[]> {
    if (!actors.length) return [];
    const filter = actors.map((a) => odata`actor eq ${a}`).join(' or ');
    const rows = await collect(this.table.listEntities<{ actor: string }>({ queryOptions: { filter, select: ['PartitionKey', 'RowKey'] } }));
    return rows.map((r) => ({ partitionKey: r.partitionKey!, rowKey: r.rowKey! }));
  }
}

/** Which columns of a day row a reader wants (a page view never needs the sketch or the durations). */
export type DayPart = 'counts' | 'gaps' | 'durations' | 'active' | 'open';

export class AggregateStore {
  constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<AggregateStore> {
    return new AggregateStore(await tables.table(ADOPTION_TABLES.daily));
  }

  async putDay(d: DayFigures): Promise<void> {
    const { triageMinutes, resolveMinutes, ...issues } = d.issues;
    await this.table.upsertEntity(
      {
        partitionKey: 'day',
        rowKey: d.day,
        counts: toJsonColumn({ questions: d.questions, issues }),
        gaps: toJsonColumn(d.gaps),
        triageMinutes: toJsonColumn(triageMinutes),
        resolveMinutes: toJsonColumn(resolveMinutes),
        active: d.active,
        open: d.open ? toJsonColumn(d.open) : '',
      },
      'Replace',
    );
  }

  /** Days from `from` to `to` (both included), oldest first, with only the parts asked for. */
  async days(from: string, to: string, parts: readonly DayPart[] = ['counts', 'gaps', 'durations', 'active', 'open']): Promise<DayFigures[]> {
    const columns = parts.flatMap((p) => (p === 'durations' ? ['triageMinutes', 'resolveMinutes'] : [p]));
    const rows = await collect(
      this.table.listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey eq 'day' and RowKey ge ${from} and RowKey le ${to}`,
          select: ['RowKey', ...columns],
        },
      }),
    );
    return rows.map((r) => {
      const counts = fromJsonColumn<{ questions?: DayFigures['questions']; issues?: Partial<DayFigures['issues']> }>(r.counts, {});
      const empty = { category: {}, site: {}, priority: {} };
      const out: DayFigures = {
        day: String(r.rowKey),
        questions: counts.questions ?? { asked: 0, answered: 0, rated: 0, helpful: 0 },
        issues: {
          opened: 0,
          triaged: 0,
          resolved: 0,
          lateTriage: 0,
          openedBy: empty,
          resolvedBy: empty,
          ...counts.issues,
          triageMinutes: fromJsonColumn<number[]>(r.triageMinutes, []),
          resolveMinutes: fromJsonColumn<number[]>(r.resolveMinutes, []),
        },
        gaps: fromJsonColumn(r.gaps, []),
        active: typeof r.active === 'string' ? r.active : '',
      };
      const open = fromJsonColumn<DayFigures['open'] | null>(r.open, null);
      if (open) out.open = open;
      return out;
    });
  }

  async day(day: string): Promise<DayFigures | undefined> {
    return (await this.days(day, day))[0];
  }

  async putWeek(w: WeekFigures): Promise<void> {
    await this.table.upsertEntity({ partitionKey: 'week', rowKey: w.week, json: toJsonColumn(w) }, 'Replace');
  }

  /** Weeks whose Monday is from `from` to `to`, oldest first. */
  async weeks(from: string, to: string): Promise<WeekFigures[]> {
    const rows = await collect(
      this.table.listEntities<{ json: string }>({
        queryOptions: { filter: odata`PartitionKey eq 'week' and RowKey ge ${from} and RowKey le ${to}` },
      }),
    );
    return rows.map((r) => fromJsonColumn<WeekFigures | null>(r.json, null)).filter((w): w is WeekFigures => w !== null);
  }
}

export interface RollupState {
  /** Days up to this one are final (not recomputed unless the backfill runs again). */
  finalThrough?: string;
  backfilledAt?: string;
  lastRunAt?: string;
}

export class StateStore {
  constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<StateStore> {
    return new StateStore(await tables.table(ADOPTION_TABLES.state));
  }

  async rollup(): Promise<RollupState> {
    const row = await readEntity<{ json: string }>(this.table, 'rollup', 'state');
    return fromJsonColumn<RollupState>(row?.json, {});
  }

  async saveRollup(state: RollupState): Promise<void> {
    await this.table.upsertEntity({ partitionKey: 'rollup', rowKey: 'state', json: toJsonColumn(state) }, 'Replace');
  }

  /** True for exactly one caller per key (a week's digest), across runs and instances. */
  async claim(kind: string, key: string, at: Date): Promise<boolean> {
    try {
      await this.table.createEntity({ partitionKey: kind, rowKey: safeKey(key), at: at.toISOString() });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Whether `key` was claimed (one point read). */
  async isClaimed(kind: string, key: string): Promise<boolean> {
    return (await readEntity(this.table, kind, safeKey(key))) !== undefined;
  }
}
