import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { readEntity } from '../storage/entities.js';
import { collect, deleteIfThere, safeKey, type Tables } from '../storage/tables.js';

/*
 * Table `IssueOffers`: PK = person id, RK = issue ref → "this issue was shown to this person as possibly
 * theirs" (the similar-issues card), until `expiresAt`. A "+1 / this is mine too" is accepted only for an
 * issue offered to that person: a staff member cannot follow (and so read) an issue by guessing its ref.
 */
export const OFFERS_TABLE = 'IssueOffers';
const OFFER_TTL_MS = 7 * 24 * 3600_000;

export class OfferStore {
  private constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<OfferStore> {
    return new OfferStore(await tables.table(OFFERS_TABLE), clock);
  }

  /** Records the issues a person was offered (one transaction: they share the person's partition). */
  async record(personId: string, refs: readonly string[]): Promise<void> {
    if (!refs.length) return;
    const expiresAt = new Date(this.clock.now().getTime() + OFFER_TTL_MS).toISOString();
    await this.table.submitTransaction(
      [...new Set(refs)].map((ref) => [
        'upsert',
        { partitionKey: safeKey(personId), rowKey: safeKey(ref), expiresAt },
        'Replace',
      ]),
    );
  }

  async wasOffered(personId: string, ref: string): Promise<boolean> {
    const row = await readEntity<{ expiresAt: string }>(this.table, safeKey(personId), safeKey(ref));
    return Boolean(row && Date.parse(String(row.expiresAt)) > this.clock.now().getTime());
  }

  /** Privacy: the issues a person was offered (their partition). */
  async ofPerson(personId: string): Promise<string[]> {
    const rows = await collect(this.table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${safeKey(personId)}`, select: ['RowKey'] } }));
    return rows.map((r) => String(r.rowKey));
  }

  async drop(personId: string, ref: string): Promise<void> {
    await deleteIfThere(this.table, safeKey(personId), ref);
  }
}
