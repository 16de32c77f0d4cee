import { createHash } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { mapLimit } from '../map-limit.js';
import { fromJsonColumn, getChunks, putChunks, readEntity, retryOnConflict, toJsonColumn } from '../storage/entities.js';
import { collect, isNotFound, safeKey, type Tables } from '../storage/tables.js';
import type { OccurrenceChange, Session, SessionKind } from './model.js';
import { BOOKABLE_DAYS, MOVE_LIMIT_DAYS } from './rules.js';

/**
 * What the notice pass last saw of a session (`digest` of it as it stood, with every change), and what a cancel
 * needs should it leave the schedule: its title, kind, zone, length, and the SEQUENCE each changed occurrence was
 * at. Nothing about people (hosts, reasons typed): the privacy job need not look here.
 */
export interface KnownSession {
  id: string;
  /** sha-256 of the session as it stood; REMOVED once it left the schedule; HELD_DIGEST if only ever seen held. */
  digest: string;
  title?: string;
  kind?: SessionKind;
  zone?: string;
  minutes?: number;
  /** Occurrence key → the highest change version seen (its SEQUENCE). */
  versions?: Record<string, number>;
}

/** A session as the schedule file last served it good, and since when this instance built it so (ISO). */
export interface LastGood {
  session: Session;
  digest: string;
  since: string;
}

export const REMOVED = 'removed';
/** The digest of a session the pass has seen only held (its entry in the file unreadable): no session's own. */
export const HELD_DIGEST = 'held';
/** The row that says a pass has settled what it saw (the first pass of all looks at every booking). */
const SETTLED = '.settled';
/**
 * How long what the pass saw of a session taken off the schedule is kept (from when it saw it go): its cancel needs
 * it while a booking of it may lie ahead (booked up to BOOKABLE_DAYS ahead, then maybe moved up to MOVE_LIMIT_DAYS on).
 */
export const REMOVED_KEEP_DAYS = BOOKABLE_DAYS + MOVE_LIMIT_DAYS;
/** Rows of sessions long gone deleted by one pass (one transaction): the rest at the next. */
const SWEEP_ROWS = 100;

/** What the pass keeps of a session as it stands. */
export function knownSession(s: Session): KnownSession {
  const versions: Record<string, number> = {};
  for (const c of s.changes) versions[c.key] = Math.max(versions[c.key] ?? 0, c.version);
  return {
    id: s.id,
    digest: createHash('sha256').update(JSON.stringify(s)).digest('hex'),
    title: s.title,
    kind: s.kind,
    zone: s.zone,
    minutes: s.minutes,
    versions,
  };
}

/*
 * Table `OfficeHoursSchedule`: what the rollout team changed from Teams (the schedule file holds the rest).
 *   PK 'session'  RK <session id>        → a session added with "office hours add" (its checked definition, JSON)
 *   PK 'change'   RK <session id>|<key>  → a cancelled or moved occurrence (version bumped on each change)
 *   PK 'known'    RK <session id>        → what the notice pass last saw of it (KnownSession); RK '.settled' once
 *                                          a pass has settled. A session taken off the schedule keeps its row
 *                                          (`removedAt`) for REMOVED_KEEP_DAYS, then the pass's read deletes it.
 *   PK 'good'     RK <session id>        → the schedule file's entry of it as last served good (LastGood), for a
 *                                          session whose entry turns bad: every instance, restarted or not, holds
 *                                          it as this. Deleted when the pass sees the session taken out, and by
 *                                          each pass while one is left of a session already taken out (dropKept).
 * Each is one partition read, so every instance sees every change at once; nothing is cached here (the service
 * reads the held sessions' 'good' rows once per schedule built, again after a pass, and at most a minute apart).
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

  /** What the notice pass last saw of every session (one partition read); `settled`: a pass has settled. */
  async known(): Promise<{ sessions: Map<string, KnownSession>; settled: boolean }> {
    const rows = await collect(this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq 'known'` } }));
    const gone = await this.sweep(rows);
    const sessions = new Map<string, KnownSession>();
    for (const r of rows) if (r.rowKey !== SETTLED && !gone.has(String(r.rowKey))) sessions.set(String(r.id), plainKnown(r));
    return { sessions, settled: rows.some((r) => r.rowKey === SETTLED) };
  }

  /**
   * Of the rows just read, deletes those of sessions off the schedule for REMOVED_KEEP_DAYS (nothing needs them: no
   * booking of theirs lies ahead), up to SWEEP_ROWS; one taken off before `removedAt` was kept gets it now. Their
   * row keys.
   */
  private async sweep(rows: readonly Record<string, unknown>[]): Promise<Set<string>> {
    const now = this.clock.now();
    const before = new Date(now.getTime() - REMOVED_KEEP_DAYS * 86_400_000).toISOString();
    const removed = rows.filter((r) => r.rowKey !== SETTLED && r.digest === REMOVED);
    const due = removed.filter((r) => typeof r.removedAt === 'string' && r.removedAt < before).slice(0, SWEEP_ROWS);
    const unstamped = removed.filter((r) => typeof r.removedAt !== 'string').slice(0, SWEEP_ROWS - due.length);
    const actions: TransactionAction[] = [
      ...due.map((r): TransactionAction => ['delete', { partitionKey: 'known', rowKey: String(r.rowKey) }]),
      ...unstamped.map((r): TransactionAction => ['upsert', { partitionKey: 'known', rowKey: String(r.rowKey), removedAt: now.toISOString() }, 'Merge']),
    ];
    if (actions.length) await this.table.submitTransaction(actions);
    return new Set(due.map((r) => String(r.rowKey)));
  }

  /** What the notice pass last saw of one session, if it saw it. */
  async lastKnown(sessionId: string): Promise<KnownSession | undefined> {
    const row = await readEntity<Record<string, unknown>>(this.table, 'known', safeKey(sessionId));
    return row ? plainKnown(row) : undefined;
  }

  /**
   * Records what the pass saw, once it has told all it had to: a removed session keeps its last title, length and
   * SEQUENCEs (merged), for its cancel. 100 rows a transaction.
   */
  async settle(seen: readonly KnownSession[]): Promise<void> {
    const at = this.clock.now().toISOString();
    const actions: TransactionAction[] = seen.map(({ versions, ...k }) => [
      'upsert',
      {
        partitionKey: 'known',
        rowKey: safeKey(k.id),
        ...k,
        ...(versions ? { versions: toJsonColumn(versions) } : {}),
        // When it was seen to leave (kept for its cancel, then swept); back on the schedule, kept while it is there.
        removedAt: k.digest === REMOVED ? at : '',
      },
      'Merge',
    ]);
    actions.push(['upsert', { partitionKey: 'known', rowKey: SETTLED, at }, 'Merge']);
    for (let i = 0; i < actions.length; i += 100) await this.table.submitTransaction(actions.slice(i, i + 100));
    // Taken out (and told so): put back later with a typo, it is not served as this old entry, unannounced.
    await this.deleteKept(seen.filter((k) => k.digest === REMOVED).map((k) => safeKey(k.id)));
  }

  /**
   * Deletes the kept copies of sessions already taken out (REMOVED), where any are left: one whose delete at settle
   * failed, or one an instance on an older file kept again. One listing of row keys, then a delete for each found.
   */
  async dropKept(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    const wanted = new Set(ids.map(safeKey));
    const listed = await collect(this.table.listEntities({ queryOptions: { filter: odata`PartitionKey eq 'good'`, select: ['RowKey'] } }));
    await this.deleteKept(listed.map((r) => String(r.rowKey)).filter((k) => wanted.has(k)));
  }

  private async deleteKept(rowKeys: readonly string[]): Promise<void> {
    await mapLimit(rowKeys, 8, (rowKey) =>
      this.table.deleteEntity('good', rowKey).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      }),
    );
  }

  /** The last good definitions kept of `ids` (sessions whose entry in the file is bad now), by id. */
  async lastGood(ids: readonly string[]): Promise<Map<string, Session>> {
    // Few at a time: a file gone bad as a whole can hold hundreds.
    const rows = await mapLimit(ids, 8, (id) => readEntity<Record<string, unknown>>(this.table, 'good', safeKey(id)));
    const out = new Map<string, Session>();
    for (const r of rows) {
      const s = r ? keptSession(r) : undefined;
      if (s) out.set(s.id, s);
    }
    return out;
  }

  /**
   * Keeps each session as the file serves it good now, where it differs from the kept one and is newer: `since`, when
   * this instance first built it so, is not before the kept one's. So an instance still on an older file (its poll
   * behind, or an old deployment) that rebuilds its schedule does not put back what another replaced. ETag-guarded:
   * of two writers at once, one writes and the other reads again and decides again.
   */
  async keepGood(good: readonly LastGood[]): Promise<void> {
    // One read of what is kept (no sessions' text), then a write only for what differs: a rebuild of 500 sessions with
    // one edited costs a partition read and one write.
    type Kept = { rowKey?: string; etag?: string; digest?: string; since?: string };
    const listed = await collect(
      this.table.listEntities<Kept>({ queryOptions: { filter: odata`PartitionKey eq 'good'`, select: ['RowKey', 'digest', 'since'] } }),
    );
    const kept = new Map(listed.map((r) => [String(r.rowKey), r as Kept]));
    const stale = (row: Kept | undefined, g: LastGood) => !row || (row.digest !== g.digest && !(String(row.since) > g.since));
    await mapLimit(
      good.filter((g) => stale(kept.get(safeKey(g.session.id)), g)),
      8,
      (g) =>
        retryOnConflict(
          async (n) => {
            // A conflict (another instance wrote it since the listing): read it again and decide again.
            const row: Kept | undefined = n === 0 ? kept.get(safeKey(g.session.id)) : await readEntity<Kept>(this.table, 'good', safeKey(g.session.id));
            if (!stale(row, g)) return;
            // Over several columns: a session's 200 changes, with their reasons, can be past one column's 32K characters.
            const entity = { partitionKey: 'good', rowKey: safeKey(g.session.id), digest: g.digest, since: g.since };
            putChunks(entity, 'session', g.session);
            // No ETag read: a 412, and the row is read again.
            if (row) await this.table.updateEntity(entity, 'Replace', { etag: row.etag ?? '' });
            else await this.table.createEntity(entity);
          },
          { what: 'Keeping the schedule as served' },
        ),
    );
  }

  // ---- privacy (src/officehours/privacy.ts) -------------------------------------------------------------

  /** What a person did here: sessions they added, occurrences they changed, Teams-added sessions they host. */
  async byPerson(isPerson: (id: string) => boolean): Promise<{ added: string[]; changed: string[]; hosting: string[] }> {
    const [sessions, changes] = await Promise.all([this.rowsOf('session'), this.rowsOf('change')]);
    return {
      added: sessions.filter((r) => isPerson(String(r.addedBy ?? ''))).map((r) => String(r.rowKey)),
      changed: changes.filter((r) => isPerson(String(r.by ?? ''))).map((r) => String(r.rowKey)),
      hosting: sessions
        .map((r) => fromJsonColumn<Session | null>(r.session, null))
        .filter((x): x is Session => x !== null && x.hosts.some((h) => isPerson(h.id)))
        .map((x) => x.id),
    };
  }

  /** Puts `stand` in the person's place as the one who added or changed a session, and as a host. */
  async replacePerson(isPerson: (id: string) => boolean, stand: { id: string; name: string }): Promise<void> {
    for (const r of await this.rowsOf('session')) {
      const session = fromJsonColumn<Session | null>(r.session, null);
      const hosts = session?.hosts.map((h) => (isPerson(h.id) ? { id: stand.id, name: stand.name } : h));
      const hostChanged = session && hosts && session.hosts.some((h) => isPerson(h.id));
      if (!isPerson(String(r.addedBy ?? '')) && !hostChanged) continue;
      await this.table.updateEntity(
        {
          partitionKey: 'session',
          rowKey: String(r.rowKey),
          ...(isPerson(String(r.addedBy ?? '')) ? { addedBy: stand.id } : {}),
          ...(hostChanged ? { session: toJsonColumn({ ...session, hosts }) } : {}),
        },
        'Merge',
      );
    }
    for (const r of await this.rowsOf('change')) {
      if (isPerson(String(r.by ?? ''))) await this.table.updateEntity({ partitionKey: 'change', rowKey: String(r.rowKey), by: stand.id }, 'Merge');
    }
    // The kept copies of the file's sessions name their hosts too (the file itself is the rollout team's to change).
    for (const listed of await this.rowsOf('good')) {
      if (!keptSession(listed)?.hosts.some((h) => isPerson(h.id))) continue;
      await retryOnConflict(
        async (n) => {
          // Kept again meanwhile (keepGood): read again and decide again.
          const r = n === 0 ? listed : await readEntity<Record<string, string>>(this.table, 'good', String(listed.rowKey));
          const session = r ? keptSession(r) : undefined;
          if (!r || !session?.hosts.some((h) => isPerson(h.id))) return;
          const hosts = session.hosts.map((h) => (isPerson(h.id) ? { id: stand.id, name: stand.name } : h));
          const entity = { partitionKey: 'good', rowKey: String(r.rowKey), digest: String(r.digest ?? ''), since: String(r.since ?? '') };
          putChunks(entity, 'session', { ...session, hosts });
          // Replace, not Merge: shorter, in fewer columns, it leaves no old `session<k>` column naming them behind.
          await this.table.updateEntity(entity, 'Replace', { etag: String(r.etag ?? '') });
        },
        { what: 'Forgetting a host in the kept schedule' },
      );
    }
  }

  private rowsOf(partition: 'session' | 'change' | 'good') {
    return collect(
      this.table.listEntities<Record<string, string>>({ queryOptions: { filter: odata`PartitionKey eq ${partition}` } }),
    );
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

/** The session a 'good' row keeps; undefined when it can't be read (then the held session has none kept). */
function keptSession(r: Record<string, unknown>): Session | undefined {
  try {
    return getChunks<Session | undefined>(r, 'session', undefined);
  } catch {
    return undefined;
  }
}

function plainKnown(r: Record<string, unknown>): KnownSession {
  const k: KnownSession = { id: String(r.id), digest: String(r.digest ?? '') };
  if (typeof r.title === 'string') k.title = r.title;
  if (r.kind === 'office-hours' || r.kind === 'training') k.kind = r.kind;
  if (typeof r.zone === 'string') k.zone = r.zone;
  if (typeof r.minutes === 'number') k.minutes = r.minutes;
  const versions = fromJsonColumn<Record<string, number> | null>(r.versions, null);
  if (versions) k.versions = versions;
  return k;
}
