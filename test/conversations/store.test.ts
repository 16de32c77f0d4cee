import type { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { CHANNEL_CACHE_MS, ConversationStore } from '../../src/conversations/store.js';
import { StorageUnavailableError } from '../../src/storage/call-policy.js';
import { testTables } from '../support/storage.js';
import { reads } from '../support/table-reads.js';

const personal = {
  conversationId: 'a:1/x',
  conversationType: 'personal' as const,
  serviceUrl: 'https://smba.example/emea/',
  tenantId: 't1',
  channelId: 'msteams',
  bot: { id: '28:bot' },
  user: { id: '29:user', aadObjectId: 'aad-1', name: 'Amina' },
};

describe('ConversationStore', () => {
  it('finds a personal chat by the user’s Entra id and Teams id', async () => {
    const store = await ConversationStore.open(testTables(), new ManualClock());
    await store.remember(personal);
    expect((await store.personalChat('aad-1'))?.conversationId).toBe('a:1/x');
    expect((await store.personalChat('29:user'))?.serviceUrl).toBe('https://smba.example/emea/');
    expect(await store.personalChat('nobody')).toBeUndefined();
  });

  it('an activity that does not say the time zone, name or Entra id keeps what an earlier one said; a new zone replaces the old', async () => {
    const store = await ConversationStore.open(testTables(), new ManualClock());
    await store.remember({ ...personal, timeZone: 'Asia/Tokyo' });
    // A card press as Teams often sends it: no clientInfo, no name, no Entra id.
    await store.remember({ ...personal, user: { id: '29:user' } });
    for (const key of ['aad-1', '29:user']) {
      const chat = await store.personalChat(key);
      expect(chat?.timeZone, key).toBe('Asia/Tokyo');
      expect(chat?.user, key).toEqual({ id: '29:user', aadObjectId: 'aad-1', name: 'Amina' });
    }
    expect((await store.conversation('a:1/x'))?.timeZone).toBe('Asia/Tokyo');
    await store.remember({ ...personal, user: { ...personal.user, name: 'Amina K' }, timeZone: 'Europe/Berlin' });
    expect((await store.personalChat('aad-1'))?.timeZone).toBe('Europe/Berlin');
    expect((await store.personalChat('29:user'))?.user?.name).toBe('Amina K');
  });

  it('keeps channel roles', async () => {
    const store = await ConversationStore.open(testTables(), new ManualClock());
    const channel = {
      ...personal,
      conversationType: 'channel' as const,
      conversationId: '19:c',
      teamId: '19:c',
    };
    delete (channel as { user?: unknown }).user;
    await store.remember(channel);
    await store.setChannelRole('triage', { ...channel, updatedAt: '' }, 'aad-1');
    expect((await store.channelFor('triage'))?.conversationId).toBe('19:c');
    expect(await store.channelFor('support')).toBeUndefined();
    expect((await store.team('19:c'))?.conversationId).toBe('19:c');
  });

  it('reads a role’s channel once per 10 s for every post to it; a move is seen at once here, within 10 s on another instance', async () => {
    const clock = new ManualClock('2026-12-01T09:00:00Z');
    const tables = testTables();
    const store = await ConversationStore.open(tables, clock);
    const other = await ConversationStore.open(tables, clock); // another instance on the same account
    const channel = (id: string) => ({ ...personal, conversationType: 'channel' as const, conversationId: id, teamId: id, user: undefined, updatedAt: '' });
    await store.setChannelRole('triage', channel('19:first'), 'aad-1');

    // Ten posts to the triage channel in a row (each resolves it): no read at all on the instance that set it.
    const posts = await reads(async () => {
      for (let i = 0; i < 10; i++) expect((await store.channelFor('triage'))?.conversationId).toBe('19:first');
    }, { table: 'Conversations' });
    expect(posts.calls).toBe(0);
    // Another instance reads it once for its ten.
    const elsewhere = await reads(async () => {
      for (let i = 0; i < 10; i++) expect((await other.channelFor('triage'))?.conversationId).toBe('19:first');
    }, { table: 'Conversations' });
    expect(elsewhere.calls).toBe(1);

    // Moved with `setup triage` on the first instance: seen there at once, on the other once its 10 s are over.
    await store.setChannelRole('triage', channel('19:second'), 'aad-1');
    expect((await store.channelFor('triage'))?.conversationId).toBe('19:second');
    expect((await other.channelFor('triage'))?.conversationId).toBe('19:first');
    clock.advance(CHANNEL_CACHE_MS);
    expect((await other.channelFor('triage'))?.conversationId).toBe('19:second');

    // A role not set is not remembered as missing: set elsewhere, it is found at the next look.
    expect(await other.channelFor('support')).toBeUndefined();
    await store.setChannelRole('support', channel('19:help'), 'aad-1');
    expect((await other.channelFor('support'))?.conversationId).toBe('19:help');
  });

  it('saves many chats at once under the same keys as one by one (more than one transaction’s worth)', async () => {
    const store = await ConversationStore.open(testTables(), new ManualClock());
    const many = Array.from({ length: 150 }, (_, i) => ({
      ...personal,
      conversationId: `a:${i}`,
      user: { id: `29:u${i}`, aadObjectId: `aad-u${i}`, name: `User ${i}` },
    }));
    await store.rememberAll(many);
    expect((await store.personalChat('aad-u149'))?.conversationId).toBe('a:149');
    expect((await store.personalChat('29:u0'))?.conversationId).toBe('a:0');
    expect((await store.conversation('a:120'))?.user?.name).toBe('User 120');
  });

  it('looks up many people’s chats at once (more than one query’s worth), by either id, leaving out the unknown', async () => {
    const store = await ConversationStore.open(testTables(), new ManualClock());
    const many = Array.from({ length: 40 }, (_, i) => ({
      ...personal,
      conversationId: `a:${i}`,
      user: { id: `29:u${i}`, aadObjectId: `aad-u${i}`, name: `User ${i}` },
    }));
    await store.rememberAll(many);
    const keys = [...many.map((_, i) => `aad-u${i}`), '29:u3', 'nobody', "o'brien/x#1", 'aad-u5'];
    const { chats: found, failed } = await store.personalChats(keys);
    expect(failed.size).toBe(0);
    expect(found.size).toBe(41);
    expect(found.get('aad-u39')?.conversationId).toBe('a:39');
    expect(found.get('29:u3')?.conversationId).toBe('a:3');
    expect(found.has('nobody')).toBe(false);
    expect(found.has("o'brien/x#1")).toBe(false);
  });

  it('a read that fails among many is named as failed, and the others are found (not one failure for all)', async () => {
    const tables = testTables();
    const real = await tables.table('Conversations');
    let failures = 0;
    // The real table on the test Azurite, with one person's chat not answering (storage busy for that call).
    const flaky = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== 'getEntity') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<TableClient['getEntity']>) => {
          if (args[0].endsWith('aad-u7')) {
            failures++;
            throw new StorageUnavailableError('storage did not answer within 4000 ms');
          }
          return target.getEntity(...args);
        };
      },
    });
    const store = await ConversationStore.open(
      new Proxy(tables, { get: (t, p, r) => (p === 'table' ? async () => flaky : Reflect.get(t, p, r) as unknown) }),
      new ManualClock(),
    );
    await store.rememberAll(
      Array.from({ length: 20 }, (_, i) => ({
        ...personal,
        conversationId: `a:${i}`,
        user: { id: `29:u${i}`, aadObjectId: `aad-u${i}`, name: `User ${i}` },
      })),
    );
    const { chats, failed } = await store.personalChats(Array.from({ length: 20 }, (_, i) => `aad-u${i}`));
    expect(failures).toBe(1);
    expect([...failed]).toEqual(['aad-u7']);
    expect(chats.size).toBe(19);
    expect(chats.get('aad-u8')?.conversationId).toBe('a:8');
  });

  it('lists everyone with the bot in personal scope once each, and not people only seen in a channel', async () => {
    const store = await ConversationStore.open(testTables(), new ManualClock());
    await store.remember(personal);
    await store.remember({ ...personal, conversationId: 'a:2', user: { id: '29:two', name: 'Bo' } });
    await store.rememberPerson('aad-3', 'Chen');
    expect((await store.personalChatUsers()).sort()).toEqual(['29:two', 'aad-1']);
    // Asked whether anyone has the app (a Send's check in the turn): the first found, not everyone.
    expect(await store.personalChatUsers(1)).toHaveLength(1);
  });

  it('finds chats saved by an earlier version (one shared partition), leaves them for it, and forgets them too', async () => {
    const tables = testTables();
    const table = await tables.table('Conversations');
    const older = { ...personal, updatedAt: '2026-01-01T00:00:00.000Z' };
    const nine = { ...older, conversationId: 'a:9', user: { id: '29:nine', aadObjectId: 'aad-9' } };
    for (const [rowKey, conv] of [['aad-1', older], ['29:user', older], ['aad-9', nine]] as const) {
      await table.createEntity({ partitionKey: 'personal', rowKey, json: JSON.stringify(conv) });
    }
    const store = await ConversationStore.open(tables, new ManualClock());
    expect((await store.personalChat('aad-9'))?.conversationId).toBe('a:9');
    expect((await store.personalChats(['aad-9', 'aad-1', 'nobody'])).chats.size).toBe(2);
    // Saved again by this version: its own row is read first.
    await store.remember({ ...personal, conversationId: 'a:new' });
    expect((await store.personalChat('aad-1'))?.conversationId).toBe('a:new');
    expect((await store.personalChatUsers()).sort()).toEqual(['aad-1', 'aad-9']);
    // An earlier version still running during a deployment still finds its rows.
    const legacy = [];
    for await (const e of table.listEntities({ queryOptions: { filter: "PartitionKey eq 'personal'" } })) legacy.push(e.rowKey);
    expect(legacy.sort()).toEqual(['29:user', 'aad-1', 'aad-9']);

    for (const row of await store.rowsOf(['aad-9'])) await store.removeRow(row.partition, row.key);
    expect(await store.personalChat('aad-9')).toBeUndefined();
    expect(await store.personalChatUsers()).toEqual(['aad-1']);
  });

  it('forgets a person’s chat under each of their keys', async () => {
    const store = await ConversationStore.open(testTables(), new ManualClock());
    await store.remember(personal);
    for (const row of await store.rowsOf(['aad-1', '29:user'])) await store.removeRow(row.partition, row.key);
    expect(await store.personalChat('aad-1')).toBeUndefined();
    expect(await store.personalChat('29:user')).toBeUndefined();
    expect(await store.personalChatUsers()).toEqual([]);
  });
});
