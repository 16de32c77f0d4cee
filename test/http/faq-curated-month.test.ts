import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { PostStore } from '../../src/conversations/posts.js';
import { CuratedStore } from '../../src/faq/curated.js';
import { QuestionStore } from '../../src/faq/questions.js';
import { execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * A gap more than 2,000 people asked this month: the champion's Send reaches all of them, the turn answering at once
 * for the newest and the rest found off the turn; the 2,001st and older askers get the answer, each once, and the
 * champion is shown how many were reached. Pressed on the triage channel's card, that card keeps its own lines
 * (asked how often, answered by whom) for every champion there; the count is shown to the champion 1:1.
 */

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;
const TRIAGE = '19:triage@thread.tacv2';
const QUESTION = 'where can I charge the solar lantern at the district store';
const inChat = (u: TestUser) => personalChat(connector.url, u);
/** The first askers of the month (older than the newest NEWER), who have a chat with the bot. */
const early: TestUser[] = [0, 1, 2].map((i) => ({ id: `29:early${i}`, aadObjectId: `aad-early${i}`, name: `Early ${i}` }));
/**
 * The FAQ's read bounds, set small (production: 2,000 a gaps view or an answer's turn reads, 1,000 corrections in an
 * edit's turn): the same boundaries are crossed with 23 askers instead of 2,003.
 */
const NEWER = 20;
const RETOLD_IN_TURN = 10;
const faqBounds = { gapScanRows: NEWER, tellScanRows: NEWER, retoldInTurn: RETOLD_IN_TURN };
const newest: TestUser = { id: `29:many${NEWER - 1}`, aadObjectId: `aad-many${NEWER - 1}`, name: `Many ${NEWER - 1}` };

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({}, undefined, undefined, { faqBounds }));
  clock.set('2027-01-04T08:00:00Z');
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', {
    serviceUrl: connector.url,
    conversation: { id: `${TRIAGE};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
  });
  for (const u of [USERS.champion, ...early]) await say(app, u, 'whoami', inChat(u));
  // Seeded in storage: the early askers first, then NEWER more on the following two days.
  const questions = await QuestionStore.open(app.tables, clock);
  for (const u of early) await questions.record(QUESTION, u, { answered: false });
  for (let i = 0; i < NEWER; i += 5) {
    if (i % (NEWER / 2) === 0) clock.advance(86_400_000);
    await Promise.all(
      Array.from({ length: Math.min(5, NEWER - 1 - i) }, (_, j) => questions.record(QUESTION, { id: `29:many${i + j}`, aadObjectId: `aad-many${i + j}`, name: `Many ${i + j}` }, { answered: false })),
    );
    clock.advance(1_000);
  }
  // The newest asks through the bot: their question puts the gap's card in the triage channel.
  expect(readable(await say(app, newest, QUESTION, inChat(newest)))).toContain("doesn't cover this");
  await app.settled();
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('Send the answer on a gap more than 2,000 people asked this month', () => {
  it('pressed on the triage channel card: reaches the 2,001st and older askers too, each once; that card keeps its asked and answered lines, and the champion is shown the count 1:1', async () => {
    // The gap's card in the triage channel, as the newest asker's question posted it: Save pressed there.
    const posted = JSON.stringify(connector.calls.find((c) => c.method === 'POST' && JSON.stringify(c.body).includes('groupId') && JSON.stringify(c.body).includes(QUESTION))?.body);
    const groupId = /"groupId":"([^"]+)"/.exec(posted)?.[1] ?? '';
    expect(groupId).not.toBe('');
    const channelCard = await (await PostStore.open(app.tables)).get('faq-gap', groupId);
    expect(channelCard?.conversation.conversationId).toBe(TRIAGE);
    const activityId = channelCard!.activityId;
    const res = await execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'The site store, from the storekeeper.' }, {
      serviceUrl: connector.url,
      conversation: { id: `${TRIAGE};messageid=${activityId}`, conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
      replyToId: activityId,
    });
    expect(invokeText(res.body)).toContain('more who asked are being found');

    const told = (u: TestUser) => connector.sentTo(`a:chat-${u.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('from the storekeeper'));
    await connector.waitFor(() => early.every((u) => told(u).length > 0), 90_000);
    // The count, in the champion's 1:1 chat: the card sent there, redrawn once every asker is found.
    const done = () => connector.calls.filter((c) => c.method === 'PUT' && c.conversationId === `a:chat-${USERS.champion.aadObjectId}` && JSON.stringify(c.body).includes('in the last 30 days get your answer'));
    await connector.waitFor(() => done().length > 0, 30_000);
    // NEWER + the 3 early askers (a count over 999 is written with a comma: test/text/count.test.ts).
    expect(JSON.stringify(done().at(-1)!.body)).toContain('23 people who asked in the last 30 days get your answer');
    await app.settled();
    for (const u of early) expect(told(u), u.name).toHaveLength(1);
    // The channel card, as every champion there sees it: how often it was asked and who answered, never "your answer".
    const drawn = connector.calls.filter((c) => c.method === 'PUT' && c.conversationId === TRIAGE && c.activityId === activityId).map((c) => JSON.stringify(c.body));
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn.filter((b) => b.includes('your answer'))).toEqual([]);
    expect(drawn.at(-1)).toContain(`Answered by ${USERS.champion.name}`);
    expect(drawn.at(-1)).toMatch(/Asked [\d,]+ times/);
  }, 180_000);

  it('the answer edited once more than 1,000 were sent it: the correction reaches every one of them, each once, the rest off the turn', async () => {
    // The records of who was told are read in key order: these come after the first RETOLD_IN_TURN (aad-early0–2,
    // aad-many0, aad-many1, aad-many10…) and have a chat with the bot.
    const late: TestUser[] = [9, 8].map((i) => ({ id: `29:many${i}`, aadObjectId: `aad-many${i}`, name: `Many ${i}` }));
    for (const u of late) await say(app, u, 'whoami', inChat(u));
    const store = await CuratedStore.open(app.tables, clock);
    const [answer] = await store.active();
    expect((await store.toldOf(answer!.id, 5_000)).length).toBe(NEWER + early.length);
    const res = await execute(app, USERS.champion, 'faq.curated.edit', { curatedId: answer!.id, version: answer!.version, answer: 'The district office now, from the clerk.' }, inChat(USERS.champion));
    expect(invokeText(res.body)).toContain('the others sent it are being found');
    const corrected = (u: TestUser) => connector.sentTo(`a:chat-${u.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('from the clerk'));
    await connector.waitFor(() => [...early, ...late].every((u) => corrected(u).length > 0), 90_000);
    await app.settled();
    for (const u of [...early, ...late]) expect(corrected(u), u.name).toHaveLength(1);
  }, 180_000);

  it('pressed on the triage channel card by someone with no 1:1 chat with the bot: the count is shown in that card\'s thread', async () => {
    const other = 'who feeds the office goldfish during the district audit week';
    const asker: TestUser = { id: '29:goldfish', aadObjectId: 'aad-goldfish', name: 'Goldfish Asker' };
    expect(readable(await say(app, asker, other, inChat(asker)))).toContain("doesn't cover this");
    await app.settled();
    const posted = JSON.stringify(connector.calls.find((c) => c.method === 'POST' && c.conversationId === TRIAGE && JSON.stringify(c.body).includes(other))?.body);
    const groupId = /"groupId":"([^"]+)"/.exec(posted)?.[1] ?? '';
    const activityId = (await (await PostStore.open(app.tables)).get('faq-gap', groupId))!.activityId;
    const thread = `${TRIAGE};messageid=${activityId}`;
    // The rollout lead curates too, and has never opened a private chat with the bot.
    const res = await execute(app, USERS.lead, 'faq.curated.answer', { groupId, answer: 'The site keeper feeds it.' }, {
      serviceUrl: connector.url,
      conversation: { id: thread, conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
      replyToId: activityId,
    });
    expect(invokeText(res.body)).toContain('I show how many in this thread when done');
    // The count: a card in the thread, redrawn once every asker is found (never "your answer": the channel reads it).
    const inThread = () => connector.calls.filter((c) => c.conversationId === thread).map((c) => JSON.stringify(c.body));
    await connector.waitFor(() => inThread().some((b) => b.includes('in the last 30 days gets the answer')), 60_000);
    expect(inThread().filter((b) => b.includes('your answer'))).toEqual([]);
    expect(connector.sentTo(`a:chat-${USERS.lead.aadObjectId}`)).toEqual([]);
  }, 180_000);
});
