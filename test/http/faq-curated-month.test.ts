import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { QuestionStore } from '../../src/faq/questions.js';
import { execute, invokeText, personalChat, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * A gap more than 2,000 people asked this month: the champion's Send reaches all of them, the turn answering at once
 * for the newest and the rest found off the turn; the 2,001st and older askers get the answer, each once, and the
 * champion's card ends with how many were reached.
 */

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;
const TRIAGE = '19:triage@thread.tacv2';
const QUESTION = 'where do I collect the spare tablet battery packs';
const inChat = (u: TestUser) => personalChat(connector.url, u);
/** The first askers of the month (older than the newest 2,000), who have a chat with the bot. */
const early: TestUser[] = [0, 1, 2].map((i) => ({ id: `29:early${i}`, aadObjectId: `aad-early${i}`, name: `Early ${i}` }));
const NEWER = 2000;

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp());
  clock.set('2027-01-04T08:00:00Z');
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', {
    serviceUrl: connector.url,
    conversation: { id: `${TRIAGE};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
  });
  for (const u of [USERS.champion, ...early]) await say(app, u, 'whoami', inChat(u));
  // Seeded in storage: the early askers first, then 2,000 more on the following days.
  const questions = await QuestionStore.open(app.tables, clock);
  for (const u of early) await questions.record(QUESTION, u, { answered: false });
  for (let i = 0; i < NEWER; i += 50) {
    if (i % 1000 === 0) clock.advance(86_400_000);
    await Promise.all(
      Array.from({ length: 50 }, (_, j) => questions.record(QUESTION, { id: `29:many${i + j}`, aadObjectId: `aad-many${i + j}`, name: `Many ${i + j}` }, { answered: false })),
    );
    clock.advance(1_000);
  }
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('Send the answer on a gap more than 2,000 people asked this month', () => {
  it('reaches the 2,001st and older askers too, each once, and the card ends with how many were reached', async () => {
    const list = JSON.stringify(await say(app, USERS.champion, 'gaps 30', inChat(USERS.champion)));
    const groupId = /"groupId":"([^"]+)"/.exec(list.slice(list.indexOf(QUESTION)))?.[1] ?? '';
    expect(groupId).not.toBe('');
    const res = await execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'The site store, from the storekeeper.' }, { ...inChat(USERS.champion), replyToId: 'card-answer-1' });
    expect(invokeText(res.body)).toContain('more who asked are being found');

    const told = (u: TestUser) => connector.sentTo(`a:chat-${u.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('from the storekeeper'));
    await connector.waitFor(() => early.every((u) => told(u).length > 0), 90_000);
    const done = () => connector.calls.filter((c) => c.method === 'PUT' && c.activityId === 'card-answer-1' && JSON.stringify(c.body).includes('in the last 30 days get your answer'));
    await connector.waitFor(() => done().length > 0, 30_000);
    // 2,000 + 3 askers, written as the app writes counts.
    expect(NEWER + early.length).toBe(2003);
    expect(JSON.stringify(done().at(-1)!.body)).toContain('2,003 people who asked in the last 30 days get your answer');
    await app.settled();
    for (const u of early) expect(told(u), u.name).toHaveLength(1);
  }, 180_000);
});
