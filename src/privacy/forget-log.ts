import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { invertedTime, type Tables } from '../storage/tables.js';
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

  async record(at: Date, by: string, pseudonym: string, done: readonly FeatureTally[]): Promise<void> {
    const counts = Object.fromEntries(done.flatMap((f) => f.tally.holdings.map((h) => [h.kind, h.count])));
    await this.table.createEntity({
      partitionKey: 'forget',
      rowKey: `${invertedTime(at)}${randomBytes(3).toString('hex')}`,
      at: at.toISOString(),
      by,
      pseudonym,
      counts: JSON.stringify(counts),
    });
  }
}
