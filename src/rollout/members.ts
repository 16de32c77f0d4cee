import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { collect, deleteIfThere, isConflict, safeKey, type Tables } from '../storage/tables.js';

/** Whether a membership is of a user group or of a cohort (a person is in at most one cohort). */
export type MembershipKind = 'group' | 'cohort';

export interface AddedMembership {
  kind: MembershipKind;
  /** The group's or cohort's id. */
  of: string;
  personId: string;
  name: string;
  addedBy: string;
  addedAt: string;
}

/*
 * Table `RolloutMembers`: the people the rollout team added from Teams (the rollout file holds the rest).
 *   PK `p|<person>`              RK `group|<id>` / `cohort|<id>`  → a person's memberships (one partition read)
 *   PK `group|<id>` / `cohort|<id>`  RK <person>                  → a group's members (one partition read)
 * The group row is written first and removed last, so a person row never points at a missing group row.
 */
export class MembershipStore {
  private constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<MembershipStore> {
    return new MembershipStore(await tables.table('RolloutMembers'), clock);
  }

  async add(m: Omit<AddedMembership, 'addedAt'>): Promise<AddedMembership> {
    const row = { ...m, addedAt: this.clock.now().toISOString() };
    await this.table.upsertEntity({ partitionKey: `${m.kind}|${safeKey(m.of)}`, rowKey: safeKey(m.personId), ...row }, 'Replace');
    await this.table.upsertEntity({ partitionKey: `p|${safeKey(m.personId)}`, rowKey: `${m.kind}|${safeKey(m.of)}`, ...row }, 'Replace');
    return row;
  }

  /** True when there was such a membership. */
  async remove(kind: MembershipKind, of: string, personId: string): Promise<boolean> {
    const found = await this.delete(`p|${safeKey(personId)}`, `${kind}|${safeKey(of)}`);
    const also = await this.delete(`${kind}|${safeKey(of)}`, safeKey(personId));
    return found || also;
  }

  /** A person's added memberships, under any of the keys Teams knows them by. */
  async of(personIds: readonly string[]): Promise<AddedMembership[]> {
    const rows = await Promise.all(
      personIds.map((p) =>
        collect(this.table.listEntities<AddedMembership>({ queryOptions: { filter: odata`PartitionKey eq ${`p|${safeKey(p)}`}` } })),
      ),
    );
    return rows.flat().map(plain);
  }

  /**
   * The memberships kept under a Teams id (`29:…`): people added by @mention before memberships were keyed by
   * Entra id. One range of person partitions (`p|29:` up to `p|29;`), empty once all of them are moved.
   */
  async teamsKeyed(): Promise<AddedMembership[]> {
    const filter = odata`PartitionKey ge ${'p|29:'} and PartitionKey lt ${'p|29;'}`;
    return (await collect(this.table.listEntities<AddedMembership>({ queryOptions: { filter } }))).map(plain);
  }

  /**
   * Keeps a membership under `personId` instead of the key it was added under, with the time it was added (the
   * newest cohort still wins); one made under `personId` meanwhile is left as it is. Rows as `add` writes them,
   * then the old ones go as `remove` takes them: a stop in between leaves both, and the next move finishes.
   */
  async move(m: AddedMembership, personId: string): Promise<void> {
    const row = { ...m, personId };
    await this.createIfMissing({ partitionKey: `${m.kind}|${safeKey(m.of)}`, rowKey: safeKey(personId), ...row });
    await this.createIfMissing({ partitionKey: `p|${safeKey(personId)}`, rowKey: `${m.kind}|${safeKey(m.of)}`, ...row });
    await this.remove(m.kind, m.of, m.personId);
  }

  private async createIfMissing(entity: { partitionKey: string; rowKey: string } & AddedMembership): Promise<void> {
    try {
      await this.table.createEntity(entity);
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  async members(kind: MembershipKind, of: string): Promise<AddedMembership[]> {
    const pk = `${kind}|${safeKey(of)}`;
    return (await collect(this.table.listEntities<AddedMembership>({ queryOptions: { filter: odata`PartitionKey eq ${pk}` } }))).map(plain);
  }

  private async delete(pk: string, rk: string): Promise<boolean> {
    return deleteIfThere(this.table, pk, rk);
  }
}

function plain(r: AddedMembership): AddedMembership {
  return { kind: r.kind, of: r.of, personId: r.personId, name: r.name, addedBy: r.addedBy, addedAt: r.addedAt };
}
