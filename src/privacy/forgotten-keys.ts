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
 * latest forget was recorded: what a cache of names (the champions of the triage cards' Assign list) asks, one
 * point read, before it shows them.
 */

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
  private constructor(
    private readonly table: TableClient,
    private readonly pseudonyms: Pick<Pseudonyms, 'keyHash'>,
  ) {}

  static async open(tables: Tables, pseudonyms: Pick<Pseudonyms, 'keyHash'>): Promise<ForgottenKeys> {
    return new ForgottenKeys(await tables.table(TABLE), pseudonyms);
  }

  /** Notes that the person behind every one of `subject`'s keys became `pseudonym` at `at`. */
  async record(subject: Subject, pseudonym: Pseudonym, at: Date): Promise<void> {
    const row: Row = { pseudonymId: pseudonym.id, pseudonymName: pseudonym.name, at: at.toISOString() };
    for (const id of new Set(subject.ids)) {
      await this.table.upsertEntity({ partitionKey: PK, rowKey: this.pseudonyms.keyHash(id), ...row }, 'Replace');
    }
    await this.table.upsertEntity({ ...LATEST, at: row.at }, 'Replace');
  }

  /**
   * `people` whose names were read no earlier than `read` (this instance's clock), as they may be shown now: anyone
   * forgotten since, on any instance, as their pseudonym. One point read; one more per person only when a forget was
   * recorded since (with FORGET_CLOCK_SKEW_MS's margin).
   */
  async asShown<P extends { id: string; name: string }>(people: readonly P[], read: Date): Promise<P[]> {
    const latest = await readEntity<{ at: string }>(this.table, LATEST.partitionKey, LATEST.rowKey);
    if (!latest || new Date(String(latest.at)).getTime() < read.getTime() - FORGET_CLOCK_SKEW_MS) return [...people];
    return Promise.all(
      people.map(async (p) => {
        const forgotten = await this.since([p.id], read);
        return forgotten ? { ...p, name: forgotten.pseudonym.name } : p;
      }),
    );
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
