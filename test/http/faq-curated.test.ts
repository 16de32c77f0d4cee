import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import type { ManualClock } from '../../src/clock.js';
import { CuratedStore } from '../../src/faq/curated.js';
import { Tables } from '../../src/storage/tables.js';
import { personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
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
