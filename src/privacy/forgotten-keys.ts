import type { TableClient } from '@azure/data-tables';
import { readEntity } from '../storage/entities.js';
import { collect, deleteIfThere, type Tables } from '../storage/tables.js';
import type { Pseudonym, Subject } from './personal-data.js';
import type { Pseudonyms } from './pseudonym.js';

/*
 * Who was forgotten, and when, for what lives on other instances' disks: a report held on instance B while storage
 * was down is out of reach of a forget run on A, so B asks here before it files one (held-reports.ts).
 *
 * Table `PrivacyForgotten`: PK 'key', RK a keyed hash of one of the person's keys (Pseudonyms.keyHash: nobody can
 * find whose it is by hashing candidate ids) → the pseudonym they became and when they were forgotten. Nothing
 * that names the person. One row per key, rewritten by a later forget of the same person (they came back and were
 * forgotten again). A few rows a year; retention deletes them with the rest. Row PK 'latest', RK 'forget' → when the
 * latest forget was recorded: what a cache of names (the champions of the triage cards' Assign list) asks before it
 * shows them. Each instance keeps that answer LATEST_KEPT_MS, so many cards drawn at once cost one read.
 */

/**
 * How long an instance keeps its read of the latest forget: a forget run on another instance is seen here this long
 * after at most (the instance that ran it sees it at once). So a champion forgotten elsewhere can still be named in a
 * card's Assign list drawn here for up to this long — well under the minute the list itself is kept.
 */
export const LATEST_KEPT_MS = 5_000;

/**
 * How far the clock of an instance that kept something may run ahead of the clock of the instance that ran the
 * forget: the time it was kept is the one's, the forget's time the other's. Something kept up to this long after a
 * recorded forget counts as kept before it, so skew files it anonymised (the safer failure) rather than under the
 * name of someone just forgotten; a person who comes back within this margin is filed under the pseudonym too.
 */
export const FORGET_CLOCK_SKEW_MS = 5 * 60_000;

const TABLE = 'PrivacyForgotten';
const PK = 'key';
const LATEST = { partitionKey: 'latest', rowKey: 'forget' };

interface Row {
  pseudonymId: string;
  pseudonymName: string;
  at: string;
}

export interface Forgotten {
  pseudonym: Pseudonym;
  at: Date;
}

export class ForgottenKeys {
  /** The latest forget as last read here (ms since the epoch, absent: none recorded), and when it was read. */
  private latest: { readAt: number; at: Promise<number | undefined> } | undefined;
  /** The last list `asShown` worked out, for as long as the same list is asked about and no later forget is seen. */
  private shown: { people: readonly unknown[]; read: number; latest: number; recorded: number; result: Promise<unknown[]> } | undefined;
  /** Forgets recorded by this instance: two in the same millisecond (one clock tick) are still two. */
  private recorded = 0;

  private constructor(
    private readonly table: TableClient,
    private readonly pseudonyms: Pick<Pseudonyms, 'keyHash'>,
    private readonly now: () => number,
  ) {}

  /** `now`: this instance's clock, for how long the read of the latest forget is kept. */
  static async open(tables: Tables, pseudonyms: Pick<Pseudonyms, 'keyHash'>, now: () => number = Date.now): Promise<ForgottenKeys> {
    return new ForgottenKeys(await tables.table(TABLE), pseudonyms, now);
  }

  /** Notes that the person behind every one of `subject`'s keys became `pseudonym` at `at`. */
  async record(subject: Subject, pseudonym: Pseudonym, at: Date): Promise<void> {
    const row: Row = { pseudonymId: pseudonym.id, pseudonymName: pseudonym.name, at: at.toISOString() };
    for (const id of new Set(subject.ids)) {
      await this.table.upsertEntity({ partitionKey: PK, rowKey: this.pseudonyms.keyHash(id), ...row }, 'Replace');
    }
    await this.table.upsertEntity({ ...LATEST, at: row.at }, 'Replace');
    // This instance knows at once; others within LATEST_KEPT_MS.
    this.latest = { readAt: this.now(), at: Promise.resolve(at.getTime()) };
    this.recorded++;
  }

  /**
   * `people` whose names were read no earlier than `read` (this instance's clock), as they may be shown now: anyone
   * forgotten since, on any instance, as their pseudonym. The latest forget is read at most once per LATEST_KEPT_MS;
   * only when one was recorded since (with FORGET_CLOCK_SKEW_MS's margin), one point read per person — once for the
   * same list (the same array, read at the same time) until a later forget is seen.
   */
  async asShown<P extends { id: string; name: string }>(people: readonly P[], read: Date): Promise<P[]> {
    const latest = await this.latestForget();
    if (latest === undefined || latest < read.getTime() - FORGET_CLOCK_SKEW_MS) return [...people];
    const kept = this.shown;
    const same = kept && kept.people === people && kept.read === read.getTime() && kept.latest === latest && kept.recorded === this.recorded;
    if (kept && same) return [...((await kept.result) as P[])];
    const result = Promise.all(
      people.map(async (p) => {
        const forgotten = await this.since([p.id], read);
        return forgotten ? { ...p, name: forgotten.pseudonym.name } : p;
      }),
    );
    const entry = { people, read: read.getTime(), latest, recorded: this.recorded, result };
    this.shown = entry;
    result.catch(() => {
      if (this.shown === entry) this.shown = undefined; // a failed read is not remembered
    });
    return [...(await result)];
  }

  /** When the latest forget was recorded (ms), read at most once per LATEST_KEPT_MS by this instance. */
  private latestForget(): Promise<number | undefined> {
    const now = this.now();
    if (this.latest && now - this.latest.readAt < LATEST_KEPT_MS) return this.latest.at;
    const at = readEntity<{ at: string }>(this.table, LATEST.partitionKey, LATEST.rowKey).then((r) =>
      r ? new Date(String(r.at)).getTime() : undefined,
    );
    const entry = { readAt: now, at };
    this.latest = entry;
    at.catch(() => {
      if (this.latest === entry) this.latest = undefined; // a failed read is not remembered
    });
    return at;
  }

  /**
   * The latest forget of any of these keys made after something was kept at `kept` (this instance's clock), if any:
   * counted from `FORGET_CLOCK_SKEW_MS` before it, so another instance's clock running behind errs towards the
   * pseudonym.
   */
  async since(ids: readonly string[], kept: Date): Promise<Forgotten | undefined> {
    const since = new Date(kept.getTime() - FORGET_CLOCK_SKEW_MS);
    const found = await Promise.all([...new Set(ids.filter(Boolean))].map((id) => readEntity<Row>(this.table, PK, this.pseudonyms.keyHash(id))));
    let latest: Forgotten | undefined;
    for (const r of found) {
      if (!r) continue;
      const at = new Date(r.at);
      if (at.getTime() < since.getTime() || (latest && latest.at >= at)) continue;
      latest = { pseudonym: { id: r.pseudonymId, name: r.pseudonymName }, at };
    }
    return latest;
  }

  /** Retention: deletes up to `limit` rows of forgets made before `before`. */
  async expire(before: Date, limit: number): Promise<number> {
    const rows = await collect(this.table.listEntities<Row>({ queryOptions: { filter: `PartitionKey eq '${PK}'`, select: ['at'] } }));
    let deleted = 0;
    for (const r of rows) {
      if (deleted >= limit) break;
      if (new Date(String(r.at)).getTime() < before.getTime() && (await deleteIfThere(this.table, PK, String(r.rowKey)))) deleted++;
    }
    return deleted;
  }
}
