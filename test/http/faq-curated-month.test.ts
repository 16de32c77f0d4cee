import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
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
    const { groupId, activityId } = await gapCardOf(asker, other);
    // The rollout lead curates too, and has never opened a private chat with the bot.
    const res = await execute(app, USERS.lead, 'faq.curated.answer', { groupId, answer: 'The site keeper feeds it.' }, onTriageCard(activityId));
    expect(invokeText(res.body)).toContain('I show how many in this thread when done');
    await expectCountInThread(activityId);
  }, 180_000);

  it('retried by Teams after its first turn stopped once the job was begun: the retry starts it, and the askers past the turn\'s rows get the answer at once, each once', async () => {
    const other = 'which van takes the empty cold boxes back after the outreach clinic';
    const { older, asker, groupId, activityId } = await askedOverTheMonth(other, 'van');
    expect(await pressedTwice(USERS.champion, groupId, 'The returns van, on Fridays.', activityId)).toContain('more who asked are being found');
    // No time passes: the first turn's claim on the job holds, so the upkeep would not take it up for minutes.
    const told = (u: TestUser) => connector.sentTo(`a:chat-${u.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('returns van'));
    await connector.waitFor(() => older.every((u) => told(u).length > 0), 30_000);
    await app.settled();
    for (const u of [...older, asker]) expect(told(u), u.name).toHaveLength(1);
  }, 180_000);

  it('retried by Teams after its first turn stopped once the job was begun, pressed by someone with no 1:1 chat: the retry says the count is shown in the thread, and it is', async () => {
    const other = 'where do we return the borrowed tablet chargers after training';
    const asker: TestUser = { id: '29:chargers', aadObjectId: 'aad-chargers', name: 'Chargers Asker' };
    const { groupId, activityId } = await gapCardOf(asker, other);
    const retried = await pressedTwice(USERS.lead, groupId, 'To the training lead.', activityId);
    expect(retried).toContain('I show how many in this thread when done');
    expect(retried).not.toContain('private chat when done');
    await expectCountInThread(activityId);
  }, 180_000);

  it("pressed again in the champion's chat after its job finished, the first press never having recorded the answer as sent: the card shows the count, not \"being found\"", async () => {
    const other = 'which colour bunting goes up for the district football final';
    const { older, asker, groupId } = await askedOverTheMonth(other, 'bunting');
    const press = async () => invokeText((await execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'Green and gold, from the sports officer.' }, inChat(USERS.champion))).body);
    // The first press's turn cannot record the answer as sent (storage stops answering then): the next press is no repeat.
    const unrecorded = vi.spyOn(CuratedStore.prototype, 'markTold').mockRejectedValueOnce(new Error('storage is not answering'));
    try {
      expect(await press()).toContain('more who asked are being found');
      const told = (u: TestUser) => connector.sentTo(`a:chat-${u.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('from the sports officer'));
      await connector.waitFor(() => older.every((u) => told(u).length > 0), 30_000);
      // The job finished: the card pressed is redrawn with the count.
      const counted = () =>
        connector.calls.filter((c) => c.method === 'PUT' && c.conversationId === `a:chat-${USERS.champion.aadObjectId}` && JSON.stringify(c.body).includes(other) && JSON.stringify(c.body).includes('in the last 30 days get your answer'));
      await connector.waitFor(() => counted().length > 0, 30_000);
      await app.settled();
      const count = /(\d+) people who asked in the last 30 days get your answer/.exec(JSON.stringify(counted().at(-1)!.body))?.[1];
      expect(Number(count)).toBeGreaterThanOrEqual(3);
      // Pressed again on that card: it shows the same count, not "more are being found" for good.
      const again = await press();
      expect(again).toContain(`${count} people who asked in the last 30 days get your answer`);
      expect(again).not.toContain('being found');
      await app.settled();
      for (const u of [...older, asker]) expect(told(u), u.name).toHaveLength(1);
    } finally {
      unrecorded.mockRestore();
    }
  }, 180_000);
});

/**
 * `question` asked by two people (`<tag>0`, `<tag>1`, with a chat with the bot) before the month's newest NEWER gap
 * questions, so only the job off the turn finds them, then by `asker` through the bot: its gap card.
 */
async function askedOverTheMonth(question: string, tag: string) {
  const older: TestUser[] = [0, 1].map((i) => ({ id: `29:${tag}${i}`, aadObjectId: `aad-${tag}${i}`, name: `${tag} ${i}` }));
  for (const u of older) await say(app, u, 'whoami', inChat(u));
  const past = await QuestionStore.open(app.tables, new ManualClock('2027-01-04T09:00:00Z'));
  for (const u of older) await past.record(question, u, { answered: false });
  const asker: TestUser = { id: `29:${tag}-new`, aadObjectId: `aad-${tag}-new`, name: `${tag} newest` };
  return { older, asker, ...(await gapCardOf(asker, question)) };
}

/** `asker` asks `question` through the bot; the "Answer this" card it puts in the triage channel: its gap and message. */
async function gapCardOf(asker: TestUser, question: string): Promise<{ groupId: string; activityId: string }> {
  expect(readable(await say(app, asker, question, inChat(asker)))).toContain("doesn't cover this");
  await app.settled();
  const posted = JSON.stringify(connector.calls.find((c) => c.method === 'POST' && c.conversationId === TRIAGE && JSON.stringify(c.body).includes(question))?.body);
  const groupId = /"groupId":"([^"]+)"/.exec(posted)?.[1] ?? '';
  return { groupId, activityId: (await (await PostStore.open(app.tables)).get('faq-gap', groupId))!.activityId };
}

/** A press on the triage channel's card `activityId`, in its thread. */
function onTriageCard(activityId: string) {
  return {
    serviceUrl: connector.url,
    conversation: { id: `${TRIAGE};messageid=${activityId}`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
    replyToId: activityId,
  };
}

/** The count, for the lead (no 1:1 chat): a card in the thread of `activityId`, redrawn once every asker is found, never "your answer" (the channel reads it). */
async function expectCountInThread(activityId: string): Promise<void> {
  const thread = `${TRIAGE};messageid=${activityId}`;
  const inThread = () => connector.calls.filter((c) => c.conversationId === thread).map((c) => JSON.stringify(c.body));
  await connector.waitFor(() => inThread().some((b) => b.includes('in the last 30 days gets the answer')), 60_000);
  expect(inThread().filter((b) => b.includes('your answer'))).toEqual([]);
  expect(connector.sentTo(`a:chat-${USERS.lead.aadObjectId}`)).toEqual([]);
}

/**
 * `by` presses Send the answer on the triage channel's card, and the champion's count card cannot be queued (storage
 * stops answering just after the job was begun): that turn fails, and Teams retries it. What the retry says.
 */
async function pressedTwice(by: TestUser, groupId: string, answer: string, activityId: string): Promise<string> {
  const press = () => execute(app, by, 'faq.curated.answer', { groupId, answer }, onTriageCard(activityId));
  const enqueue = app.outbox.enqueue.bind(app.outbox);
  let failed = false;
  const spy = vi.spyOn(app.outbox, 'enqueue').mockImplementation((messages) => {
    if (failed || !messages.some((m) => m.op === 'send' && m.post?.kind === 'faq-curated-tell')) return enqueue(messages);
    failed = true;
    return Promise.reject(new Error('storage is not answering'));
  });
  try {
    expect(invokeText((await press()).body)).not.toContain('Saved.');
    return invokeText((await press()).body);
  } finally {
    spy.mockRestore();
  }
}
