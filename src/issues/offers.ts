import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import type { ExpiringStore } from '../storage/expiry.js';
import { fromJsonColumn, readEntity } from '../storage/entities.js';
import { collect, deleteIfThere, isNotFound, isPreconditionFailed, safeKey, type Tables } from '../storage/tables.js';

/*
 * Table `IssueOffers`: PK = person id, RK = issue ref → "this issue was shown to this person as possibly
 * theirs" (the similar-issues card), until `expiresAt`. A "+1 / this is mine too" is accepted only for an
 * issue offered to that person: a staff member cannot follow (and so read) an issue by guessing its ref.
 */
export const OFFERS_TABLE = 'IssueOffers';
const OFFER_TTL_MS = 7 * 24 * 3600_000;

/** One offer as stored: the issue shown, until when, and the form it was shown for (rows from before forms were kept have none). */
export interface OfferRow {
  ref: string;
  expiresAt: string | null;
  formId?: string;
  form?: Record<string, string>;
}

/** A kept form's fields (strings only: the column is read back from storage, not trusted as a shape). */
function formOf(column: unknown): Record<string, string> | undefined {
  const form = fromJsonColumn<unknown>(column, null);
  if (!form || typeof form !== 'object' || Array.isArray(form)) return undefined;
  return Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export class OfferStore implements ExpiringStore {
  readonly name = 'issues.offers';

  private constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<OfferStore> {
    return new OfferStore(await tables.table(OFFERS_TABLE), clock);
  }

  /**
   * Records the issues a person was offered (one transaction: they share the person's partition), with the form
   * they were offered for: a "+1" on one finished since offers to log that form, and the card's buttons carry only
   * its id (the whole form on each of them would pass Teams' message size).
   */
  async record(personId: string, refs: readonly string[], draft?: { formId: string; values: Record<string, string | undefined> }): Promise<void> {
    if (!refs.length) return;
    const expiresAt = new Date(this.clock.now().getTime() + OFFER_TTL_MS).toISOString();
    // A form made before forms had ids is kept under '' (its card's +1 sends that): the latest such form wins.
    const form = draft ? { formId: draft.formId, form: JSON.stringify(draft.values) } : {};
    await this.table.submitTransaction(
      [...new Set(refs)].map((ref) => [
        'upsert',
        { partitionKey: safeKey(personId), rowKey: safeKey(ref), expiresAt, ...form },
        'Replace',
      ]),
    );
  }

  /** The form `ref` was offered to the person for (by its id), while the offer stands; undefined otherwise. */
  async offeredForm(personId: string, ref: string, formId: string): Promise<Record<string, string> | undefined> {
    const row = await readEntity<{ expiresAt: string; formId?: string; form?: string }>(this.table, safeKey(personId), safeKey(ref));
    if (!row || row.formId !== formId || !(Date.parse(String(row.expiresAt)) > this.clock.now().getTime())) return undefined;
    return formOf(row.form);
  }

  async wasOffered(personId: string, ref: string): Promise<boolean> {
    const row = await readEntity<{ expiresAt: string }>(this.table, safeKey(personId), safeKey(ref));
    return Boolean(row && Date.parse(String(row.expiresAt)) > this.clock.now().getTime());
  }

  /**
   * Privacy: every offer row of a person (their partition), expired ones too — they still hold the form the
   * person typed until `forget` deletes them.
   */
  async ofPerson(personId: string): Promise<OfferRow[]> {
    const rows = await collect(
      this.table.listEntities<{ expiresAt?: string; formId?: string; form?: string }>({
        queryOptions: { filter: odata`PartitionKey eq ${safeKey(personId)}`, select: ['RowKey', 'expiresAt', 'formId', 'form'] },
      }),
    );
    return rows.map((r) => {
      const form = formOf(r.form);
      return {
        ref: String(r.rowKey),
        expiresAt: typeof r.expiresAt === 'string' ? r.expiresAt : null,
        ...(form ? { formId: typeof r.formId === 'string' ? r.formId : '', form } : {}),
      };
    });
  }

  async drop(personId: string, ref: string): Promise<void> {
    await deleteIfThere(this.table, safeKey(personId), ref);
  }

  /**
   * The expiry job's part (src/storage/expiry.ts: lease-guarded, bounded per run): offers run out after a week, and
   * with them the reason to keep the form the person typed. Deletes up to `limit` of those expired before `now`.
   */
  async sweepExpired(now: Date, limit: number): Promise<number> {
    const rows = await collect(
      this.table.listEntities({ queryOptions: { filter: odata`expiresAt lt ${now.toISOString()}`, select: ['PartitionKey', 'RowKey'] } }),
      limit,
    );
    let deleted = 0;
    for (const r of rows) {
      try {
        // Under the ETag read: the same issue offered to them again meanwhile is a fresh offer, and stays.
        await this.table.deleteEntity(String(r.partitionKey), String(r.rowKey), { etag: r.etag });
        deleted++;
      } catch (err) {
        if (!isNotFound(err) && !isPreconditionFailed(err)) throw err;
      }
    }
    return deleted;
  }
}
