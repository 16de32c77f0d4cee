import type { TableClient } from '@azure/data-tables';
import { describe, expect, it, vi } from 'vitest';
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

const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-01T09:00:00Z');

/** The scheduled backfill as a deployment runs it: this version's first run, then its pass a day later. */
async function backfilled(posts: PostStore) {
  await posts.backfillChatIndex(T0);
  return posts.backfillChatIndex(T0 + 25 * HOUR);
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
    expect(await backfilled(posts)).toMatchObject({ done: true, posts: 0 }); // a new deployment: nothing older
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
    await backfilled(posts);
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

    // The scheduled one-off backfill lists the old rows under their chats' users; a later run does nothing.
    expect(await backfilled(posts)).toMatchObject({ done: true, posts: 3 });
    expect(await posts.backfillChatIndex(T0 + 50 * HOUR)).toEqual({ done: false });

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

const SINGLE_ROW = new Set(['getEntity', 'createEntity', 'upsertEntity', 'updateEntity', 'deleteEntity']);

/** Tables on the test Azurite where `hook` runs before each single-row call to a table's client (to hold one call). */
function hooked(hook: (table: string, method: string) => Promise<void>): Tables {
  const real = testTables();
  return {
    table: async (name: string) => {
      const t = await real.table(name);
      return new Proxy(t, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (typeof value !== 'function' || !SINGLE_ROW.has(String(prop))) return value;
          return async (...args: unknown[]) => {
            await hook(name, String(prop));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    },
  } as unknown as Tables;
}

/** A hold on the next call of `method` on `table`: `reached` once it is made, `release` lets it through. */
function holdNext(table: string, method: string) {
  let armed = false;
  let release: () => void = () => {};
  let reach: () => void = () => {};
  const reached = new Promise<void>((r) => (reach = r));
  const held = new Promise<void>((r) => (release = r));
  const tables = hooked(async (t, m) => {
    if (!armed || t !== table || m !== method) return;
    armed = false;
    reach();
    await held;
  });
  return { tables, arm: () => (armed = true), reached, release };
}


describe("the cards in a person's 1:1 chat, during a rolling upgrade", () => {
  it('a card an instance of the old version writes after the new one started is found and forgotten too', async () => {
    const { tables, reads, posts, privacy } = await setUp();
    const raw = await tables.table('Posts');
    const oldVersionWrites = (rowKey: string, activityId: string) =>
      raw.upsertEntity({ partitionKey: 'broadcast-progress', rowKey, json: JSON.stringify(post(chatOf('29:amina', 'aad-amina'), activityId)) }, 'Merge');
    await oldVersionWrites('s-before', 'progress-before');
    // The first instance of the new version runs the backfill job; instances of the old one still run and write.
    await posts.backfillChatIndex(T0);
    await oldVersionWrites('s-during', 'progress-during');
    await posts.backfillChatIndex(T0 + HOUR);
    await oldVersionWrites('s-later', 'progress-later');
    const messages = async () => ((await privacy.export(AMINA)).cardsInYourChat as { message: string }[]).map((c) => c.message).sort();
    expect(await messages()).toEqual(['progress-before', 'progress-during', 'progress-later']);

    // A day on, the upgrade is long over: the backfill lists every card, and reads use her rows only from then.
    expect(await posts.backfillChatIndex(T0 + 25 * HOUR)).toMatchObject({ done: true, posts: 3 });
    expect(await posts.backfillChatIndex(T0 + 50 * HOUR)).toEqual({ done: false });
    reads.rows = 0;
    expect(await messages()).toEqual(['progress-before', 'progress-during', 'progress-later']);
    expect(reads.rows).toBe(0);

    await privacy.forget(AMINA, { id: 'x', name: 'Former member x' });
    for (const s of ['s-before', 's-during', 's-later']) expect(await posts.get('broadcast-progress', s), s).toBeUndefined();
  });

  it('a deployment where the previous version made its pass at once has it made again, after the grace', async () => {
    const { tables, posts, privacy } = await setUp();
    const raw = await tables.table('Posts');
    // The previous version's pass, then a card an instance older still wrote, unlisted.
    await (await tables.table('PostsByChat')).upsertEntity({ partitionKey: '~meta', rowKey: 'backfill', done: true }, 'Replace');
    await raw.upsertEntity({ partitionKey: 'broadcast-progress', rowKey: 's-missed', json: JSON.stringify(post(chatOf('29:amina', 'aad-amina'), 'progress-missed')) }, 'Merge');
    expect(await backfilled(posts)).toMatchObject({ done: true, posts: 1 });
    await privacy.forget(AMINA, { id: 'x', name: 'Former member x' });
    expect(await posts.get('broadcast-progress', 's-missed')).toBeUndefined();
  });

  it('until the pass is made, the row instances of the previous version read as "all listed" is not written', async () => {
    const { tables, posts } = await setUp();
    const byChat = await tables.table('PostsByChat');
    const listedRow = async () => (await collect(byChat.listEntities({ queryOptions: { filter: "PartitionKey eq '~meta' and RowKey eq 'backfill'" } }))).length;
    await posts.backfillChatIndex(T0);
    await posts.backfillChatIndex(T0 + HOUR);
    // The previous version takes any such row as "every post is listed" and would stop scanning Posts.
    expect(await listedRow()).toBe(0);
    expect(await posts.backfillChatIndex(T0 + 25 * HOUR)).toMatchObject({ done: true });
    expect(await listedRow()).toBe(1);
  });
});

describe("the cards in a person's 1:1 chat, saved while she is being forgotten", () => {
  async function racing(table: string, method: string) {
    const hold = holdNext(table, method);
    const posts = await PostStore.open(hold.tables);
    const privacy = new ConversationPersonalData(await ConversationStore.open(hold.tables, new ManualClock()), posts);
    await backfilled(posts);
    const left = async () => {
      const everything = JSON.stringify([
        ...(await collect((await hold.tables.table('Posts')).listEntities())),
        ...(await collect((await hold.tables.table('PostsByChat')).listEntities())),
      ]);
      return everything.toLowerCase().includes('amina');
    };
    return { ...hold, posts, privacy, left };
  }

  it('a card whose post is written after forget read her rows does not stay', async () => {
    const { posts, privacy, arm, reached, release, left } = await racing('Posts', 'upsertEntity');
    arm();
    // Her card is listed under her, then its post is held just before it is written.
    const saving = posts.save('broadcast-progress', 's-race', post(chatOf('29:amina', 'aad-amina'), 'progress-race'));
    await reached;
    await privacy.forget(AMINA, { id: 'x', name: 'Former member x' });
    release();
    await saving;
    expect(await posts.get('broadcast-progress', 's-race')).toBeUndefined();
    expect(await left()).toBe(false);
  });

  it('a card saved whole while forget removes her other cards does not stay', async () => {
    const { posts, privacy, arm, reached, release, left } = await racing('Posts', 'deleteEntity');
    await posts.save('broadcast-progress', 's-old', post(chatOf('29:amina', 'aad-amina'), 'progress-old'));
    arm();
    // Forget holds as it removes her older card; a new card of hers is saved meanwhile, listed and written.
    const forgetting = privacy.forget(AMINA, { id: 'x', name: 'Former member x' });
    await reached;
    await posts.save('broadcast-progress', 's-new', post(chatOf('29:amina', 'aad-amina'), 'progress-new'));
    release();
    await forgetting;
    expect(await posts.get('broadcast-progress', 's-old')).toBeUndefined();
    expect(await posts.get('broadcast-progress', 's-new')).toBeUndefined();
    expect(await left()).toBe(false);
  });
});

/*
 * An update's turn on a card: `beginUpdate` reads the row and takes the turn under its ETag; `endUpdate` writes the
 * version shown and frees the turn under the ETag the turn's own write got back, reading the row only when someone
 * wrote it since (a 412), so every redraw of a card costs one read of the row, not two.
 */
describe("a card's update turn", () => {
  const recorded = async () => {
    const { reads, posts, tables } = await setUp();
    await posts.recordSent('issue-triage', 'R-0042', post(triage, 'act-1'), 1, 'triage|R-0042');
    return { reads, posts, tables };
  };

  it('is ended without reading the card again when nobody wrote it since', async () => {
    const { reads, posts } = await recorded();
    const turn = await posts.beginUpdate('issue-triage', 'R-0042', 2, T0, 60_000);
    expect(turn.kind).toBe('go');
    reads.points = 0;
    await posts.endUpdate('issue-triage', 'R-0042', 2, true, turn.kind === 'go' ? turn.row : undefined);
    expect(reads.points).toBe(0);
    // The next update goes: version 2 shown, no turn held.
    expect(await posts.state('issue-triage', 'R-0042')).toMatchObject({ version: 2, applying: undefined });
    expect((await posts.beginUpdate('issue-triage', 'R-0042', 3, T0 + 1, 60_000)).kind).toBe('go');
  });

  it('written meanwhile by someone else, is read again and ended on what is there', async () => {
    const { reads, posts } = await recorded();
    const turn = await posts.beginUpdate('issue-triage', 'R-0042', 2, T0, 60_000);
    // Another instance queues a send of this card meanwhile: the row's ETag moves on.
    await posts.markPending('issue-triage', 'R-0042', 'triage|R-0042|again');
    reads.points = 0;
    await posts.endUpdate('issue-triage', 'R-0042', 2, true, turn.kind === 'go' ? turn.row : undefined);
    expect(reads.points).toBe(1);
    expect(await posts.state('issue-triage', 'R-0042')).toMatchObject({ version: 2, applying: undefined, pendingKey: 'triage|R-0042|again' });
  });

  it('of a card this instance last drew, is taken without reading the card (one read per card, not one per redraw)', async () => {
    const { reads, posts } = await recorded();
    reads.points = 0;
    for (const version of [2, 3, 4]) {
      const turn = await posts.beginUpdate('issue-triage', 'R-0042', version, T0 + version, 60_000);
      expect(turn).toMatchObject({ kind: 'go', post: { activityId: 'act-1' } });
      await posts.endUpdate('issue-triage', 'R-0042', version, true, turn.kind === 'go' ? turn.row : undefined);
    }
    expect(reads.points).toBe(0);
    // An update older than what this instance drew is decided on the card as it is, not as this instance left it.
    expect(await posts.beginUpdate('issue-triage', 'R-0042', 4, T0 + 5, 60_000)).toEqual({ kind: 'stale', shown: 4 });
    expect(reads.points).toBe(1);
    expect(await posts.state('issue-triage', 'R-0042')).toMatchObject({ version: 4, applying: undefined });
    // Kept a minute at most: a card last drawn here longer ago is read again.
    const five = await posts.beginUpdate('issue-triage', 'R-0042', 5, T0 + 6, 60_000);
    await posts.endUpdate('issue-triage', 'R-0042', 5, true, five.kind === 'go' ? five.row : undefined);
    const later = Date.now() + 61_000;
    vi.spyOn(Date, 'now').mockReturnValue(later);
    reads.points = 0;
    expect((await posts.beginUpdate('issue-triage', 'R-0042', 6, T0 + 7, 60_000)).kind).toBe('go');
    expect(reads.points).toBe(1);
    vi.restoreAllMocks();
  });

  it('of a card last drawn here over a minute ago, is not kept in memory once any other card is drawn', async () => {
    const { reads, posts } = await recorded();
    const t0 = Date.now();
    const now = vi.spyOn(Date, 'now').mockReturnValue(t0);
    const two = await posts.beginUpdate('issue-triage', 'R-0042', 2, T0, 60_000);
    await posts.endUpdate('issue-triage', 'R-0042', 2, true, two.kind === 'go' ? two.row : undefined);
    // A minute and more later another card is drawn: the first card's row (its chat, whose ids) goes then.
    now.mockReturnValue(t0 + 61_000);
    await posts.save('issue-triage', 'R-0043', post(triage, 'act-2'));
    // Seen from a clock within the minute again, the row would still be used if it were kept: it is read instead.
    now.mockReturnValue(t0 + 1_000);
    reads.points = 0;
    expect((await posts.beginUpdate('issue-triage', 'R-0042', 3, T0 + 1, 60_000)).kind).toBe('go');
    expect(reads.points).toBe(1);
    vi.restoreAllMocks();
  });

  it('drawn since by another instance, is read again and decided on what that one drew', async () => {
    const { reads, posts, tables } = await recorded();
    const turn = await posts.beginUpdate('issue-triage', 'R-0042', 2, T0, 60_000);
    await posts.endUpdate('issue-triage', 'R-0042', 2, true, turn.kind === 'go' ? turn.row : undefined);
    // Another instance (its own store over the same table) draws version 5 meanwhile.
    const other = await PostStore.open(tables);
    const five = await other.beginUpdate('issue-triage', 'R-0042', 5, T0 + 1, 60_000);
    await other.endUpdate('issue-triage', 'R-0042', 5, true, five.kind === 'go' ? five.row : undefined);
    reads.points = 0;
    // Version 3 would go on this instance's last write; the card's ETag refuses it, and the card as it is says stale.
    expect(await posts.beginUpdate('issue-triage', 'R-0042', 3, T0 + 2, 60_000)).toEqual({ kind: 'stale', shown: 5 });
    expect(reads.points).toBe(1);
    // A newer one still goes, and the card shows it.
    const six = await posts.beginUpdate('issue-triage', 'R-0042', 6, T0 + 3, 60_000);
    expect(six.kind).toBe('go');
    await posts.endUpdate('issue-triage', 'R-0042', 6, true, six.kind === 'go' ? six.row : undefined);
    expect(await other.state('issue-triage', 'R-0042')).toMatchObject({ version: 6, applying: undefined });
  });

  it('of a card posted again meanwhile by another instance (a new message), leaves the new message to be drawn', async () => {
    const { posts, tables } = await recorded();
    // This instance draws version 3 on the card's message act-1 ...
    const three = await posts.beginUpdate('issue-triage', 'R-0042', 3, T0, 60_000);
    expect(three).toMatchObject({ kind: 'go', post: { activityId: 'act-1' } });
    // ... while another instance records the card posted again: a new message, act-2, showing version 1.
    const other = await PostStore.open(tables);
    await other.recordSent('issue-triage', 'R-0042', post(triage, 'act-2'), 1, 'triage|R-0042|again');
    await posts.endUpdate('issue-triage', 'R-0042', 3, true, three.kind === 'go' ? three.row : undefined);
    // Version 3 was drawn on act-1, not on act-2: taken again, it goes, on the new message (not 'stale').
    expect(await other.beginUpdate('issue-triage', 'R-0042', 3, T0 + 1, 60_000)).toMatchObject({ kind: 'go', post: { activityId: 'act-2' } });
    expect(await other.state('issue-triage', 'R-0042')).toMatchObject({ post: { activityId: 'act-2' }, version: 1, applying: 3 });
  });

  it('of a card removed meanwhile (its post dropped), writes no row back', async () => {
    const { posts } = await recorded();
    const turn = await posts.beginUpdate('issue-triage', 'R-0042', 2, T0, 60_000);
    await posts.remove('issue-triage', 'R-0042');
    await posts.endUpdate('issue-triage', 'R-0042', 2, true, turn.kind === 'go' ? turn.row : undefined);
    expect(await posts.state('issue-triage', 'R-0042')).toBeUndefined();
  });
});

/*
 * What an instance keeps of the posts it wrote (the row as its last write left it, to skip the next read) is one
 * record per card, used by every write to it: a turn's end, the next turn, a send recorded.
 */
describe("a card's update turn, with another under way on the same instance", () => {
  it('a newer update that found the turn taken goes, once that turn ended, without reading the card', async () => {
    const { reads, posts } = await setUp();
    await posts.recordSent('issue-triage', 'R-0042', post(triage, 'act-1'), 1, 'triage|R-0042');
    const two = await posts.beginUpdate('issue-triage', 'R-0042', 2, T0, 60_000);
    expect(two.kind).toBe('go');
    reads.points = 0;
    // Version 3 arrives while 2 is being drawn: it waits, decided on the card as it is (one read).
    expect(await posts.beginUpdate('issue-triage', 'R-0042', 3, T0 + 1, 60_000)).toMatchObject({ kind: 'wait' });
    expect(reads.points).toBe(1);
    await posts.endUpdate('issue-triage', 'R-0042', 2, true, two.kind === 'go' ? two.row : undefined);
    // Version 2's end was written here: version 3 goes on it, no second read.
    expect((await posts.beginUpdate('issue-triage', 'R-0042', 3, T0 + 2, 60_000)).kind).toBe('go');
    expect(reads.points).toBe(1);
  });

  it('whose drawing outlasts what the instance keeps (over a minute), is still ended without reading the card', async () => {
    const { reads, posts } = await setUp();
    await posts.recordSent('issue-triage', 'R-0042', post(triage, 'act-1'), 1, 'triage|R-0042');
    const two = await posts.beginUpdate('issue-triage', 'R-0042', 2, T0, 60_000);
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 61_000);
    reads.points = 0;
    await posts.endUpdate('issue-triage', 'R-0042', 2, true, two.kind === 'go' ? two.row : undefined);
    expect(reads.points).toBe(0);
    vi.restoreAllMocks();
    expect(await posts.state('issue-triage', 'R-0042')).toMatchObject({ version: 2, applying: undefined });
  });
});

describe('what an instance keeps of the cards it drew, when someone is forgotten on it', () => {
  /** What the store keeps in memory of the rows it wrote, as text: to look for a person's ids in it. */
  const keptText = (posts: PostStore) => JSON.stringify([...(posts as unknown as { lastWritten: Map<string, unknown> }).lastWritten.values()]);

  it("drops that person's at once, even of a card removed by another instance meanwhile, and keeps the others", async () => {
    const { tables, reads } = counted();
    const conversations = await ConversationStore.open(tables, new ManualClock());
    const posts = await PostStore.open(tables, conversations);
    const privacy = new ConversationPersonalData(conversations, posts);
    await backfilled(posts);
    // This instance records and redraws Amina's Forget card and a triage card: it keeps both rows.
    await posts.recordSent('privacy-forget', 'run-1', post(chatOf('29:amina', 'aad-amina'), 'forget-card'), 0, 'k1');
    const one = await posts.beginUpdate('privacy-forget', 'run-1', 1, T0, 60_000);
    await posts.endUpdate('privacy-forget', 'run-1', 1, true, one.kind === 'go' ? one.row : undefined);
    await posts.recordSent('issue-triage', 'R-0042', post(triage, 'act-1'), 1, 'triage|R-0042');
    // The Forget jobs' own store drops her card once it shows its end: storage no longer has it, this instance does.
    await (await PostStore.open(tables)).removeShown('privacy-forget', 1);
    expect(keptText(posts).toLowerCase()).toContain('amina');

    await privacy.forget(AMINA, { id: 'x', name: 'Former member x' });
    // Nothing in this instance's memory says where her chat is any more.
    expect(keptText(posts).toLowerCase()).not.toContain('amina');
    // The triage card's row, nobody's chat, is still kept: its next redraw reads nothing.
    reads.points = 0;
    expect((await posts.beginUpdate('issue-triage', 'R-0042', 2, T0 + 1, 60_000)).kind).toBe('go');
    expect(reads.points).toBe(0);
  });
});

describe('what an instance keeps of the cards it drew, when someone is forgotten on another instance', () => {
  const keptText = (posts: PostStore) => JSON.stringify([...(posts as unknown as { lastWritten: Map<string, unknown> }).lastWritten.values()]);

  it("is gone from an idle instance within a minute, though nothing is drawn there after the forget", async () => {
    // Timers and the clock run as usual (storage answers), and the test moves them on past the minute at once.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldAdvanceTime: true });
    try {
      const tables = testTables();
      // Two instances over one Azurite account, each with its own stores.
      const a = await PostStore.open(tables, await ConversationStore.open(tables, new ManualClock()));
      const conversationsB = await ConversationStore.open(tables, new ManualClock());
      const b = await PostStore.open(tables, conversationsB);
      await backfilled(b);
      // Instance a records and redraws Amina's Forget card: it keeps the card's row (where her chat is, her ids).
      await a.recordSent('privacy-forget', 'run-1', post(chatOf('29:amina', 'aad-amina'), 'forget-card'), 0, 'k1');
      const one = await a.beginUpdate('privacy-forget', 'run-1', 1, T0, 60_000);
      await a.endUpdate('privacy-forget', 'run-1', 1, true, one.kind === 'go' ? one.row : undefined);
      expect(keptText(a).toLowerCase()).toContain('amina');
      // She is forgotten on instance b; instance a draws nothing more (an idle instance).
      await new ConversationPersonalData(conversationsB, b).forget(AMINA, { id: 'x', name: 'Former member x' });
      expect(await b.get('privacy-forget', 'run-1')).toBeUndefined();
      vi.advanceTimersByTime(61_000);
      expect(keptText(a).toLowerCase()).not.toContain('amina');
    } finally {
      vi.useRealTimers();
    }
  });
});
