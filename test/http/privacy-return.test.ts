import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { buttonData, execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * Someone forgotten who comes back and writes to the bot again is a new person to it: their 1:1 chat is saved
 * again, so the notices about what they do from then on reach them — on the instance that forgot them, and on
 * another instance that had saved their chat before the forget. Two instances share one Storage account here.
 */

let app: App;
let other: App;
let connector: RecordingConnector;
const clock = new ManualClock('2026-11-30T08:00:00Z');

const person = (name: string): TestUser => {
  const key = name.toLowerCase().replace(/\W+/g, '-');
  return { id: `29:${key}`, aadObjectId: `aad-${key}`, name };
};
const where = (u: TestUser) => personalChat(connector.url, u);
const chatOf = (u: TestUser) => where(u).conversation.id;
const tell = (on: App, u: TestUser, text: string) => say(on, u, text, where(u));
let seq = 0;
const click = (on: App, u: TestUser, verb: string, data: Record<string, unknown>) => execute(on, u, verb, data, { ...where(u), replyToId: `card-${++seq}` });

const formOf = (title: string) => ({
  title,
  description: `${title}: the tablet will not open the visit list.`,
  location: 'Visits',
  category: 'Data entry',
  severity: 'slows',
  site: `Site ${title}`,
});

async function forget(u: TestUser): Promise<void> {
  const asked = await tell(app, USERS.lead, `forget ${u.name}`);
  expect(invokeText((await click(app, USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'))).body)).toContain('is forgotten');
}

/** `u` logs an issue on `on`, a champion resolves it; returns what reached `u`'s 1:1 chat about it. */
async function noticesAfterResolving(on: App, u: TestUser, title: string): Promise<string> {
  const logged = invokeText((await click(on, u, 'issue.logAnyway', { form: formOf(title) })).body);
  const ref = /R-\d{4}/.exec(logged)?.[0] ?? '';
  expect(ref).not.toBe('');
  const version = (await on.repository.get(ref))?.version ?? 0;
  expect(invokeText((await click(on, USERS.champion, 'issue.status', { ref, version, status: 'resolved' })).body)).toMatch(/Resolved/);
  for (const a of [app, other]) await a.settled();
  return connector
    .sentTo(chatOf(u))
    .map((c) => readable([c.body as never]))
    .filter((text) => text.includes(ref))
    .join('\n');
}

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  const env = { SCHEDULER_INTERVAL_SECONDS: '86400', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' };
  ({ app } = await startTestApp(env, clock));
  ({ app: other } = await startTestApp({ ...env, TABLE_PREFIX: String(app.config.env.TABLE_PREFIX) }, clock));
  for (const u of [USERS.lead, USERS.champion]) await tell(app, u, 'whoami');
}, 120_000);

afterAll(async () => {
  await other?.stop();
  await app?.stop();
  await connector?.stop();
});

describe('a forgotten person who writes to the bot again', () => {
  it('has their chat saved again by the instance that forgot them, so its notices reach them', async () => {
    const mia = person('Mia Back-Again');
    await tell(app, mia, 'whoami');
    await forget(mia);

    // She comes back and writes to the bot, then logs an issue; a champion resolves it.
    await tell(app, mia, 'whoami');
    expect(await noticesAfterResolving(app, mia, 'Visit list blank at Mopani')).toMatch(/Resolved/);
  });

  it('has their chat saved again by another instance that had saved it before the forget', async () => {
    const noah = person('Noah Other-Instance');
    // Noah's chat was saved by the other instance (and remembered there as saved).
    await tell(other, noah, 'whoami');
    await forget(noah);

    // Some time after the forget, he writes again, to the other instance.
    clock.advance(60_000);
    await tell(other, noah, 'whoami');
    expect(await noticesAfterResolving(other, noah, 'Visit list blank at Nakonde')).toMatch(/Resolved/);
  });
});
