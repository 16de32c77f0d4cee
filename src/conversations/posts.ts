import { odata, type TableClient } from '@azure/data-tables';
import { collect, deleteIfThere, isConflict, isNotFound, isPreconditionFailed, safeKey, type Tables } from '../storage/tables.js';
import type { ConversationStore, StoredConversation } from './store.js';
import { fromJsonColumn, readEntity, retryOnConflict, toJsonColumn } from '../storage/entities.js';

/** Where the bot posted the card that stands for something (e.g. an issue's triage card), to update it in place. */
export interface Post {
  conversation: StoredConversation;
  activityId: string;
}

/** A post as the outbound path sees it: which version it shows, and what is under way. */
export interface PostState {
  post?: Post;
  /** The version of what the posted message shows now (0: unknown). */
  version: number;
  /** A send of this post is queued (its message key) and has not landed yet. */
  pendingKey?: string;
  /** The message key of the send that made the post (as `recordSent` took it). */
  sentKey?: string;
  /** An update to this version is being applied, until `applyingUntil` (ms). */
  applying?: number;
  applyingUntil?: number;
  etag: string;
}

export type UpdateTurn =
  /**
   * Apply it: replace the message now, then `endUpdate` given `row`: the row as this turn's write left it, which
   * says the message drawn on (`post`, in its `json`).
   */
  | { kind: 'go'; post: Post; row: KnownRow }
  /** The post already shows this version or a newer one. */
  | { kind: 'stale'; shown: number }
  /** The post is not there yet (its send is queued) or an older update is being applied: try after `until`. */
  | { kind: 'wait'; until: number }
  /** Never posted (and no send queued). */
  | { kind: 'missing' };

interface PostRow {
  json?: string;
  version?: number;
  pendingKey?: string;
  sentKey?: string;
  applying?: number;
  applyingUntil?: number;
}

/**
 * A post's row as a write of this instance left it, with the ETag that write got back: the next write to the row
 * starts from it instead of reading it (see `PostStore.lastWritten`).
 */
export type KnownRow = PostRow & { etag: string };

/** A post in someone's 1:1 chat, by its row (as `removeRow` takes it). */
export interface ChatPost {
  kind: string;
  rowKey: string;
  activityId: string;
}

/**
 * How many posts' last written rows an instance keeps (see `PostStore.lastWritten`), a few KB each at most, and for
 * how long: a card redrawn in a burst (a triage card) reads its row once, and where a card in someone's chat is
 * does not stay in an instance's memory long after that person is forgotten elsewhere: rows older than that are
 * dropped (oldest first) whenever any post's row is used or written, and by a timer when the oldest runs out, so an
 * idle instance drops them too. (A forget on this instance drops that person's at once: `open`.)
 */
const LAST_WRITTEN_MAX = 1_000;
const LAST_WRITTEN_MS = 60_000;

/** The message a post's row says the post is (its `json`), if any. */
function messageOf(row: PostRow | undefined): string | undefined {
  return fromJsonColumn<Post | undefined>(row?.json, undefined)?.activityId;
}

/** A post's row as the outbound path reads it. */
function stateOf(e: PostRow & { etag: string }): PostState {
  return {
    post: fromJsonColumn<Post | undefined>(e.json, undefined),
    version: Number(e.version ?? 0),
    pendingKey: e.pendingKey || undefined,
    sentKey: e.sentKey || undefined,
    applying: e.applying ? Number(e.applying) : undefined,
    applyingUntil: e.applyingUntil ? Number(e.applyingUntil) : undefined,
    etag: e.etag,
  };
}

/** Where `PostsByChat` keeps its own state (no user key comes out of `safeKey` with a bare `~`). */
const META_PARTITION = '~meta';
/**
 * The meta row that says every post written before `PostsByChat` existed is listed there (see backfillChatIndex):
 * written only once this version's pass is made. The version before wrote it after a pass made at once, and reads
 * any such row as "listed": so nothing else goes in it, or its instances still running would stop scanning early.
 */
const BACKFILL_ROW = 'backfill';
/** When this version first ran the backfill job (`firstRunAt`, ms): the pass waits `BACKFILL_GRACE_MS` from it. */
const BACKFILL_START_ROW = 'backfill-start';
/**
 * How long after this version's first backfill run the listing pass is made: longer than a rolling upgrade takes,
 * so no instance of a version that writes posts unlisted is still running when the pass reads the table.
 */
export const BACKFILL_GRACE_MS = 24 * 3_600_000;
/** Rounds of `removeChatOf` at most: each one is there only because a card of theirs was saved during the last. */
const REMOVE_ROUNDS = 5;

/** The meta row as this version writes it; the version before wrote `done` alone (its pass, made with no grace). */
interface BackfillRow {
  /** The time the pass waited from: set by this version's pass only. */
  firstRunAt?: number;
}

/** The keys a post in a 1:1 chat is listed under: its user's Teams id and Entra id, lower-cased (Entra ids compare so). */
function chatKeysOf(post: Post | undefined): string[] {
  const user = post?.conversation?.user;
  if (!user) return [];
  return [...new Set([user.id, user.aadObjectId].filter((k): k is string => !!k).map((k) => safeKey(k.toLowerCase())))];
}

/** Whether the post is in the 1:1 chat of someone known by `ids` (compared as `isSubject` does: case-insensitively). */
function inChatOfIds(post: Post | undefined, ids: readonly string[]): boolean {
  const user = post?.conversation?.user;
  if (!user) return false;
  const wanted = new Set(ids.map((k) => k.toLowerCase()));
  return [user.id, user.aadObjectId].some((k) => k !== undefined && wanted.has(k.toLowerCase()));
}

/*
 * Table `Posts`: PK = what the card is for ('issue-triage'), RK = its id ('R-0042') → one point read.
 * Besides where the message is (`json`), the row holds the version it shows and the update being applied;
 * every change to those is ETag-guarded, so updates land in version order whichever instance applies them.
 *
 * Table `PostsByChat`: PK = a user of a 1:1 chat the bot posted a card in (their Teams id and their Entra id,
 * each lower-cased), RK = `<kind>|<the post's row key>` → the cards in one person's chat, for `my data` and
 * `forget`, without reading every post (a row per issue's triage card). Written before the post it lists (a stop
 * in between leaves an entry whose post is not there, skipped on read and dropped with the person's other
 * entries, never a post their chat does not list); dropped after it; a post whose entry went meanwhile (its user
 * forgotten) is dropped again by its writer. Posts written before this table existed are listed by a one-off
 * backfill (`backfillChatIndex`, scheduled, lease-guarded, a day after this version first ran it, so no older
 * instance still writes); until its meta row records that pass, `inChatOf` reads the whole `Posts` table.
 */
export class PostStore {
  /** Set once the backfill's meta row was seen to record its pass: that never goes away. */
  private indexComplete = false;
  /**
   * The one way writes here skip a read: each post's row as this instance last wrote it (`KnownRow`). The next
   * write to that post (`beginUpdate` of the next redraw, `endUpdate` of this one, a send recorded) starts from it.
   * Only a write is decided on it, under its ETag: a row written since, here or elsewhere, refuses it and is read
   * again; every other decision (stale, wait, no change) is taken on a fresh read. Bounded; a post written by
   * another instance is simply not in it.
   */
  private readonly lastWritten = new Map<string, { row: KnownRow; keptAt: number }>();
  /** Set while rows are kept: drops them as they run out, whether or not this instance writes again (`expireLater`). */
  private expiry: NodeJS.Timeout | undefined;

  private constructor(
    private readonly table: TableClient,
    private readonly byChat: TableClient,
  ) {}

  /**
   * `forgets`: the conversations store whose forgets drop, at once, what this instance keeps of that person's cards
   * (where their chat is, their ids): without it, those stay in memory until they run out (`LAST_WRITTEN_MS`). Every
   * store that writes posts is opened with it; one that only reads and removes them keeps nothing.
   */
  static async open(tables: Tables, forgets?: Pick<ConversationStore, 'onForgotten'>): Promise<PostStore> {
    const store = new PostStore(await tables.table('Posts'), await tables.table('PostsByChat'));
    forgets?.onForgotten((ids) => store.dropKeptOf(ids));
    return store;
  }

  async save(kind: string, id: string, post: Post): Promise<void> {
    // Written without its ETag: what this instance kept of the row no longer says what is there.
    this.dropKept(kind, safeKey(id));
    await this.listInChat(kind, safeKey(id), post);
    await this.table.upsertEntity({ partitionKey: kind, rowKey: safeKey(id), json: toJsonColumn(post) }, 'Merge');
    await this.stillListed(kind, safeKey(id), post);
  }

  /**
   * After a post in a 1:1 chat is written: if what lists it is gone (that person was forgotten, or the post
   * removed, between the listing and the write), the post goes too. `removeChatOf` drops an entry, then reads its
   * post again: a post written before that drop is found there, one written after it is found gone here.
   */
  private async stillListed(kind: string, rowKey: string, post: Post | undefined): Promise<void> {
    for (const pk of chatKeysOf(post)) {
      if (await readEntity(this.byChat, pk, `${safeKey(kind)}|${rowKey}`)) continue;
      await this.dropRow(kind, rowKey, post);
      return;
    }
  }

  /** Lists the post under its chat's user (nothing for a channel's or a group chat's card). */
  private async listInChat(kind: string, rowKey: string, post: Post | undefined): Promise<void> {
    for (const pk of chatKeysOf(post)) {
      await this.byChat.upsertEntity({ partitionKey: pk, rowKey: `${safeKey(kind)}|${rowKey}`, kind, row: rowKey }, 'Replace');
    }
  }

  private async unlistInChat(kind: string, rowKey: string, post: Post | undefined): Promise<void> {
    for (const pk of chatKeysOf(post)) await deleteIfThere(this.byChat, pk, `${safeKey(kind)}|${rowKey}`);
  }


  private async isIndexComplete(): Promise<boolean> {
    // A row without `firstRunAt` is the version before's pass, made while older instances may still have run.
    if (!this.indexComplete) this.indexComplete = (await readEntity<BackfillRow>(this.byChat, META_PARTITION, BACKFILL_ROW))?.firstRunAt !== undefined;
    return this.indexComplete;
  }

  /** The entries listed under any of `ids` (a partition each: that person's cards only). */
  private async entriesOf(ids: readonly string[]): Promise<{ pk: string; rk: string; kind: string; row: string }[]> {
    const out: { pk: string; rk: string; kind: string; row: string }[] = [];
    for (const pk of new Set(ids.map((k) => safeKey(k.toLowerCase())))) {
      const rows = await collect(this.byChat.listEntities<{ kind?: string; row?: string }>({ queryOptions: { filter: odata`PartitionKey eq ${pk}` } }));
      for (const r of rows) out.push({ pk, rk: String(r.rowKey), kind: String(r.kind ?? ''), row: String(r.row ?? '') });
    }
    return out;
  }

  /**
   * The posts in the 1:1 chat of someone known by `ids` (the chat's user's Teams id or Entra id): a sender's
   * progress cards, a lead's Forget cards. For the privacy duties: a point read per card listed under them.
   */
  async inChatOf(ids: readonly string[]): Promise<ChatPost[]> {
    if (!(await this.isIndexComplete())) return this.scanChatOf(ids);
    const out: ChatPost[] = [];
    const seen = new Set<string>();
    for (const e of await this.entriesOf(ids)) {
      const at = `${e.kind}|${e.row}`;
      if (!e.kind || !e.row || seen.has(at)) continue;
      seen.add(at);
      const row = await readEntity<PostRow>(this.table, e.kind, e.row);
      const post = fromJsonColumn<Post | undefined>(row?.json, undefined);
      // An entry outlives its post only after a stop between the two writes, or a post moved to another chat.
      if (post && inChatOfIds(post, ids)) out.push({ kind: e.kind, rowKey: e.row, activityId: post.activityId });
    }
    return out;
  }

  /** Before the backfill has run: every post is read (as before the index), so older rows are found too. */
  private async scanChatOf(ids: readonly string[]): Promise<ChatPost[]> {
    const rows = await collect(this.table.listEntities<{ json?: string }>({ queryOptions: { select: ['PartitionKey', 'RowKey', 'json'] } }));
    return rows.flatMap((r) => {
      const post = fromJsonColumn<Post | undefined>(r.json, undefined);
      return post && inChatOfIds(post, ids) ? [{ kind: String(r.partitionKey), rowKey: String(r.rowKey), activityId: post.activityId }] : [];
    });
  }

  /**
   * Forgets every post in the chat of someone known by `ids`, and every entry that lists anything under them
   * (those of posts gone or moved too: the entries' keys are their ids). Returns how many posts went.
   *
   * A card of theirs may be saved meanwhile (a send landing). Each entry goes between two reads of its post: a
   * save that listed it before the drop wrote its post before its own re-check, so the second read finds it; a
   * later write finds its entry gone and drops the post (`stillListed`). Entries listed after the first read of
   * the partition are found by reading it again, until it is empty.
   */
  async removeChatOf(ids: readonly string[]): Promise<number> {
    const gone = new Set<string>();
    const drop = async (kind: string, row: string) => {
      if (kind && row && (await this.removeIfInChat(kind, row, ids))) gone.add(`${kind}|${row}`);
    };
    // Before the backfill, posts may be listed nowhere: found by reading the table, as inChatOf does.
    if (!(await this.isIndexComplete())) for (const p of await this.scanChatOf(ids)) await drop(p.kind, p.rowKey);
    for (let round = 0; round < REMOVE_ROUNDS; round++) {
      const entries = await this.entriesOf(ids);
      if (!entries.length) break;
      for (const e of entries) {
        // The post first: a stop after the entry's drop must not leave a post listed nowhere.
        await drop(e.kind, e.row);
        await deleteIfThere(this.byChat, e.pk, e.rk);
        await drop(e.kind, e.row);
      }
    }
    return gone.size;
  }

  /** Drops the post at this row if it is in the chat of someone known by `ids` (a post moved elsewhere is not theirs). */
  private async removeIfInChat(kind: string, rowKey: string, ids: readonly string[]): Promise<boolean> {
    const row = await readEntity<PostRow>(this.table, kind, rowKey);
    const post = fromJsonColumn<Post | undefined>(row?.json, undefined);
    if (!post || !inChatOfIds(post, ids)) return false;
    await this.dropRow(kind, rowKey, post);
    return true;
  }

  /**
   * One-off, for posts written before `PostsByChat` existed: lists every post in a 1:1 chat under its user, then
   * writes the meta row, which lets `inChatOf` use the index alone. Run on the scheduler (lease-guarded); later runs
   * read one row. A re-run (two instances after a lease lapse, a run cut short) writes the same entries again.
   *
   * During a rolling upgrade, instances of the old version still write posts unlisted; a pass made while they run
   * would miss those for good (forget would never find them). So the first run (`now`, ms) only records when this
   * version started (its own row), reads keep scanning `Posts` meanwhile, and the pass is made `BACKFILL_GRACE_MS`
   * later, when the upgrade is long over. A meta row the version before wrote after a pass made at once does not
   * count: the pass is made again after the grace.
   */
  async backfillChatIndex(now: number): Promise<{ done: false } | { done: true; posts: number }> {
    if (await this.isIndexComplete()) return { done: false };
    const start = await readEntity<BackfillRow>(this.byChat, META_PARTITION, BACKFILL_START_ROW);
    if (!start) {
      try {
        await this.byChat.createEntity({ partitionKey: META_PARTITION, rowKey: BACKFILL_START_ROW, firstRunAt: now });
      } catch (err) {
        if (!isConflict(err)) throw err; // another instance recorded its first run: its time stands
      }
      return { done: false };
    }
    const firstRunAt = Number(start.firstRunAt ?? 0);
    if (now < firstRunAt + BACKFILL_GRACE_MS) return { done: false };
    let listed = 0;
    // A scan of the whole table, off every user's path (the scheduler runs it), three columns a row.
    for await (const r of this.table.listEntities<{ json?: string }>({ queryOptions: { select: ['PartitionKey', 'RowKey', 'json'] } })) {
      const post = fromJsonColumn<Post | undefined>(r.json, undefined);
      if (!chatKeysOf(post).length) continue;
      const kind = String(r.partitionKey);
      const rowKey = String(r.rowKey);
      await this.listInChat(kind, rowKey, post);
      // Dropped since the scan read it (its user forgotten): the entries just written would outlive it.
      if (!(await readEntity(this.table, kind, rowKey))) await this.unlistInChat(kind, rowKey, post);
      listed++;
    }
    await this.byChat.upsertEntity({ partitionKey: META_PARTITION, rowKey: BACKFILL_ROW, done: true, firstRunAt }, 'Replace');
    this.indexComplete = true;
    return { done: true, posts: listed };
  }

  /** Forgets a post (by its row, as `inChatOf` lists it): its message can no longer be redrawn. */
  async removeRow(kind: string, rowKey: string): Promise<void> {
    const row = await readEntity<PostRow>(this.table, kind, rowKey);
    await this.dropRow(kind, rowKey, fromJsonColumn<Post | undefined>(row?.json, undefined));
  }

  /** Forgets the post of `kind` for `id` (as `save` took it). */
  async remove(kind: string, id: string): Promise<void> {
    await this.removeRow(kind, safeKey(id));
  }

  /** The post first, then what lists it under its chat: a stop in between leaves an entry, never an unlisted post. */
  private async dropRow(kind: string, rowKey: string, post: Post | undefined): Promise<void> {
    this.dropKept(kind, rowKey);
    await deleteIfThere(this.table, kind, rowKey);
    await this.unlistInChat(kind, rowKey, post);
  }

  /** Forgets the posts of `kind` that show `version` or later (their last redraw): nothing more will be drawn. */
  async removeShown(kind: string, version: number): Promise<void> {
    const shown = await collect(
      this.table.listEntities<{ json?: string }>({ queryOptions: { filter: odata`PartitionKey eq ${kind} and version ge ${version}`, select: ['RowKey', 'json'] } }),
    );
    for (const r of shown) await this.dropRow(kind, String(r.rowKey), fromJsonColumn<Post | undefined>(r.json, undefined));
  }

  async get(kind: string, id: string): Promise<Post | undefined> {
    return (await this.state(kind, id))?.post;
  }

  async state(kind: string, id: string): Promise<PostState | undefined> {
    const e = await readEntity<PostRow>(this.table, kind, safeKey(id));
    return e ? stateOf(e) : undefined;
  }

  private static keyOf(kind: string, rowKey: string): string {
    return `${kind}\u0000${rowKey}`;
  }

  /** The row this instance last wrote (see `lastWritten`), if kept: a first try, under its ETag, not a read. */
  private kept(kind: string, rowKey: string): KnownRow | undefined {
    this.dropExpired();
    return this.lastWritten.get(PostStore.keyOf(kind, rowKey))?.row;
  }

  private dropKept(kind: string, rowKey: string): void {
    this.dropExpired();
    this.lastWritten.delete(PostStore.keyOf(kind, rowKey));
  }

  /** Rows kept longer than a minute go on any use, not only when their own post comes up again (oldest first). */
  private dropExpired(): void {
    const now = Date.now();
    for (const [key, kept] of this.lastWritten) {
      if (now - kept.keptAt <= LAST_WRITTEN_MS) return;
      this.lastWritten.delete(key);
    }
  }

  /**
   * While any row is kept, a timer drops the oldest once it runs out, then waits for the next: a person forgotten on
   * another instance (whose forget this one is not told of) leaves this one within `LAST_WRITTEN_MS` even when it
   * draws nothing more. One timer per store, not keeping the process alive.
   */
  private expireLater(): void {
    if (this.expiry) return;
    const oldest = this.lastWritten.values().next().value;
    if (!oldest) return;
    this.expiry = setTimeout(() => {
      this.expiry = undefined;
      this.dropExpired();
      this.expireLater();
    }, Math.max(0, oldest.keptAt + LAST_WRITTEN_MS - Date.now()) + 1);
    this.expiry.unref();
  }

  /** A forget ran here: nothing kept says where that person's chat is (matched as `removeChatOf` matches posts). */
  private dropKeptOf(ids: readonly string[]): void {
    for (const [key, kept] of this.lastWritten) {
      if (inChatOfIds(fromJsonColumn<Post | undefined>(kept.row.json, undefined), ids)) this.lastWritten.delete(key);
    }
  }

  /** The row as it is now; a kept row it shows to be out of date goes (written since elsewhere, or removed). */
  private async read(kind: string, rowKey: string): Promise<KnownRow | undefined> {
    const row = await readEntity<PostRow>(this.table, kind, rowKey);
    if (this.lastWritten.get(PostStore.keyOf(kind, rowKey))?.row.etag !== row?.etag) this.dropKept(kind, rowKey);
    return row;
  }

  /**
   * Merges `fields` into the row under the ETag of `row` (as read or kept), or creates the row when there is none;
   * what was written is kept for the next write. A refusal (412, 404, 409) is thrown as storage gave it, after the
   * kept row is dropped: it no longer says what is there.
   */
  private async write(kind: string, rowKey: string, row: KnownRow | undefined, fields: Partial<PostRow>): Promise<KnownRow> {
    const key = PostStore.keyOf(kind, rowKey);
    let etag: string | undefined;
    try {
      const entity = { partitionKey: kind, rowKey, ...fields };
      etag = (row ? await this.table.updateEntity(entity, 'Merge', { etag: row.etag }) : await this.table.createEntity(entity)).etag;
    } finally {
      this.dropKept(kind, rowKey);
    }
    const written = { ...row, ...fields, etag: etag ?? '' };
    if (etag) {
      // Deleted then set: a row written again moves to the back, so the front is always the oldest (a Map keeps
      // insertion order), and goes first.
      this.lastWritten.set(key, { row: written, keptAt: Date.now() });
      if (this.lastWritten.size > LAST_WRITTEN_MAX) this.lastWritten.delete(this.lastWritten.keys().next().value!);
      this.expireLater();
    }
    return written;
  }

  /** A send of this post is queued: updates enqueued meanwhile wait for it instead of being dropped. */
  async markPending(kind: string, id: string, key: string): Promise<void> {
    // Written without its ETag, as `save`.
    this.dropKept(kind, safeKey(id));
    await this.table.upsertEntity({ partitionKey: kind, rowKey: safeKey(id), pendingKey: key }, 'Merge');
  }

  /** The send landed: the post is this message, showing `version`. */
  async recordSent(kind: string, id: string, post: Post, version: number, key: string): Promise<void> {
    await this.listInChat(kind, safeKey(id), post);
    await this.change(kind, id, (row) => {
      // The same message recorded again (a repeated follow-up) keeps any newer version updates gave it.
      const same = messageOf(row) === post.activityId;
      return {
        json: JSON.stringify(post),
        version: same ? Math.max(Number(row?.version ?? 0), version) : version,
        sentKey: key,
        ...(row?.pendingKey === key ? { pendingKey: '' } : {}),
      };
    });
    await this.stillListed(kind, safeKey(id), post);
  }

  /** The send ended without a message (not installed, blocked, failed): nothing to wait for any more. */
  async clearPending(kind: string, id: string, key: string): Promise<void> {
    await this.change(kind, id, (row) => (row?.pendingKey === key ? { pendingKey: '' } : undefined));
  }

  /**
   * Asks to replace the post with `version`. Only one update per post is applied at a time, newest wins: an
   * update older than what is shown or being applied is stale, a newer one waits for the one under way.
   */
  async beginUpdate(kind: string, id: string, version: number, now: number, holdMs: number): Promise<UpdateTurn> {
    const rk = safeKey(id);
    // One try first on the row as this instance last wrote it (not counted): only to go ahead, under its ETag.
    let kept = this.kept(kind, rk);
    for (let tries = 0; tries < 5; ) {
      const cached = kept;
      kept = undefined;
      const row = cached ?? (tries++, await this.read(kind, rk));
      const s = row && stateOf(row);
      const busy = s?.applying !== undefined && (s.applyingUntil ?? 0) > now;
      // Anything but going ahead is decided on the row as it is now, not as this instance last wrote it.
      if (cached && !(s?.post && version > s.version && !busy)) continue;
      if (!s) return { kind: 'missing' };
      if (!s.post) return s.pendingKey ? { kind: 'wait', until: now + 2_000 } : { kind: 'missing' };
      if (version <= s.version) return { kind: 'stale', shown: s.version };
      if (busy && s.applying! > version) return { kind: 'stale', shown: s.applying! };
      if (busy && s.applying! < version) return { kind: 'wait', until: Math.min(s.applyingUntil!, now + 1_000) };
      try {
        return { kind: 'go', post: s.post, row: await this.write(kind, rk, row, { applying: version, applyingUntil: now + holdMs }) };
      } catch (err) {
        // Written since this instance did (a 412), or gone since (404): decided again on a fresh read.
        if (!isPreconditionFailed(err) && !(cached && isNotFound(err))) throw err;
      }
    }
    return { kind: 'wait', until: now + 1_000 };
  }

  /**
   * The update was applied (`shown`) or given up: the next one may go. `drawn` is the row as its `beginUpdate`
   * wrote it (the `go` turn's `row`): the message the update drew on, and where the write starts from when this
   * instance no longer keeps the row (a minute passed, many other cards drawn, a forget); else it starts from the
   * row as this instance last wrote it (no read on the usual path, where nobody wrote since).
   *
   * The version counts as shown only while the post is still the message drawn on: a post sent again meanwhile (a
   * new message recorded, elsewhere) does not show it, and marked so it would never be drawn there (every update up
   * to it stale). Its turn is freed all the same, so the next update goes, on the new message.
   */
  async endUpdate(kind: string, id: string, version: number, shown: boolean, drawn: KnownRow | undefined): Promise<void> {
    const drawnOn = messageOf(drawn);
    await this.change(kind, id, (row) => {
      if (!row) return undefined;
      const out: Partial<PostRow> = {};
      if (shown && drawnOn !== undefined && messageOf(row) === drawnOn && version > Number(row.version ?? 0)) out.version = version;
      if (Number(row.applying ?? 0) === version) Object.assign(out, { applying: 0, applyingUntil: 0 });
      return Object.keys(out).length ? out : undefined;
    }, drawn);
  }

  /**
   * An ETag-guarded read-modify-write; `fn` returns the fields to merge, or undefined for no change. The first try
   * starts from the row as this instance last wrote it (kept, else `known`) without reading, for a write only:
   * "no change" is decided on a fresh read, and any conflict reads the row again.
   */
  private async change(
    kind: string,
    id: string,
    fn: (row: PostRow | undefined) => Partial<PostRow> | undefined,
    known?: KnownRow,
  ): Promise<void> {
    const rk = safeKey(id);
    await retryOnConflict(
      async (n) => {
        const cached = n === 0 ? (this.kept(kind, rk) ?? (known?.etag ? known : undefined)) : undefined;
        let row = cached;
        let fields = cached && fn(cached);
        if (!fields) fields = fn((row = await this.read(kind, rk)));
        if (!fields) return;
        try {
          await this.write(kind, rk, row, fields);
        } catch (err) {
          // Removed since this instance wrote it: decided again on what is there (nothing), as a read would have.
          if (cached && row === cached && isNotFound(err)) return this.change(kind, id, fn);
          throw err;
        }
      },
      { attempts: 10, what: `Changing post ${kind}/${id}` },
    );
  }
}

