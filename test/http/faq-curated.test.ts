import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import type { ManualClock } from '../../src/clock.js';
import { CuratedStore } from '../../src/faq/curated.js';
import { Tables } from '../../src/storage/tables.js';
import { execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { azuriteConnection } from '../support/storage.js';

/*
 * Champions' curated answers over HTTP, probed as a careless user and as an attacker would: what reaches
 * Teams stays within what Teams accepts, and what the rollout team takes away is whole.
 */

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;
let store: CuratedStore;
const prefix = `t${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({ TABLE_PREFIX: prefix }));
  store = await CuratedStore.open(new Tables(azuriteConnection(), prefix), clock);
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

const grace = { id: '29:grace', aadObjectId: 'aad-grace', name: 'Grace Mwansa' };
const inChat = (u: TestUser) => personalChat(connector.url, u);

describe('export curated', () => {
  it('with many long answers: every message fits what Teams accepts, and the whole export can be had', async () => {
    // Twenty answers at the 4,000 characters a champion may write: about 80 KB of markdown.
    for (let n = 1; n <= 20; n++) {
      clock.advance(1000);
      await store.create({ question: `long question number ${n} about the district store`, answer: `Answer ${n}: ${'word '.repeat(790)}end ${n}.` }, grace);
    }
    const replies = await say(app, USERS.lead, 'export curated', inChat(USERS.lead));
    for (const r of replies) expect(utf16Bytes(r)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const url = /\((http[^)\s]+\/exports\/[^)\s]+)\)/.exec(readable(replies))?.[1];
    expect(url, readable(replies).slice(0, 300)).toBeDefined();
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    const md = await res.text();
    for (let n = 1; n <= 20; n++) {
      expect(md).toContain(`## long question number ${n} about the district store`);
      expect(md).toContain(`end ${n}.`);
    }
  });
});

/** A staff member asks `question` (not covered by the guidance); returns the id of its gap on the champions' list. */
async function openGap(asker: TestUser, question: string): Promise<string> {
  expect(readable(await say(app, asker, question, inChat(asker)))).toContain("doesn't cover this");
  await app.settled();
  const list = await say(app, USERS.champion, 'gaps', inChat(USERS.champion));
  const cards = JSON.stringify(list);
  const at = cards.indexOf(question.slice(0, 40));
  expect(at, 'the gap is listed').toBeGreaterThan(-1);
  const after = cards.slice(at);
  return /"groupId":"([^"]+)"/.exec(after)?.[1] ?? '';
}

describe('answering a gap', () => {
  it('a pasted answer far over the limit is refused naming the limit, with the form and the paste shown again', async () => {
    const groupId = await openGap({ id: '29:pat', aadObjectId: 'aad-pat', name: 'Pat' }, 'where do I park my motorbike at the district office');
    const pasted = 'Open the store room and ask the clerk for the key. '.repeat(2000); // ~100 KB, a pasted document
    const res = await execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: pasted }, inChat(USERS.champion));
    const text = invokeText(res.body);
    expect(text).toContain('The answer is longer than 4000 characters.');
    expect(text).not.toContain('out of date');
    expect(JSON.stringify(res.body)).toContain('Open the store room and ask the clerk');
    expect(utf16Bytes(res.body.value)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    expect(await store.active()).not.toContainEqual(expect.objectContaining({ groupId }));
  });
});
