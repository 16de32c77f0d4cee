import { odata, type TableClient } from '@azure/data-tables';
import { collect, isNotFound, isPreconditionFailed, safeKey, type Tables } from '../storage/tables.js';
import type { StoredConversation } from './store.js';
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
  /** An update to this version is being applied, until `applyingUntil` (ms). */
  applying?: number;
  applyingUntil?: number;
  etag: string;
}

export type UpdateTurn =
  /** Apply it: replace the message now, then `endUpdate`. */
  | { kind: 'go'; post: Post }
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
  applying?: number;
  applyingUntil?: number;
}

/*
 * Table `Posts`: PK = what the card is for ('issue-triage'), RK = its id ('R-0042') → one point read.
 * Besides where the message is (`json`), the row holds the version it shows and the update being applied;
 * every change to those is ETag-guarded, so updates land in version order whichever instance applies them.
 */
export class PostStore {
  private constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<PostStore> {
    return new PostStore(await tables.table('Posts'));
  }

  async save(kind: string, id: string, post: Post): Promise<void> {
    await this.table.upsertEntity({ partitionKey: kind, rowKey: safeKey(id), json: toJsonColumn(post) }, 'Merge');
  }

  /**
   * The posts in a person's 1:1 chat (`isThem` matches the chat's user): a sender's progress cards, a lead's
   * Forget cards. A scan, for the privacy duties only: a row per issue's triage card and per card a lead redraws.
   */
  async inChatOf(isThem: (id: string) => boolean): Promise<{ kind: string; rowKey: string; activityId: string }[]> {
    const rows = await collect(this.table.listEntities<{ json?: string }>({ queryOptions: { select: ['PartitionKey', 'RowKey', 'json'] } }));
    return rows.flatMap((r) => {
      const post = fromJsonColumn<Post | undefined>(r.json, undefined);
      const user = post?.conversation.user;
      return user && (isThem(user.id) || (user.aadObjectId !== undefined && isThem(user.aadObjectId)))
        ? [{ kind: String(r.partitionKey), rowKey: String(r.rowKey), activityId: post.activityId }]
        : [];
    });
  }

  /** Forgets a post (by its row, as `inChatOf` lists it): its message can no longer be redrawn. */
  async removeRow(kind: string, rowKey: string): Promise<void> {
    await this.table.deleteEntity(kind, rowKey).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  /** Forgets the posts of `kind` that show `version` or later (their last redraw): nothing more will be drawn. */
  async removeShown(kind: string, version: number): Promise<void> {
    const shown = await collect(this.table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${kind} and version ge ${version}`, select: ['RowKey'] } }));
    for (const r of shown) await this.removeRow(kind, String(r.rowKey));
  }

  async get(kind: string, id: string): Promise<Post | undefined> {
    return (await this.state(kind, id))?.post;
  }

  async state(kind: string, id: string): Promise<PostState | undefined> {
    const e = await readEntity<PostRow>(this.table, kind, safeKey(id));
    if (!e) return undefined;
    {
      return {
        post: fromJsonColumn<Post | undefined>(e.json, undefined),
        version: Number(e.version ?? 0),
        pendingKey: e.pendingKey || undefined,
        applying: e.applying ? Number(e.applying) : undefined,
        applyingUntil: e.applyingUntil ? Number(e.applyingUntil) : undefined,
        etag: e.etag,
      };
    }
  }

  /** A send of this post is queued: updates enqueued meanwhile wait for it instead of being dropped. */
  async markPending(kind: string, id: string, key: string): Promise<void> {
    await this.table.upsertEntity({ partitionKey: kind, rowKey: safeKey(id), pendingKey: key }, 'Merge');
  }

  /** The send landed: the post is this message, showing `version`. */
  async recordSent(kind: string, id: string, post: Post, version: number, key: string): Promise<void> {
    await this.change(kind, id, (row) => {
      // The same message recorded again (a repeated follow-up) keeps any newer version updates gave it.
      const same = row?.json ? (JSON.parse(row.json) as Post).activityId === post.activityId : false;
      return {
        json: JSON.stringify(post),
        version: same ? Math.max(Number(row?.version ?? 0), version) : version,
        ...(row?.pendingKey === key ? { pendingKey: '' } : {}),
      };
    });
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
    for (let tries = 0; tries < 5; tries++) {
      const s = await this.state(kind, id);
      if (!s) return { kind: 'missing' };
      if (!s.post) return s.pendingKey ? { kind: 'wait', until: now + 2_000 } : { kind: 'missing' };
      if (version <= s.version) return { kind: 'stale', shown: s.version };
      const busy = s.applying !== undefined && (s.applyingUntil ?? 0) > now;
      if (busy && s.applying! > version) return { kind: 'stale', shown: s.applying! };
      if (busy && s.applying! < version) return { kind: 'wait', until: Math.min(s.applyingUntil!, now + 1_000) };
      try {
        await this.table.updateEntity(
          { partitionKey: kind, rowKey: safeKey(id), applying: version, applyingUntil: now + holdMs },
          'Merge',
          { etag: s.etag },
        );
        return { kind: 'go', post: s.post };
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
      }
    }
    return { kind: 'wait', until: now + 1_000 };
  }

  /** The update was applied (`shown`) or given up: the next one may go. */
  async endUpdate(kind: string, id: string, version: number, shown: boolean): Promise<void> {
    await this.change(kind, id, (row) => {
      if (!row) return undefined;
      const out: Partial<PostRow> = {};
      if (shown && version > Number(row.version ?? 0)) out.version = version;
      if (Number(row.applying ?? 0) === version) Object.assign(out, { applying: 0, applyingUntil: 0 });
      return Object.keys(out).length ? out : undefined;
    });
  }

  /** An ETag-guarded read-modify-write; `fn` returns the fields to merge, or undefined for no change. */
  private async change(
    kind: string,
    id: string,
    fn: (row: PostRow | undefined) => Partial<PostRow> | undefined,
  ): Promise<void> {
    const rk = safeKey(id);
    await retryOnConflict(
      async () => {
        const row = await readEntity<PostRow>(this.table, kind, rk);
        const fields = fn(row);
        if (!fields) return;
        if (row) await this.table.updateEntity({ partitionKey: kind, rowKey: rk, ...fields }, 'Merge', { etag: row.etag });
        else await this.table.createEntity({ partitionKey: kind, rowKey: rk, ...fields });
      },
      { attempts: 10, what: `Changing post ${kind}/${id}` },
    );
  }
}

