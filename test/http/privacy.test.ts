import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { execute, invokeText, readable, type Reply, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * The privacy duties over HTTP, as Teams drives them: people use every feature (log an issue, ask the FAQ,
 * book office hours, get and acknowledge an announcement, get celebrated, send kudos), then `my data` hands
 * each their own, and `forget` (the rollout team, after a confirmation card) takes a person out of all of it.
 * Each test uses people of its own, so the tests pass alone and in any order.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-privacy-'));
const PLAN_FILE = path.join(dir, 'plan.yaml');

const person = (name: string): TestUser => {
  const key = name.toLowerCase().replace(/\W+/g, '-');
  return { id: `29:${key}`, aadObjectId: `aad-${key}`, name };
};
const ADELE = person('Adele Vance');
const BRUNO = person('Bruno Costa');
const CARMEN = person('Carmen Diaz');
const DIEGO = person('Diego Ruiz');
const ELLA = person('Ella Fry');

writeFileSync(
  PLAN_FILE,
  `timeZone: Africa/Lusaka
messages:
  - id: welcome
    stage: launch
    title: Welcome to FieldLedger
    body: Your district goes live next Monday.
    audience: { users: [${ADELE.aadObjectId}, ${BRUNO.aadObjectId}] }
    when: manual
`,
);

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;

const MONDAY = '2026-11-30T08:00:00Z';
const SUPPORT = '19:support@thread.tacv2';
const chatOf = (u: TestUser) => `a:chat-${u.aadObjectId}`;
const where = (u: TestUser) => ({
  serviceUrl: connector.url,
  conversation: { id: chatOf(u), conversationType: 'personal', tenantId: 'tenant-1' },
});
let cardSeq = 0;
const click = (u: TestUser, verb: string, data: Record<string, unknown>) =>
  execute(app, u, verb, data, { ...where(u), replyToId: `card-${++cardSeq}` });
const tell = (u: TestUser, text: string) => say(app, u, text, where(u));

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await app.broadcast.runner.idle();
    await app.settled();
  }
}

const formOf = (title: string) => ({
  title,
  description: `${title}: every evening the tablet loses the visits recorded that day.`,
  location: 'Sync screen',
  category: 'Sync / offline',
  severity: 'minor',
  // The same title is the same problem at the same site (similar issues are looked for per site).
  site: `Site ${title.length}-${title.slice(0, 12)}`,
});

/** Logs an issue as `u` and returns its reference. */
async function logIssue(u: TestUser, title: string): Promise<string> {
  const res = await click(u, 'issue.logAnyway', { form: formOf(title) });
  const ref = /R-\d{4}/.exec(invokeText(res.body))?.[0];
  if (!ref) throw new Error(`not logged: ${invokeText(res.body)}`);
  return ref;
}

/** `u` reports the same problem, is offered the issue as similar, and says "+1" to it. */
async function plusOne(u: TestUser, title: string, ref: string): Promise<void> {
  const offered = await click(u, 'issue.submit', formOf(title));
  expect(invokeText(offered.body)).toContain(ref);
  expect(invokeText((await click(u, 'issue.affected', { ref })).body)).toMatch(/affected/);
}

/** `my data` as `u`: the reply's link, fetched; the file as JSON text. */
async function myData(u: TestUser): Promise<{ reply: string; file: string }> {
  const reply = readable(await tell(u, 'my data'));
  const url = /\((http[^)\s]+\/exports\/[^)\s]+)\)/.exec(reply)?.[1];
  if (!url) throw new Error(`no link in: ${reply}`);
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return { reply, file: await res.text() };
}

/** The card's Action.Execute data for a verb (what a click sends back). */
function actionData(replies: Reply[], verb: string): Record<string, unknown> {
  const m = JSON.stringify(replies.map((r) => r.attachments?.[0]?.content));
  const card = JSON.parse(m) as unknown;
  let found: Record<string, unknown> | undefined;
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (o.type === 'Action.Execute' && o.verb === verb) found = o.data as Record<string, unknown>;
    Object.values(o).forEach(walk);
  };
  walk(card);
  if (!found) throw new Error(`no ${verb} button in ${m}`);
  return found;
}

/** A person who used every feature: an issue, a question, a booking, an acknowledged announcement, a celebration. */
async function busyPerson(u: TestUser): Promise<{ ref: string; question: string; sendId: string; celebrationId: string }> {
  const ref = await logIssue(u, `Tablet of ${u.name} loses visits`);
  const question = `does the ${u.name.split(' ')[0]} tablet keep visits offline overnight`;
  await tell(u, question);
  const booked = await click(u, 'officehours.book', { occurrenceId: 'office-hours|2026-12-10T14:00', field: 'question0', question0: `Question from ${u.name}` });
  expect(invokeText(booked.body)).toMatch(/booked|seat/i);
  return { ref, question, sendId: '', celebrationId: '' };
}

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({
    ROLLOUT_FILE: 'sample/rollout.yaml',
    OFFICE_HOURS_FILE: 'sample/office-hours.yaml',
    GUIDANCE_DIR: 'sample/guidance',
    COMM_PLAN_FILE: PLAN_FILE,
    BROADCAST_WORKING_HOURS: 'off',
    SCHEDULER_INTERVAL_SECONDS: '86400',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  }));
  clock.set(MONDAY);
  for (const u of [...Object.values(USERS), ADELE, BRUNO, CARMEN, DIEGO, ELLA]) await tell(u, 'whoami');
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup support', {
    serviceUrl: connector.url,
    conversation: { id: `${SUPPORT};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: SUPPORT } },
  });
});

afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('my data', () => {
  it("gives a person exactly their own data, in their personal chat, and none of anyone else's", async () => {
    const adele = await busyPerson(ADELE);
    const bruno = await busyPerson(BRUNO);
    // Bruno says "+1" to Adele's issue: her export counts him, never names him.
    await plusOne(BRUNO, `Tablet of ${ADELE.name} loses visits`, adele.ref);

    const { reply, file } = await myData(ADELE);
    expect(reply).toContain("don't forward it");
    const data = JSON.parse(file) as Record<string, unknown>;
    expect(file).toContain(adele.ref);
    expect(file).toContain(`Tablet of ${ADELE.name} loses visits`);
    expect(file).toContain(adele.question);
    expect(file).toContain(`Question from ${ADELE.name}`);
    expect(JSON.stringify((data.issues as { reported: unknown[] }).reported)).toContain('"othersAffected":1');
    // Nothing of Bruno's: not his issue, question, booking, name or keys.
    for (const his of [bruno.ref, bruno.question, `Question from ${BRUNO.name}`, BRUNO.name, BRUNO.aadObjectId, BRUNO.id]) {
      expect(file).not.toContain(his);
    }
  });

  it('in a channel, sends the link to the person 1:1 and says so, never into the channel', async () => {
    const channel = '19:general@thread.tacv2';
    const replies = await say(app, CARMEN, '<at>Rollout Desk</at> my data', {
      serviceUrl: connector.url,
      conversation: { id: `${channel};messageid=9`, conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: channel } },
    });
    expect(readable(replies)).toContain('I sent the download link to you in a private chat');
    expect(readable(replies)).not.toContain('/exports/');
    await settle();
    expect(JSON.stringify(connector.sentTo(chatOf(CARMEN)))).toContain('/exports/');
  });
});
