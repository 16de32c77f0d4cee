import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { fromJsonColumn, readEntity, retryOnConflict, toJsonColumn } from '../storage/entities.js';
import { collect, safeKey, type Tables } from '../storage/tables.js';
import type { OccurrenceChange, Session } from './model.js';

/*
 * Table `OfficeHoursSchedule`: what the rollout team changed from Teams (the schedule file holds the rest).
 *   PK 'session'  RK <session id>        → a session added with "office hours add" (its checked definition, JSON)
 *   PK 'change'   RK <session id>|<key>  → a cancelled or moved occurrence (version bumped on each change)
 * Each is one partition read, so every instance sees every change at once; nothing is cached.
 */
export class ScheduleChanges {
  private constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<ScheduleChanges> {
    return new ScheduleChanges(await tables.table('OfficeHoursSchedule'), clock);
  }

  async sessions(): Promise<Session[]> {
    const rows = await collect(
      this.table.listEntities<{ session: string }>({ queryOptions: { filter: odata`PartitionKey eq 'session'` } }),
    );
    return rows.map((r) => fromJsonColumn<Session | null>(r.session, null)).filter((s): s is Session => s !== null);
  }

  /** Stores a session added from Teams; false when its id is taken. */
  async addSession(session: Session, by: string): Promise<boolean> {
    try {
      await this.table.createEntity({
        partitionKey: 'session',
        rowKey: safeKey(session.id),
        session: toJsonColumn(session),
        addedBy: by,
        addedAt: this.clock.now().toISOString(),
      });
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 409) return false;
      throw err;
    }
  }

  /** Every Teams change, by session id. */
  async changes(): Promise<Map<string, OccurrenceChange[]>> {
    const rows = await collect(
      this.table.listEntities<{ sessionId: string; change: string }>({ queryOptions: { filter: odata`PartitionKey eq 'change'` } }),
    );
    const out = new Map<string, OccurrenceChange[]>();
    for (const r of rows) {
      const c = fromJsonColumn<OccurrenceChange | null>(r.change, null);
      if (c) out.set(r.sessionId, [...(out.get(r.sessionId) ?? []), c]);
    }
    return out;
  }

  /**
   * Cancels or moves one occurrence, on top of what it was (`base`: the file's change, if any). The version
   * goes up by one each time, ETag-guarded, so two changes at once both count and the last one wins.
   */
  async change(
    sessionId: string,
    key: string,
    base: OccurrenceChange | undefined,
    apply: Pick<OccurrenceChange, 'cancelled' | 'moveTo' | 'reason'>,
    by: string,
  ): Promise<OccurrenceChange> {
    const rowKey = safeKey(`${sessionId}|${key}`);
    return retryOnConflict(
      async () => {
        const row = await readEntity<{ change: string }>(this.table, 'change', rowKey);
        const before = row ? fromJsonColumn<OccurrenceChange | null>(row.change, null) ?? base : base;
        const next: OccurrenceChange = { key, version: (before?.version ?? 0) + 1 };
        if (apply.cancelled) next.cancelled = true;
        const moveTo = apply.moveTo ?? (apply.cancelled ? before?.moveTo : undefined);
        if (moveTo) next.moveTo = moveTo;
        if (apply.reason) next.reason = apply.reason;
        const entity = { partitionKey: 'change', rowKey, sessionId, change: toJsonColumn(next), by, at: this.clock.now().toISOString() };
        if (row) await this.table.updateEntity(entity, 'Replace', { etag: row.etag });
        else await this.table.createEntity(entity);
        return next;
      },
      { what: 'Changing this session' },
    );
  }
}
