import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { fromJsonColumn, readEntity, toJsonColumn } from '../storage/entities.js';
import { isNotFound, isStorableKey, safeKey, type Tables } from '../storage/tables.js';

/**
 * Where the bot can post later without being spoken to: a plain copy of the Bot Framework
 * conversation reference, so no feature needs botbuilder types.
 */
export interface StoredConversation {
  conversationId: string;
  conversationType: 'personal' | 'channel' | 'groupChat';
  serviceUrl: string;
  tenantId?: string;
  channelId: string;
  bot: { id: string; name?: string };
  /** Personal chats: the user at the other end. */
  user?: { id: string; aadObjectId?: string; name?: string };
  /** Channels: the team and channel. */
  teamId?: string;
  teamName?: string;
  channelName?: string;
  /** Personal chats: the IANA time zone Teams reported for the user (`localTimezone`, clientInfo), if any. */
  timeZone?: string;
  updatedAt: string;
}

/** One of a person's own rows in `Conversations`. */
export type PersonRow =
  | { partition: 'personal' | 'conv'; key: string; conversation: StoredConversation }
  | { partition: 'person'; key: string; name: string };

/**
 * Channel roles a rollout-team member sets with `setup triage|support|announcements|rollout`. `rollout` is
 * the rollout team's own channel (the weekly adoption digest): internal figures and the oldest open
 * issues, not for the all-staff announcements channel.
 */
export const CHANNEL_ROLES = ['triage', 'support', 'announcements', 'rollout'] as const;
export type ChannelRole = (typeof CHANNEL_ROLES)[number];

/*
 * Table `Conversations`
 *   PK 'personal' RK <user aadObjectId or Teams id>  → the 1:1 chat with that user   (notify a reporter)
 *   PK 'conv'     RK <conversation id>               → any conversation the bot is in (reply later)
 *   PK 'team'     RK <team id>                       → the team's General channel     (roster reads)
 *   PK 'role'     RK triage|support|announcements|rollout → the channel holding that role
 *   PK 'person'   RK <aadObjectId>                   → the name a person goes by in Teams (champion lists)
 * Every read is a point read; nothing scans.
 */
export class ConversationStore {
  private constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<ConversationStore> {
    return new ConversationStore(await tables.table('Conversations'), clock);
  }

  /** Saves (or refreshes) a reference under every key it can be looked up by. */
  async remember(conv: Omit<StoredConversation, 'updatedAt'>): Promise<void> {
    const stored: StoredConversation = { ...conv, updatedAt: this.clock.now().toISOString() };
    const writes: Promise<unknown>[] = [this.put('conv', conv.conversationId, stored)];
    if (conv.conversationType === 'personal' && conv.user) {
      writes.push(this.put('personal', conv.user.aadObjectId ?? conv.user.id, stored));
      if (conv.user.aadObjectId) writes.push(this.put('personal', conv.user.id, stored));
    }
    if (conv.teamId && conv.conversationId === conv.teamId)
      writes.push(this.put('team', conv.teamId, stored));
    await Promise.all(writes);
  }

  /** Remembers the display name of someone who spoke to the bot, anywhere (a channel too). */
  async rememberPerson(aadObjectId: string, name: string): Promise<void> {
    await this.table.upsertEntity(
      { partitionKey: 'person', rowKey: safeKey(aadObjectId), name: name.slice(0, 200) },
      'Replace',
    );
  }

  async personName(aadObjectId: string): Promise<string | undefined> {
    const row = await readEntity<{ name: string }>(this.table, 'person', safeKey(aadObjectId));
    return row?.name ? String(row.name) : (await this.personalChat(aadObjectId))?.user?.name;
  }

  /**
   * Saves many references at once (a roster import, a bench's seed) under the same keys as `remember`,
   * in transactions of up to 100 rows per partition.
   */
  async rememberAll(convs: readonly Omit<StoredConversation, 'updatedAt'>[]): Promise<void> {
    const at = this.clock.now().toISOString();
    const byPartition = new Map<string, Map<string, string>>();
    const add = (pk: string, key: string, conv: StoredConversation) => {
      const rows = byPartition.get(pk) ?? new Map<string, string>();
      rows.set(safeKey(key), JSON.stringify(conv));
      byPartition.set(pk, rows);
    };
    for (const conv of convs) {
      const stored: StoredConversation = { ...conv, updatedAt: at };
      add('conv', conv.conversationId, stored);
      if (conv.conversationType === 'personal' && conv.user) {
        add('personal', conv.user.aadObjectId ?? conv.user.id, stored);
        if (conv.user.aadObjectId) add('personal', conv.user.id, stored);
      }
      if (conv.teamId && conv.conversationId === conv.teamId) add('team', conv.teamId, stored);
    }
    for (const [pk, rows] of byPartition) {
      const entries = [...rows];
      for (let i = 0; i < entries.length; i += 100) {
        await this.table.submitTransaction(
          entries
            .slice(i, i + 100)
            .map(([rk, json]) => ['upsert', { partitionKey: pk, rowKey: rk, json }, 'Replace'] as const),
        );
      }
    }
  }

  personalChat(userKey: string): Promise<StoredConversation | undefined> {
    return this.get('personal', userKey);
  }

  /**
   * Several people's 1:1 chats in a few queries (14 keys each: Table storage allows 15 comparisons per filter),
   * for the outbound worker's packs of messages. Missing people are missing from the map.
   */
  async personalChats(userKeys: readonly string[]): Promise<Map<string, StoredConversation>> {
    const found = new Map<string, StoredConversation>();
    const keys = [...new Set(userKeys)].filter((k) => isStorableKey(safeKey(k)));
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += 14) chunks.push(keys.slice(i, i + 14));
    await Promise.all(
      chunks.map(async (chunk) => {
        const keyOfRow = new Map(chunk.map((k) => [safeKey(k), k]));
        const rows = [...keyOfRow.keys()].map((row) => odata`RowKey eq ${row}`).join(' or ');
        for await (const e of this.table.listEntities<{ json: string }>({
          queryOptions: { filter: `PartitionKey eq 'personal' and (${rows})`, select: ['RowKey', 'json'] },
        })) {
          const conv = fromJsonColumn<StoredConversation | undefined>(e.json, undefined);
          const key = keyOfRow.get(e.rowKey ?? '');
          if (conv && key !== undefined) found.set(key, conv);
        }
      }),
    );
    return found;
  }

  /** Everyone who has the bot in personal scope, once each (Entra id when known): one partition read. */
  async personalChatUsers(): Promise<string[]> {
    const users = new Map<string, string>();
    for await (const e of this.table.listEntities<{ json: string }>({
      queryOptions: { filter: `PartitionKey eq 'personal'`, select: ['json'] },
    })) {
      const conv = fromJsonColumn<StoredConversation | undefined>(e.json, undefined);
      if (conv?.user) users.set(conv.conversationId, conv.user.aadObjectId ?? conv.user.id);
    }
    return [...new Set(users.values())];
  }

  /** People who spoke to the bot, with the name they go by (at most `limit`, for pick lists). */
  async knownPeople(limit = 500): Promise<{ id: string; name: string }[]> {
    const out: { id: string; name: string }[] = [];
    for await (const e of this.table.listEntities<{ name: string }>({
      queryOptions: { filter: `PartitionKey eq 'person'`, select: ['RowKey', 'name'] },
    })) {
      out.push({ id: String(e.rowKey), name: String(e.name ?? '') });
      if (out.length >= limit) break;
    }
    return out;
  }

  conversation(id: string): Promise<StoredConversation | undefined> {
    return this.get('conv', id);
  }

  team(teamId: string): Promise<StoredConversation | undefined> {
    return this.get('team', teamId);
  }

  async setChannelRole(role: ChannelRole, conv: StoredConversation, setBy: string): Promise<void> {
    await this.table.upsertEntity(
      {
        partitionKey: 'role',
        rowKey: role,
        json: toJsonColumn(conv),
        setBy,
        at: this.clock.now().toISOString(),
      },
      'Replace',
    );
  }

  channelFor(role: ChannelRole): Promise<StoredConversation | undefined> {
    return this.get('role', role);
  }

  // ---- privacy (src/conversations/privacy.ts) ------------------------------------------------------------

  /** A person's own rows under any of their keys: their 1:1 chat (by key, and its `conv` row) and their name. */
  async rowsOf(ids: readonly string[]): Promise<PersonRow[]> {
    const out = new Map<string, PersonRow>();
    const add = (row: PersonRow) => out.set(`${row.partition}|${row.key}`, row);
    for (const id of ids) {
      const chat = await this.personalChat(id);
      if (chat) {
        add({ partition: 'personal', key: id, conversation: chat });
        add({ partition: 'conv', key: chat.conversationId, conversation: chat });
      }
      const name = await readEntity<{ name: string }>(this.table, 'person', safeKey(id));
      if (name) add({ partition: 'person', key: id, name: String(name.name) });
    }
    return [...out.values()];
  }

  /** Deletes one row; a row already gone is fine (a re-run). */
  async removeRow(partition: PersonRow['partition'], key: string): Promise<void> {
    await this.table.deleteEntity(partition, safeKey(key)).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  /** Who set each channel role (`setup triage` …). */
  async roleSetters(): Promise<{ role: ChannelRole; setBy: string }[]> {
    const out: { role: ChannelRole; setBy: string }[] = [];
    for (const role of CHANNEL_ROLES) {
      const row = await readEntity<{ setBy?: string }>(this.table, 'role', role);
      if (row?.setBy) out.push({ role, setBy: String(row.setBy) });
    }
    return out;
  }

  async replaceRoleSetter(role: ChannelRole, setBy: string): Promise<void> {
    await this.table.updateEntity({ partitionKey: 'role', rowKey: role, setBy }, 'Merge');
  }

  private put(pk: string, key: string, conv: StoredConversation) {
    return this.table.upsertEntity(
      { partitionKey: pk, rowKey: safeKey(key), json: toJsonColumn(conv) },
      'Replace',
    );
  }

  private async get(pk: string, key: string): Promise<StoredConversation | undefined> {
    const e = await readEntity<{ json: string }>(this.table, pk, safeKey(key));
    return e ? fromJsonColumn<StoredConversation | undefined>(e.json, undefined) : undefined;
  }
}
