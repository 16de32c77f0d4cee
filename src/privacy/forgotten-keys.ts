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
 * forgotten again). A few rows a year; retention deletes them with the rest.
 */

const TABLE = 'PrivacyForgotten';
const PK = 'key';

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
  }

  /** The latest forget of any of these keys made at or after `since` (so after something was kept), if any. */
  async since(ids: readonly string[], since: Date): Promise<Forgotten | undefined> {
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
