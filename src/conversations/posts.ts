import type { TableClient } from '@azure/data-tables';
import { safeKey, type Tables } from '../storage/tables.js';
import type { StoredConversation } from './store.js';
import { fromJsonColumn, readEntity, toJsonColumn } from '../storage/entities.js';

/** Where the bot posted the card that stands for something (e.g. an issue's triage card), to update it in place. */
export interface Post {
  conversation: StoredConversation;
  activityId: string;
}

/*
 * Table `Posts`: PK = what the card is for ('issue-triage'), RK = its id ('R-0042') → one point read.
 */
export class PostStore {
  private constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<PostStore> {
    return new PostStore(await tables.table('Posts'));
  }

  async save(kind: string, id: string, post: Post): Promise<void> {
    await this.table.upsertEntity(
      { partitionKey: kind, rowKey: safeKey(id), json: toJsonColumn(post) },
      'Replace',
    );
  }

  async get(kind: string, id: string): Promise<Post | undefined> {
    const e = await readEntity<{ json: string }>(this.table, kind, safeKey(id));
    return e ? fromJsonColumn<Post | undefined>(e.json, undefined) : undefined;
  }
}
