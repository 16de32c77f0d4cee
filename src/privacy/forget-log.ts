import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { fromJsonColumn } from '../storage/entities.js';
import { collect, invertedTime, isConflict, safeKey, type Tables } from '../storage/tables.js';
import { holdings, isSubject, type PersonalData, type Pseudonym, type Subject, type Tally } from './personal-data.js';
import { isPseudonym } from './pseudonym.js';
import type { FeatureTally } from './registry.js';

/*
 * Table `PrivacyLog`: PK 'forget', RK inverted time + random (newest first) → when, who asked (a rollout team
 * member), the pseudonym the person became, and the counts per kind. Nothing that names the person: the
 * pseudonym is a keyed hash, so the log says that someone was forgotten, and how much, not who.
 */
export class ForgetLog {
  private constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<ForgetLog> {
    return new ForgetLog(await tables.table('PrivacyLog'));
  }

  /**
   * One row per forget. `once` (a background job's run id) makes it idempotent: a job resumed after a crash
   * between its record and its end records nothing twice. Recorded again with a pseudonym as `by` (the asker
   * was forgotten meanwhile), the row takes it: `by` only ever moves from a person to their pseudonym.
   */
  async record(at: Date, by: string, pseudonym: string, done: readonly FeatureTally[], once?: { at: Date; id: string }): Promise<void> {
    const counts = Object.fromEntries(done.flatMap((f) => f.tally.holdings.map((h) => [h.kind, h.count])));
    try {
      await this.table.createEntity({
        partitionKey: 'forget',
        rowKey: once ? `${invertedTime(once.at)}${safeKey(once.id)}` : `${invertedTime(at)}${randomBytes(3).toString('hex')}`,
        at: at.toISOString(),
        by,
        pseudonym,
        counts: JSON.stringify(counts),
      });
    } catch (err) {
      if (!(once && isConflict(err))) throw err;
      if (isPseudonym(by)) await this.table.updateEntity({ partitionKey: 'forget', rowKey: `${invertedTime(once.at)}${safeKey(once.id)}`, by }, 'Merge');
    }
  }
}

/**
 * The forget log's own part of the privacy duties: the rollout team member who asked for a forget is named
 * in its row (`by`). When they are forgotten in turn, their pseudonym takes that place: the log still says a
 * forget was asked for, and how much went, without naming anyone.
 */
export class ForgetLogPersonalData implements PersonalData {
  readonly feature = 'privacyLog';

  private constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<ForgetLogPersonalData> {
    return new ForgetLogPersonalData(await tables.table('PrivacyLog'));
  }

  /** The rows they asked for: one partition, which grows by one row per forget (a few a year). */
  private async asked(subject: Subject): Promise<{ rowKey: string; at: string; counts: string }[]> {
    const rows = await collect(this.table.listEntities<{ by: string; at: string; counts: string }>({ queryOptions: { filter: `PartitionKey eq 'forget'` } }));
    return rows.filter((r) => isSubject(subject, String(r.by))).map((r) => ({ rowKey: String(r.rowKey), at: String(r.at), counts: String(r.counts) }));
  }

  private tally(rows: unknown[]): Tally {
    return {
      holdings: holdings({ kind: 'privacy.forgetsAsked', label: 'forgets they asked for (kept in the log, person anonymised)', count: rows.length, action: 'anonymise' }),
    };
  }

  async describe(subject: Subject): Promise<Tally> {
    return this.tally(await this.asked(subject));
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    return { forgetsYouAskedFor: (await this.asked(subject)).map((r) => ({ at: r.at, counts: fromJsonColumn(r.counts, {}) })) };
  }

  async forget(subject: Subject, pseudonym: Pseudonym): Promise<Tally> {
    const rows = await this.asked(subject);
    for (const r of rows) await this.table.updateEntity({ partitionKey: 'forget', rowKey: r.rowKey, by: pseudonym.id }, 'Merge');
    return this.tally(rows);
  }
}
