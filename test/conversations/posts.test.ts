import type { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { type Post, PostStore } from '../../src/conversations/posts.js';
import { ConversationPersonalData } from '../../src/conversations/privacy.js';
import { ConversationStore, type StoredConversation } from '../../src/conversations/store.js';
import type { Subject } from '../../src/privacy/personal-data.js';
import { collect, type Tables } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';

/*
 * `my data` and `forget` find the cards in a person's 1:1 chat (a send's progress card, a Forget card) through
 * rows kept per chat user, not by reading every post the bot keeps (one per issue's triage card, and more).
 * Reads of the `Posts` table are counted: the rows a query returns and the point reads.
 */

const AMINA: Subject = { ids: ['aad-amina', '29:amina'], name: 'Amina' };

const chatOf = (id: string, aad: string): StoredConversation => ({
  conversationId: `a:chat-${aad}`,
  conversationType: 'personal',
  serviceUrl: 'https://smba.example/emea/',
  tenantId: 't1',
  channelId: 'msteams',
  bot: { id: '28:bot' },
  user: { id, aadObjectId: aad, name: aad },
  updatedAt: '2026-11-30T08:00:00.000Z',
});
const triage: StoredConversation = {
  conversationId: '19:triage@thread.tacv2',
  conversationType: 'channel',
  serviceUrl: 'https://smba.example/emea/',
  channelId: 'msteams',
  bot: { id: '28:bot' },
  updatedAt: '2026-11-30T08:00:00.000Z',
};
const post = (conversation: StoredConversation, activityId: string): Post => ({ conversation, activityId });

/** Tables on the test Azurite whose `Posts` reads are counted (rows returned by queries, point reads). */
function counted(): { tables: Tables; reads: { rows: number; points: number } } {
  const real = testTables();
  const reads = { rows: 0, points: 0 };
  const tables = {
    table: async (name: string) => {
      const t = await real.table(name);
      if (name !== 'Posts') return t;
      return new Proxy(t, {
        get(target, prop, receiver) {
          if (prop === 'getEntity') {
            return (...args: Parameters<TableClient['getEntity']>) => {
              reads.points++;
              return target.getEntity(...args);
            };
          }
          if (prop === 'listEntities') {
            return (...args: Parameters<TableClient['listEntities']>) => {
              const inner = target.listEntities(...args);
              return (async function* () {
                for await (const row of inner) {
                  reads.rows++;
                  yield row;
                }
              })();
            };
          }
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
    },
  } as unknown as Tables;
  return { tables, reads };
}

async function setUp() {
  const { tables, reads } = counted();
  const posts = await PostStore.open(tables);
  const privacy = new ConversationPersonalData(await ConversationStore.open(tables, new ManualClock()), posts);
  return { tables, reads, posts, privacy };
}

describe("the cards in a person's 1:1 chat", () => {
  it("are read from that person's rows only, not from every card the bot keeps", async () => {
    const { reads, posts, privacy } = await setUp();
    expect(await posts.backfillChatIndex()).toMatchObject({ done: true, posts: 0 }); // a new deployment: nothing older
    // Thirty issues' triage cards and other people's progress cards, and two of Amina's cards.
    for (let i = 1; i <= 30; i++) await posts.save('issue-triage', `R-${String(i).padStart(4, '0')}`, post(triage, `triage-${i}`));
    for (let i = 1; i <= 5; i++) await posts.save('broadcast-progress', `s-other-${i}`, post(chatOf(`29:p${i}`, `aad-p${i}`), `progress-${i}`));
    await posts.save('broadcast-progress', 's-amina', post(chatOf('29:amina', 'aad-amina'), 'progress-amina'));
    // A card the outbound path recorded when its send landed (her Entra id as Teams gives it, upper case).
    await posts.recordSent('privacy-forget', 'run-1', post(chatOf('29:amina', 'AAD-AMINA'), 'forget-card-amina'), 0, 'k1');

    reads.rows = 0;
    reads.points = 0;
    const mine = (await privacy.export(AMINA)).cardsInYourChat as { card: string; message: string }[];
    expect(mine.map((c) => c.message).sort()).toEqual(['forget-card-amina', 'progress-amina']);
    // Only her two cards were read: no query over the table.
    expect(reads.rows).toBe(0);
    expect(reads.points).toBe(2);

    // Forgetting her drops both cards, and what listed them under her: nothing of her is left in either table.
    await privacy.forget(AMINA, { id: 'x', name: 'Former member x' });
    expect(await posts.get('broadcast-progress', 's-amina')).toBeUndefined();
    expect(await posts.get('privacy-forget', 'run-1')).toBeUndefined();
    expect((await privacy.export(AMINA)).cardsInYourChat).toEqual([]);
    expect(await posts.get('broadcast-progress', 's-other-1')).toBeDefined();
  });

  it('drops the rows that list a card under its chat when the card is dropped as shown', async () => {
    const { tables, posts, privacy } = await setUp();
    await posts.backfillChatIndex();
    await posts.save('privacy-forget', 'run-2', post(chatOf('29:amina', 'aad-amina'), 'forget-card-2'));
    // Its card shows the end (the last version): the upkeep drops it.
    await (await tables.table('Posts')).updateEntity({ partitionKey: 'privacy-forget', rowKey: 'run-2', version: 1_000_000 }, 'Merge');
    await posts.removeShown('privacy-forget', 1_000_000);
    expect((await privacy.export(AMINA)).cardsInYourChat).toEqual([]);
    const everything = JSON.stringify(await collect((await tables.table('PostsByChat')).listEntities()));
    expect(everything.toLowerCase()).not.toContain('amina');
  });

  it('written before the index are still found: by reading the table until the one-off backfill, by her rows after it', async () => {
    const { tables, reads, posts, privacy } = await setUp();
    // Rows as an earlier version wrote them: the post only.
    const raw = await tables.table('Posts');
    await raw.upsertEntity({ partitionKey: 'broadcast-progress', rowKey: 's-old', json: JSON.stringify(post(chatOf('29:amina', 'aad-amina'), 'progress-old')) }, 'Merge');
    await raw.upsertEntity({ partitionKey: 'broadcast-progress', rowKey: 's-old-other', json: JSON.stringify(post(chatOf('29:bo', 'aad-bo'), 'progress-bo')) }, 'Merge');
    await raw.upsertEntity({ partitionKey: 'issue-triage', rowKey: 'R-0001', json: JSON.stringify(post(triage, 'triage-1')) }, 'Merge');
    // One written by this version before the backfill ran.
    await posts.save('privacy-forget', 'run-3', post(chatOf('29:amina', 'aad-amina'), 'forget-card-3'));

    const messages = async () => ((await privacy.export(AMINA)).cardsInYourChat as { message: string }[]).map((c) => c.message).sort();
    expect(await messages()).toEqual(['forget-card-3', 'progress-old']);

    // The scheduled one-off backfill lists the old rows under their chats' users; a second run does nothing.
    expect(await posts.backfillChatIndex()).toMatchObject({ done: true, posts: 3 });
    expect(await posts.backfillChatIndex()).toEqual({ done: false });

    reads.rows = 0;
    reads.points = 0;
    expect(await messages()).toEqual(['forget-card-3', 'progress-old']);
    expect(reads.rows).toBe(0);
    expect(reads.points).toBe(2);

    // Another instance (started after the backfill) uses the index too.
    const later = new ConversationPersonalData(await ConversationStore.open(tables, new ManualClock()), await PostStore.open(tables));
    reads.rows = 0;
    expect(((await later.export({ ids: ['aad-bo'] })).cardsInYourChat as { message: string }[]).map((c) => c.message)).toEqual(['progress-bo']);
    expect(reads.rows).toBe(0);

    await privacy.forget(AMINA, { id: 'x', name: 'Former member x' });
    expect(await messages()).toEqual([]);
    expect(await posts.get('broadcast-progress', 's-old')).toBeUndefined();
    expect(await posts.get('issue-triage', 'R-0001')).toBeDefined();
  });
});
