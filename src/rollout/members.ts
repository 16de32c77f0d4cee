import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { collect, deleteIfThere, safeKey, type Tables } from '../storage/tables.js';

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
