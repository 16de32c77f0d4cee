import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { BookingStore } from '../../src/officehours/bookings.js';
import { execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { type PausableAzurite, startPausableAzurite } from '../support/pausable-azurite.js';

/*
 * A host turns a brought question into an issue while storage does not answer: the request is kept on this
 * instance's disk (as a report is) and logged once storage is back, the host told its reference then; nothing twice.
 */

let azurite: PausableAzurite;
let app: App;
let clock: ManualClock;
let connector: RecordingConnector;

const OCC = 'office-hours|2026-12-01T14:00'; // Tue 1 Dec, 12:00 UTC
const ama: TestUser = { id: '29:ama-held', aadObjectId: 'aad-ama-held', name: 'Ama Mensah' };
const where = (u: TestUser) => personalChat(connector.url, u);
const fields = { index: 0, title0: 'Register import fails', category0: 'Data entry', severity0: 'slows', site0: 'Sefara district' };
const press = () => execute(app, USERS.champion, 'officehours.questionIssue', { occurrenceId: OCC, personId: ama.aadObjectId, ...fields }, where(USERS.champion));

beforeAll(async () => {
  azurite = await startPausableAzurite();
  connector = await new RecordingConnector().start();
  // The timer that files held work is pushed out: the test files it itself, after looking at what the host saw.
  ({ app, clock } = await startTestApp(
    {
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      TABLE_PREFIX: `t${randomBytes(4).toString('hex')}`,
      ROLLOUT_FILE: 'sample/rollout.yaml',
      OFFICE_HOURS_FILE: 'sample/office-hours.yaml',
      GUIDANCE_DIR: 'sample/guidance',
    },
    undefined,
    undefined,
    { heldRetryMs: 3_600_000 },
  ));
  clock.set('2026-11-30T08:00:00Z');
  for (const u of [USERS.champion, ama]) await say(app, u, 'whoami', where(u));
  await execute(app, ama, 'officehours.book', { occurrenceId: OCC, field: 'question0', question0: 'Why does my Excel register not import?' }, where(ama));
  clock.set('2026-12-01T13:45:00Z');
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await azurite?.stop();
  await connector?.stop();
});

describe('a brought question turned into an issue while storage does not answer', () => {
  it('is kept, the host told so; logged once when storage is back, the booking takes the reference and the host hears it once', async () => {
    azurite.pause();
    let first: string;
    let second: string;
    try {
      first = invokeText((await press()).body);
      // Pressed again while storage is still down (the host was unsure): kept once.
      second = invokeText((await press()).body);
    } finally {
      azurite.resume();
    }
    for (const text of [first, second]) {
      expect(text).not.toMatch(/try (it|the button)? ?again/i);
      expect(text).toContain('kept');
      expect(text).toContain('logged as an issue when storage is back');
    }
    expect((await app.queries.listByReporter(ama.aadObjectId)).items).toEqual([]);

    const hostChat = where(USERS.champion).conversation.id;
    const told = () => connector.sentTo(hostChat).filter((c) => /Logged as R-\d{4} for Ama Mensah/.test(JSON.stringify(c.body)));
    await app.fileHeldReports();
    await app.fileHeldReports(); // a second pass files nothing twice
    await app.settled();
    const issues = (await app.queries.listByReporter(ama.aadObjectId)).items;
    expect(issues.map((i) => i.title)).toEqual(['Register import fails']);
    const ref = issues[0]!.ref;
    expect((await (await BookingStore.open(app.tables, clock)).booking(OCC, ama.aadObjectId))?.issueRef).toBe(ref);
    await connector.waitFor(() => told().length > 0, 20_000);
    await app.settled();
    expect(told()).toHaveLength(1);
    expect(JSON.stringify(told()[0]!.body)).toContain(ref);
    // Pressed once more now: already logged, nothing new.
    expect(invokeText((await press()).body)).toContain(`Already logged as ${ref}.`);
    expect((await app.queries.listByReporter(ama.aadObjectId)).items).toHaveLength(1);
    expect(readable(await say(app, ama, 'my issues', where(ama)))).toContain(ref);
  }, 90_000);

  it('names the bringer until it is logged: `forget` lists it and puts the pseudonym in their place; nothing is logged in their name', async () => {
    const kofi: TestUser = { id: '29:kofi-held', aadObjectId: 'aad-kofi-held', name: 'Kofi Held' };
    clock.set('2026-11-30T09:00:00Z');
    await say(app, kofi, 'whoami', where(kofi));
    await execute(app, kofi, 'officehours.book', { occurrenceId: OCC, field: 'question0', question0: 'Why is my district missing?' }, where(kofi));
    clock.set('2026-12-01T13:50:00Z');
    azurite.pause();
    let text: string;
    try {
      text = invokeText((await execute(app, USERS.champion, 'officehours.questionIssue', { occurrenceId: OCC, personId: kofi.aadObjectId, ...fields }, where(USERS.champion))).body);
    } finally {
      azurite.resume();
    }
    expect(text).toContain('kept');
    const asked = JSON.stringify(await say(app, USERS.lead, `forget ${kofi.id}`, where(USERS.lead)));
    expect(asked).toContain('a host asked to log as issues while storage was down');
    const subject = await app.privacy.subjectOf({ id: kofi.aadObjectId });
    const STAND_IN = { id: 'former:9a8b7c6d5e4f3a2b', name: 'Former member 9a8b' };
    for (let i = 0; i < app.personalData.partCount; i++) await app.personalData.forgetPart(i, subject, STAND_IN);
    await app.fileHeldReports();
    await app.settled();
    expect((await app.queries.listByReporter(kofi.aadObjectId)).items).toEqual([]);
    expect((await app.queries.listByReporter(STAND_IN.id)).items).toEqual([]);
  }, 90_000);
});
