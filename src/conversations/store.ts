import { randomBytes } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { mapLimit } from '../map-limit.js';
import { fromJsonColumn, readEntity, toJsonColumn } from '../storage/entities.js';
import { deleteIfThere, safeKey, type Tables } from '../storage/tables.js';

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
 *   PK 'personal|<user aadObjectId or Teams id>' RK 'chat' → the 1:1 chat with that user (notify a reporter)
 *   PK 'conv'     RK <conversation id>               → any conversation the bot is in (reply later)
 *   PK 'team'     RK <team id>                       → the team's General channel     (roster reads)
 *   PK 'role'     RK triage|support|announcements|rollout → the channel holding that role
 *   PK 'person'   RK <aadObjectId>                   → the name a person goes by in Teams (champion lists)
 *   PK 'forgets'  RK 'marker'                        → a random token, new after each `forget` (names no one): an
 *                                                      instance that sees it change drops its cache of chats saved
 * Every read is a point read; nothing scans. A person's chat has a partition of its own so that a broadcast's
 * lookups (50 people per pack) are point reads on any store: a filter naming several row keys in one shared
 * partition is answered by reading through that partition (every person's chat) on a Storage account, and
 * through the whole table on Azurite.
 *
 * Chats saved by earlier versions (PK 'personal', RK <key>) are read where the new layout has none, listed with
 * everyone's, and forgotten with the person; they are neither moved nor deleted, so an instance of an earlier
 * version still running during a rolling deployment goes on finding every chat it knew.
 */
const LEGACY_PERSONAL = 'personal';
const FORGETS = 'forgets';
const MARKER_ROW = 'marker';
const CHAT_ROW = 'chat';
const personalPartition = (key: string) => `personal|${safeKey(key)}`;
/**
 * How long this process trusts the channel it read for a role (`channelFor`). Every post to the triage channel
 * resolved it with a read of its own; a role moved by `setup` on this instance is seen at once, on another
 * instance within this long.
 */
export const CHANNEL_CACHE_MS = 10_000;
/** Every personal-chat partition sorts between these ('|' < '}'). */
const PERSONAL_RANGE = odata`PartitionKey gt ${'personal|'} and PartitionKey lt ${'personal}'}`;

/**
 * A personal chat as `said` by an activity, with the user's time zone, name and Entra id from `known` (the chat as
 * stored) where the activity left them out: an activity missing them does not know better, it only did not say.
 */
function keepKnown(
  said: Omit<StoredConversation, 'updatedAt'>,
  known: StoredConversation | undefined,
): Omit<StoredConversation, 'updatedAt'> {
  if (!said.user || !known?.user || known.user.id !== said.user.id) return said;
  const user = { ...said.user, aadObjectId: said.user.aadObjectId ?? known.user.aadObjectId, name: said.user.name || known.user.name };
  return { ...said, user, timeZone: said.timeZone ?? known.timeZone };
}

export class ConversationStore {
  /**
   * Told in this process when a forget has deleted someone's rows, with their ids (the bot drops its cache of saved
   * chats, the post store what it keeps of their cards).
   */
  private readonly forgotten = new Set<(ids: readonly string[]) => void>();
  /** The channels found for roles lately (a role not set is not kept: set on another instance, it is found at once). */
  private readonly channels = new Map<ChannelRole, { conv: StoredConversation; until: number }>();

  private constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<ConversationStore> {
    return new ConversationStore(await tables.table('Conversations'), clock);
  }

  /** Saves (or refreshes) a reference under every key it can be looked up by. */
  async remember(said: Omit<StoredConversation, 'updatedAt'>): Promise<void> {
    // Card presses often come without clientInfo or the sender's name: what an earlier activity told is kept.
    const leftOut = !said.timeZone || !said.user?.name || !said.user.aadObjectId;
    const known = leftOut && said.conversationType === 'personal' && said.user ? await this.personalChat(said.user.aadObjectId ?? said.user.id) : undefined;
    const conv = keepKnown(said, known);
    const stored: StoredConversation = { ...conv, updatedAt: this.clock.now().toISOString() };
    const writes: Promise<unknown>[] = [this.put('conv', conv.conversationId, stored)];
    if (conv.conversationType === 'personal' && conv.user) {
      writes.push(this.putChat(conv.user.aadObjectId ?? conv.user.id, stored));
      if (conv.user.aadObjectId) writes.push(this.putChat(conv.user.id, stored));
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
   * Saves many references at once (a roster import, a bench's seed) under the same keys as `remember`: the
   * shared partitions in transactions of up to 100 rows, each person's chat (a partition of its own) by
   * upserts, 16 at a time.
   */
  async rememberAll(convs: readonly Omit<StoredConversation, 'updatedAt'>[]): Promise<void> {
    const at = this.clock.now().toISOString();
    const byPartition = new Map<string, Map<string, string>>();
    const chats = new Map<string, string>();
    const add = (pk: string, key: string, conv: StoredConversation) => {
      const rows = byPartition.get(pk) ?? new Map<string, string>();
      rows.set(safeKey(key), JSON.stringify(conv));
      byPartition.set(pk, rows);
    };
    for (const conv of convs) {
      const stored: StoredConversation = { ...conv, updatedAt: at };
      add('conv', conv.conversationId, stored);
      if (conv.conversationType === 'personal' && conv.user) {
        chats.set(personalPartition(conv.user.aadObjectId ?? conv.user.id), JSON.stringify(stored));
        if (conv.user.aadObjectId) chats.set(personalPartition(conv.user.id), JSON.stringify(stored));
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
    await mapLimit([...chats], 16, ([pk, json]) => this.table.upsertEntity({ partitionKey: pk, rowKey: CHAT_ROW, json }, 'Replace'));
  }

  /** A person's 1:1 chat: one point read (two for a person the bot knows only from an earlier version, or not at all). */
  async personalChat(userKey: string): Promise<StoredConversation | undefined> {
    const e =
      (await readEntity<{ json: string }>(this.table, personalPartition(userKey), CHAT_ROW)) ??
      (await readEntity<{ json: string }>(this.table, LEGACY_PERSONAL, safeKey(userKey)));
    return e ? fromJsonColumn<StoredConversation | undefined>(e.json, undefined) : undefined;
  }

  /**
   * Several people's 1:1 chats, for the outbound worker's packs of messages: one point read each, 16 at a
   * time. Missing people are missing from `chats`; a read that failed (storage slow or busy) puts its key in
   * `failed` instead, so the caller tries that one again alone rather than every read of the pack.
   */
  async personalChats(
    userKeys: readonly string[],
  ): Promise<{ chats: Map<string, StoredConversation>; failed: Set<string> }> {
    const keys = [...new Set(userKeys)];
    const failed = new Set<string>();
    const read = await mapLimit(keys, 16, (k) =>
      this.personalChat(k).catch(() => {
        failed.add(k);
        return undefined;
      }),
    );
    return { chats: new Map(keys.flatMap((k, i) => (read[i] ? [[k, read[i]] as const] : []))), failed };
  }

  /**
   * Everyone who has the bot in personal scope, once each (Entra id when known): one range of partitions (and the
   * earlier layout's one). `limit`: stop reading once that many are found.
   */
  async personalChatUsers(limit = Number.POSITIVE_INFINITY): Promise<string[]> {
    const users = new Map<string, string>();
    const found = () => [...new Set(users.values())];
    for (const filter of [PERSONAL_RANGE, odata`PartitionKey eq ${LEGACY_PERSONAL}`]) {
      for await (const e of this.table.listEntities<{ json: string }>({ queryOptions: { filter, select: ['json'] } })) {
        const conv = fromJsonColumn<StoredConversation | undefined>(e.json, undefined);
        if (conv?.user) users.set(conv.conversationId, conv.user.aadObjectId ?? conv.user.id);
        if (users.size >= limit && found().length >= limit) return found();
      }
    }
    return found();
  }

  /**
   * Everyone the app knows by this name (compared by `same`): the whole partition, names only, since a pick
   * list's first page is not everyone and "knows no one called …" must be true when said.
   */
  async peopleNamed(same: (name: string) => boolean): Promise<{ id: string; name: string }[]> {
    const out: { id: string; name: string }[] = [];
    for await (const e of this.table.listEntities<{ name: string }>({
      queryOptions: { filter: `PartitionKey eq 'person'`, select: ['RowKey', 'name'] },
    })) {
      const name = String(e.name ?? '');
      if (same(name)) out.push({ id: String(e.rowKey), name });
    }
    return out;
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
    this.channels.set(role, { conv, until: this.clock.now().getTime() + CHANNEL_CACHE_MS });
  }

  /** The channel holding a role: read at most once per `CHANNEL_CACHE_MS` in this process. */
  async channelFor(role: ChannelRole): Promise<StoredConversation | undefined> {
    const now = this.clock.now().getTime();
    const cached = this.channels.get(role);
    if (cached && now < cached.until) return cached.conv;
    const conv = await this.get('role', role);
    if (conv) this.channels.set(role, { conv, until: now + CHANNEL_CACHE_MS });
    else this.channels.delete(role);
    return conv;
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
    if (partition === 'personal') {
      await this.deleteIfThere(personalPartition(key), CHAT_ROW);
      await this.deleteIfThere(LEGACY_PERSONAL, safeKey(key));
    } else await this.deleteIfThere(partition, safeKey(key));
  }

  /**
   * After a forget deleted a person's rows: this process's listeners are told at once, and the stored marker gets
   * a new token so other instances' caches of chats already saved do not outlive the forget (they read it now and then).
   */
  async markForgotten(ids: readonly string[]): Promise<void> {
    for (const listener of this.forgotten) listener(ids);
    await this.table.upsertEntity({ partitionKey: FORGETS, rowKey: MARKER_ROW, token: randomBytes(8).toString('hex'), at: this.clock.now().toISOString() }, 'Replace');
  }

  /** The forget marker's token ('' before any forget). */
  async forgetMarker(): Promise<string> {
    const row = await readEntity<{ token: string }>(this.table, FORGETS, MARKER_ROW);
    return row ? String(row.token ?? '') : '';
  }

  onForgotten(listener: (ids: readonly string[]) => void): void {
    this.forgotten.add(listener);
  }

  private async deleteIfThere(pk: string, rk: string): Promise<void> {
    await deleteIfThere(this.table, pk, rk);
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

  private putChat(userKey: string, conv: StoredConversation) {
    return this.table.upsertEntity({ partitionKey: personalPartition(userKey), rowKey: CHAT_ROW, json: toJsonColumn(conv) }, 'Replace');
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
