import { afterEach, describe, expect, it, vi } from 'vitest';
import { PostStore } from '../../src/conversations/posts.js';
import type { StoredConversation } from '../../src/conversations/store.js';
import type { Content, OutboundMessage } from '../../src/outbound/message.js';
import type { RequestOptions } from '../../src/outbound/transport.js';
import { ConversationBudget } from '../../src/outbound/budget.js';
import { OutboundQueue } from '../../src/outbound/queue.js';
import { TeamsTransport } from '../../src/teams/transport.js';
import { channel, personalChat, standInSuite, TestAccount } from './support.js';
import { until } from '../support/until.js';
import { callsOn } from '../support/table-reads.js';

const suite = standInSuite();
let account: TestAccount;

afterEach(() => {
  vi.restoreAllMocks();
});

const TRIAGE = '19:triage-posts@thread.tacv2';

async function setUp(instances: number) {
  account = suite.account();
  const chats = await account.conversations();
  await chats.remember(channel(suite.connector, TRIAGE));
  await chats.setChannelRole('triage', { ...channel(suite.connector, TRIAGE), updatedAt: '' }, 'lead');
  const outbound = [];
  for (let i = 0; i < instances; i++) outbound.push(await account.instance());
  return outbound;
}

const post = (ref: string, version: number): OutboundMessage => ({
  op: 'send',
  key: `triage-post:${ref}`,
  to: { kind: 'channel', role: 'triage' },
  content: `${ref} v${version}`,
  post: { kind: 'issue-triage', id: ref, version },
});
const update = (ref: string, version: number): OutboundMessage => ({
  op: 'update',
  key: `triage-card:${ref}:v${version}`,
  post: { kind: 'issue-triage', id: ref },
  version,
  content: `${ref} v${version}`,
});

describe('posts and their versions', () => {
  it('records the sent card with the version it shows, and updates it in place', async () => {
    const [{ outbox }] = (await setUp(1)) as [Awaited<ReturnType<TestAccount['instance']>>];
    await outbox.enqueue([post('R-0001', 1)]);
    await account.settled([post('R-0001', 1)]);
    const posts = await PostStore.open(account.tables);
    // The delivery row is settled just before the post's version is recorded: wait for the record.
    await until('the sent card recorded', async () => (await posts.state('issue-triage', 'R-0001'))?.post !== undefined, 10_000);
    const state = await posts.state('issue-triage', 'R-0001');
    expect(state?.version).toBe(1);
    const activityId = state!.post!.activityId;
    expect(suite.connector.messages.get(activityId)?.text).toBe('R-0001 v1');
    await outbox.enqueue([update('R-0001', 2)]);
    const [row] = await account.settled([update('R-0001', 2)]);
    expect(row?.state).toBe('updated');
    expect(suite.connector.messages.get(activityId)?.text).toBe('R-0001 v2');
    expect((await posts.state('issue-triage', 'R-0001'))?.version).toBe(2);
  });

  it('never lets an older update overwrite a newer card, whatever order two instances take them in', async () => {
    const [a] = await setUp(2);
    // Versions arrive as seen in the field: 3,4,5,6,8,7,2 — and the first send is still queued.
    const versions = [3, 4, 5, 6, 8, 7, 2];
    await a!.outbox.enqueue([post('R-0002', 1), ...versions.map((v) => update('R-0002', v))]);
    const rows = await account.settled(versions.map((v) => update('R-0002', v)), 60_000);
    const posts = await PostStore.open(account.tables);
    const state = await posts.state('issue-triage', 'R-0002');
    expect(state?.version).toBe(8);
    expect(suite.connector.messages.get(state!.post!.activityId)?.text).toBe('R-0002 v8');
    // Whatever was skipped was older than what the card showed then; version 2 and 7 can never have landed last.
    const byVersion = Object.fromEntries(versions.map((v, i) => [v, rows[i]!.state]));
    expect(byVersion[8]).toBe('updated');
    expect(byVersion[2]).toBe('skipped');
    expect(suite.connector.deliveries.get(TRIAGE)).toHaveLength(1);
    // What the channel showed, in order: each replacement newer than the one before.
    const shown = suite.connector.history.get(state!.post!.activityId)!.map((b) => Number(String(b.text).split(' v')[1]));
    expect(shown[0]).toBe(1);
    for (let i = 1; i < shown.length; i++) expect(shown[i]).toBeGreaterThan(shown[i - 1]!);
  });

  it('skips an update for a card that was never posted', async () => {
    const [{ outbox }] = (await setUp(1)) as [Awaited<ReturnType<TestAccount['instance']>>];
    await outbox.enqueue([update('R-0404', 2)]);
    const [row] = await account.settled([update('R-0404', 2)]);
    expect(row).toMatchObject({ state: 'skipped', reason: 'never posted' });
    expect(suite.connector.counts.requests).toBe(0);
  });
});

/** One instance with the card `ref` posted at version 1 and recorded, and nothing left to do. */
async function postedCard(ref: string) {
  const [instance] = (await setUp(1)) as [Awaited<ReturnType<TestAccount['instance']>>];
  await instance.outbox.enqueue([post(ref, 1)]);
  await account.settled([post(ref, 1)]);
  const posts = await PostStore.open(account.tables);
  await until('the sent card recorded', async () => (await posts.state('issue-triage', ref))?.post !== undefined, 10_000);
  expect(await instance.settled()).toBe(true);
  return instance;
}

describe("an update's delivery row", () => {
  it('is written once for an update drawn, and once for one skipped, without being read first', async () => {
    const instance = await postedCard('R-0005');
    const rows = callsOn('Outbound');
    // Waited for on the worker (queue empty, nothing held), not by reading delivery rows: those would be counted.
    await instance.outbox.enqueue([update('R-0005', 3)]);
    expect(await instance.settled()).toBe(true);
    const drawn = rows.calls.splice(0);
    await instance.outbox.enqueue([update('R-0005', 2)]);
    expect(await instance.settled()).toBe(true);
    rows.stop();
    expect(await account.row(update('R-0005', 3))).toMatchObject({ state: 'updated' });
    expect(await account.row(update('R-0005', 2))).toMatchObject({ state: 'skipped', reason: 'older than what the post shows (version 3)' });
    expect({ drawn, skipped: rows.calls }).toEqual({ drawn: ['upsertEntity'], skipped: ['createEntity'] });
  });

  it('the same update taken again after it was drawn: not drawn again, its row still says updated', async () => {
    const instance = await postedCard('R-0006');
    await instance.outbox.enqueue([update('R-0006', 2)]);
    await account.settled([update('R-0006', 2)]);
    expect(await instance.settled()).toBe(true);
    const requests = suite.connector.counts.requests;
    await instance.outbox.enqueue([update('R-0006', 2)]);
    expect(await instance.settled()).toBe(true);
    expect(suite.connector.counts.requests).toBe(requests);
    const row = await account.row(update('R-0006', 2));
    expect(row).toMatchObject({ state: 'updated' });
    expect(row?.reason).toBeUndefined();
  });

  it('an update given up and taken again: its row still says how it ended, the card is unchanged', async () => {
    const instance = await postedCard('R-0008');
    suite.connector.script(TRIAGE, 400, 2);
    await instance.outbox.enqueue([update('R-0008', 2)]);
    const [first] = await account.settled([update('R-0008', 2)]);
    expect(first?.state).toBe('failed');
    expect(await instance.settled()).toBe(true);
    await instance.outbox.enqueue([update('R-0008', 2)]);
    expect(await instance.settled()).toBe(true);
    expect(await account.row(update('R-0008', 2))).toMatchObject({ state: 'failed', reason: first?.reason });
    const state = await (await PostStore.open(account.tables)).state('issue-triage', 'R-0008');
    expect(suite.connector.messages.get(state!.post!.activityId)?.text).toBe('R-0008 v1');
  });

  it('an update given up, taken again and answered 429: the card waits out Retry-After before its next redraw', async () => {
    const instance = await postedCard('R-0009');
    suite.connector.script(TRIAGE, 400, 1);
    await instance.outbox.enqueue([update('R-0009', 2)]);
    expect((await account.settled([update('R-0009', 2)]))[0]?.state).toBe('failed');
    expect(await instance.settled()).toBe(true);
    // Taken again, it is answered 429 with Retry-After 2 s: the channel is paused on every instance, as for any 429.
    suite.connector.script(TRIAGE, 429, 1, { retryAfterSec: 2 });
    const before = suite.connector.counts.requests;
    await instance.outbox.enqueue([update('R-0009', 2)]);
    await until('the 429 answered', () => suite.connector.counts.requests > before, 10_000);
    const answeredAt = Date.now();
    await instance.outbox.enqueue([update('R-0009', 3)]);
    const id = (await (await PostStore.open(account.tables)).state('issue-triage', 'R-0009'))!.post!.activityId;
    await until('v3 shown', () => suite.connector.messages.get(id)?.text === 'R-0009 v3', 20_000);
    expect(Date.now() - answeredAt).toBeGreaterThan(1_500);
    expect(await account.row(update('R-0009', 2))).toMatchObject({ state: 'failed' });
  });

  it('an update answered 429 whose pause cannot be written still frees the card: the next version is drawn promptly', async () => {
    const instance = await postedCard('R-0010');
    const pause = ConversationBudget.prototype.pause;
    let failed = false;
    vi.spyOn(ConversationBudget.prototype, 'pause').mockImplementation(function (this: ConversationBudget, ...args) {
      if (failed) return pause.apply(this, args);
      failed = true;
      return Promise.reject(new Error('storage did not answer'));
    });
    suite.connector.script(TRIAGE, 429, 1, { retryAfterSec: 1 });
    const before = suite.connector.counts.requests;
    await instance.outbox.enqueue([update('R-0010', 2)]);
    await until('the 429 answered', () => failed && suite.connector.counts.requests > before, 10_000);
    await instance.outbox.enqueue([update('R-0010', 3)]);
    const id = (await (await PostStore.open(account.tables)).state('issue-triage', 'R-0010'))!.post!.activityId;
    // The turn is freed at once: v3 is drawn next, not after v2's own retry (or the turn's claim, some 39 s) redraws v2.
    await until('v3 shown', () => suite.connector.messages.get(id)?.text === 'R-0010 v3', 10_000);
    expect(await instance.settled()).toBe(true);
    expect(suite.connector.history.get(id)?.map((b) => b.text)).toEqual(['R-0010 v1', 'R-0010 v3']);
  });

  it('counts the tries of an update that failed before it got through', async () => {
    const instance = await postedCard('R-0007');
    suite.connector.script(TRIAGE, 500, 2);
    await instance.outbox.enqueue([update('R-0007', 2)]);
    const [row] = await account.settled([update('R-0007', 2)], 20_000);
    expect(row).toMatchObject({ state: 'updated', attempt: 2 });
    const state = await (await PostStore.open(account.tables)).state('issue-triage', 'R-0007');
    expect(suite.connector.messages.get(state!.post!.activityId)?.text).toBe('R-0007 v2');
  });
});

/** Counts the queue messages a worker gives back to wait (visible again later), whole or out of a pack. */
function countPutBacks(): { count: number } {
  const seen = { count: 0 };
  const send = OutboundQueue.prototype.send;
  vi.spyOn(OutboundQueue.prototype, 'send').mockImplementation(function (this: OutboundQueue, text: string, delayMs = 0) {
    if (delayMs > 0) seen.count++;
    return send.call(this, text, delayMs);
  });
  const defer = OutboundQueue.prototype.defer;
  vi.spyOn(OutboundQueue.prototype, 'defer').mockImplementation(function (this: OutboundQueue, ...args: Parameters<OutboundQueue['defer']>) {
    if (args[1] > 0) seen.count++;
    return defer.apply(this, args);
  });
  return seen;
}

/** An instance whose worker, once idle, would not look at the queue again for ten minutes on its own. */
const SLEEPY = { minPollMs: 600_000, maxPollMs: 600_000 };

describe('a card posted and drawn at once (its send and update enqueued together)', () => {
  it('draws it as soon as it is posted, without giving the update back to the queue to wait', async () => {
    const [{ outbox }] = (await setUp(1)) as [Awaited<ReturnType<TestAccount['instance']>>];
    // An update that finds its post still pending goes back to the queue for 2 s (other put-backs, such as a
    // worker late for its slot on a loaded machine, are not what this is about).
    let waited = 0;
    const beginUpdate = PostStore.prototype.beginUpdate;
    vi.spyOn(PostStore.prototype, 'beginUpdate').mockImplementation(async function (this: PostStore, ...args) {
      const turn = await beginUpdate.apply(this, args);
      if (turn.kind === 'wait') waited++;
      return turn;
    });
    await outbox.enqueue([post('R-0100', 0), update('R-0100', 1)]);
    const [, row] = await account.settled([post('R-0100', 0), update('R-0100', 1)]);
    expect(row?.state).toBe('updated');
    const state = await (await PostStore.open(account.tables)).state('issue-triage', 'R-0100');
    expect(suite.connector.messages.get(state!.post!.activityId)?.text).toBe('R-0100 v1');
    expect(waited).toBe(0);
  });
});

describe('redraws of one card arriving together (kudos pressed at once)', () => {
  it('the newer waits on this worker for the one being drawn, not in the queue; one overtaken while waiting gives way, the newest is shown', async () => {
    const [{ outbox }] = (await setUp(1)) as [Awaited<ReturnType<TestAccount['instance']>>];
    await outbox.enqueue([post('R-0600', 1)]);
    await account.settled([post('R-0600', 1)]);
    const posts = await PostStore.open(account.tables);
    await until('the card recorded', async () => (await posts.state('issue-triage', 'R-0600'))?.version === 1, 10_000);
    const activityId = (await posts.state('issue-triage', 'R-0600'))!.post!.activityId;

    // Version 2's request to Teams is under way (held here) while versions 3 and 4 arrive and find its turn taken.
    let waits = 0;
    const beginUpdate = PostStore.prototype.beginUpdate;
    vi.spyOn(PostStore.prototype, 'beginUpdate').mockImplementation(async function (this: PostStore, ...args) {
      const turn = await beginUpdate.apply(this, args);
      if (turn.kind === 'wait') waits++;
      return turn;
    });
    let drawing = false;
    const transportUpdate = TeamsTransport.prototype.update;
    vi.spyOn(TeamsTransport.prototype, 'update').mockImplementation(async function (this: TeamsTransport, conv: StoredConversation, id: string, content: Content, opts: RequestOptions) {
      if (content === 'R-0600 v2') {
        drawing = true;
        // Until both found the turn taken (at most a few seconds: the test then fails on what it checks below).
        for (let i = 0; i < 100 && waits < 2; i++) await new Promise((r) => setTimeout(r, 30));
      }
      return transportUpdate.call(this, conv, id, content, opts);
    });
    // How often each update is taken from the queue: once, unless it was given back to wait.
    const taken = new Map<string, number>();
    const receive = OutboundQueue.prototype.receive;
    vi.spyOn(OutboundQueue.prototype, 'receive').mockImplementation(async function (this: OutboundQueue, ...args) {
      const got = await receive.apply(this, args);
      for (const r of got) for (const key of JSON.stringify(r.body).match(/triage-card:R-0600:v\d/g) ?? []) taken.set(key, (taken.get(key) ?? 0) + 1);
      return got;
    });
    await outbox.enqueue([update('R-0600', 2)]);
    await until('version 2 being drawn', () => drawing, 10_000);
    await outbox.enqueue([update('R-0600', 3)]);
    await outbox.enqueue([update('R-0600', 4)]);
    const rows = await account.settled([update('R-0600', 2), update('R-0600', 3), update('R-0600', 4)], 30_000);
    expect(Object.fromEntries(taken)).toEqual({ 'triage-card:R-0600:v2': 1, 'triage-card:R-0600:v3': 1, 'triage-card:R-0600:v4': 1 });
    expect(rows.map((r) => r.state)).toEqual(['updated', 'skipped', 'updated']);
    expect(suite.connector.messages.get(activityId)?.text).toBe('R-0600 v4');
    expect(suite.connector.history.get(activityId)?.map((b) => b.text)).toEqual(['R-0600 v1', 'R-0600 v2', 'R-0600 v4']);
  });
});

describe('an idle instance', () => {
  it('sends what is enqueued on it at once, not at its next look at the queue', async () => {
    account = suite.account();
    const chats = await account.conversations();
    await chats.remember(channel(suite.connector, TRIAGE));
    await chats.setChannelRole('triage', { ...channel(suite.connector, TRIAGE), updatedAt: '' }, 'lead');
    const { outbox } = await account.instance(50, 'w1', SLEEPY);
    await outbox.enqueue([post('R-0200', 1)]);
    // Far inside the ten minutes the worker would otherwise sleep.
    const [row] = await account.settled([post('R-0200', 1)], 30_000);
    expect(row?.state).toBe('sent');
  });

  it('takes a message it gave back to wait as soon as the queue shows it again', async () => {
    account = suite.account();
    const chats = await account.conversations();
    await chats.remember(channel(suite.connector, TRIAGE));
    await chats.setChannelRole('triage', { ...channel(suite.connector, TRIAGE), updatedAt: '' }, 'lead');
    const { outbox } = await account.instance(50, 'w1', SLEEPY);
    const putBacks = countPutBacks();
    // The update on its own queue message, taken with or before its post's send: it waits for the post.
    await (await PostStore.open(account.tables)).markPending('issue-triage', 'R-0300', post('R-0300', 1).key);
    await outbox.enqueue([update('R-0300', 2)]);
    await until('the update given back to wait for its post', () => putBacks.count > 0, 30_000);
    await outbox.enqueue([post('R-0300', 1)]);
    const [, row] = await account.settled([post('R-0300', 1), update('R-0300', 2)], 30_000);
    expect(row?.state).toBe('updated');
  });
});

describe('a progress card whose worker stalls on an update', () => {
  it('does not overwrite the final card with the older progress once it gets going again', async () => {
    account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'lead'));
    // Short holds: an update's turn on the card runs out within seconds, and the final one takes over.
    const { outbox } = await account.instance(50, 'w1', { maxHoldMs: 1_000, sendTimeoutMs: 1_000, recordMarginMs: 500 });
    const card = (version: number, content: string): OutboundMessage =>
      version === 1
        ? { op: 'send', key: 'progress:post', to: { kind: 'user', userKey: 'aad-lead' }, content, post: { kind: 'progress', id: 'job-1', version } }
        : { op: 'update', key: `progress:v${version}`, post: { kind: 'progress', id: 'job-1' }, version, content };
    await outbox.enqueue([card(1, 'Forgetting… 0%')]);
    await account.settled([card(1, 'Forgetting… 0%')]);
    const posts = await PostStore.open(account.tables);
    await until('the card recorded', async () => (await posts.state('progress', 'job-1'))?.version === 1, 10_000);
    const activityId = (await posts.state('progress', 'job-1'))!.post!.activityId;

    // The progress update's worker stalls on its way to the socket until the final card is shown (a starved event
    // loop, a stop-the-world pause), then goes on.
    const shows = (text: string) => suite.connector.messages.get(activityId)?.text === text;
    let stalled = 0;
    const update = TeamsTransport.prototype.update;
    vi.spyOn(TeamsTransport.prototype, 'update').mockImplementation(async function (
      this: TeamsTransport,
      conv: StoredConversation,
      id: string,
      content: Content,
      opts: RequestOptions,
    ) {
      if (content === 'Forgetting… 50%' && stalled++ === 0) await until('the final card shown', () => shows('Done: 3 records forgotten'), 30_000);
      return update.call(this, conv, id, content, opts);
    });
    await outbox.enqueue([card(2, 'Forgetting… 50%')]);
    await until('the progress update under way', () => stalled > 0, 10_000);
    await outbox.enqueue([card(3, 'Done: 3 records forgotten')]);
    const rows = await account.settled([card(2, 'Forgetting… 50%'), card(3, 'Done: 3 records forgotten')], 60_000);
    // What the lead's chat shows, and showed in order: the progress never came after the final card.
    expect(suite.connector.messages.get(activityId)?.text).toBe('Done: 3 records forgotten');
    expect(suite.connector.history.get(activityId)?.map((b) => b.text)).toEqual(['Forgetting… 0%', 'Done: 3 records forgotten']);
    // The stalled update is on record as older than what the card shows.
    expect(rows.map((r) => r.state)).toEqual(['skipped', 'updated']);
  }, 90_000);
});
