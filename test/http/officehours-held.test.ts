import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { BookingStore } from '../../src/officehours/bookings.js';
import { buttonData, execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { answering, PAUSED_STORAGE_OPTIONS, type PausableAzurite, startPausableAzurite } from '../support/pausable-azurite.js';

/*
 * A host turns a brought question into an issue while storage does not answer: the request is kept on this
 * instance's disk (as a report is) and logged once storage is back, the host told its reference then; nothing twice.
 */

let azurite: PausableAzurite;
let app: App;
/** A second instance on the same storage, with its own disk. */
let other: App;
let clock: ManualClock;
let connector: RecordingConnector;

const OCC = 'office-hours|2026-12-01T14:00'; // Tue 1 Dec, 12:00 UTC
const ama: TestUser = { id: '29:ama-held', aadObjectId: 'aad-ama-held', name: 'Ama Mensah' };
/** A second champion, who hosts too (so forgetting them leaves the first). */
const kwame: TestUser = { id: '29:kwame-host', aadObjectId: 'aad-kwame-host', name: 'Kwame Asante' };
const where = (u: TestUser) => personalChat(connector.url, u);
const TRIAGE = '19:triage@thread.tacv2';
const inChannel = (channel: string) => ({
  serviceUrl: connector.url,
  conversation: { id: `${channel};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
  channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: channel } },
});
/** What this instance's disk holds of kept presses, as written. */
const heldOnDisk = async (on: App) => {
  const dir = path.join(on.config.env.DATA_DIR, 'held');
  const files = (await readdir(dir)).filter((f) => f.startsWith('officehours-'));
  return (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).join('');
};
const fields = { index: 0, title0: 'Register import fails', category0: 'Data entry', severity0: 'slows', site0: 'Sefara district' };
const press = () => execute(app, USERS.champion, 'officehours.questionIssue', { occurrenceId: OCC, personId: ama.aadObjectId, ...fields }, where(USERS.champion));

/**
 * `u` books a seat with `question` (on 30 Nov at `bookedAt`), then on 1 Dec at `pressedAt` the host presses "log as
 * issue" on it on `on` while storage does not answer: what the host is told.
 */
async function bringThenPressWhileDown(u: TestUser, question: string, bookedAt: string, pressedAt: string, on: App = app, host: TestUser = USERS.champion): Promise<string> {
  clock.set(`2026-11-30T${bookedAt}:00Z`);
  await say(app, u, 'whoami', where(u));
  await execute(app, u, 'officehours.book', { occurrenceId: OCC, field: 'question0', question0: question }, where(u));
  clock.set(`2026-12-01T${pressedAt}Z`);
  azurite.pause();
  try {
    return invokeText((await execute(on, host, 'officehours.questionIssue', { occurrenceId: OCC, personId: u.aadObjectId, ...fields }, where(host))).body);
  } finally {
    azurite.resume();
    await answering(app, other);
  }
}

beforeAll(async () => {
  azurite = await startPausableAzurite();
  connector = await new RecordingConnector().start();
  // The timer that files held work is pushed out: the test files it itself, after looking at what the host saw.
  const env = {
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
    TABLE_PREFIX: `t${randomBytes(4).toString('hex')}`,
    ROLLOUT_FILE: 'sample/rollout.yaml',
    OFFICE_HOURS_FILE: 'sample/office-hours.yaml',
    GUIDANCE_DIR: 'sample/guidance',
    CHAMPION_IDS: `${USERS.champion.aadObjectId},${kwame.aadObjectId}`,
  };
  ({ app, clock } = await startTestApp(env, undefined, undefined, { heldRetryMs: 3_600_000, ...PAUSED_STORAGE_OPTIONS }));
  ({ app: other } = await startTestApp(env, clock, undefined, { heldRetryMs: 3_600_000, ...PAUSED_STORAGE_OPTIONS }));
  clock.set('2026-11-30T08:00:00Z');
  for (const u of [USERS.champion, USERS.lead, ama, kwame]) await say(app, u, 'whoami', where(u));
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', inChannel(TRIAGE));
  await execute(app, ama, 'officehours.book', { occurrenceId: OCC, field: 'question0', question0: 'Why does my Excel register not import?' }, where(ama));
  clock.set('2026-12-01T13:45:00Z');
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await other?.stop();
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
    await answering(app, other);
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
    expect(await bringThenPressWhileDown(kofi, 'Why is my district missing?', '09:00', '13:50:00')).toContain('kept');
    const asked = JSON.stringify(await say(app, USERS.lead, `forget ${kofi.id}`, where(USERS.lead)));
    expect(asked).toContain('a host asked to log as issues while storage was down');
    const subject = await app.privacy.subjectOf({ id: kofi.aadObjectId });
    const STAND_IN = { id: 'former:9a8b7c6d5e4f3a2b', name: 'Former member 9a8b' };
    for (let i = 0; i < app.personalData.partCount; i++) await app.personalData.forgetPart(i, subject, STAND_IN);
    await app.fileHeldReports();
    await app.settled();
    expect((await app.queries.listByReporter(kofi.aadObjectId)).items).toEqual([]);
    // Pressed before the forget: the organisation's record, logged under the pseudonym — without their words.
    const logged = (await app.queries.listByReporter(STAND_IN.id)).items;
    expect(logged.map((i) => i.title)).toEqual([fields.title0]);
    const issue = JSON.stringify(await app.repository.get(logged[0]!.ref));
    expect(issue).not.toContain('Why is my district missing?');
    expect(issue).not.toContain(kofi.name);
  }, 90_000);

  it('is kept on disk under a key that names nobody: after `forget`, nothing on the disk names the bringer', async () => {
    const yaw: TestUser = { id: '29:yaw-held', aadObjectId: 'aad-yaw-held', name: 'Yaw Boateng' };
    expect(await bringThenPressWhileDown(yaw, 'Why are my visit dates a day off?', '09:30', '13:51:00')).toContain('kept');
    expect(await heldOnDisk(app)).toContain(yaw.aadObjectId);
    const subject = await app.privacy.subjectOf({ id: yaw.aadObjectId });
    const STAND_IN = { id: 'former:0a1b2c3d4e5f6a7b', name: 'Former member 0a1b' };
    for (let i = 0; i < app.personalData.partCount; i++) await app.personalData.forgetPart(i, subject, STAND_IN);
    const disk = await heldOnDisk(app);
    expect(disk).toContain(STAND_IN.id); // still kept, under the pseudonym
    expect(disk).not.toContain(yaw.aadObjectId);
    await app.fileHeldReports();
    await app.settled();
  }, 90_000);

  it('a forget while its press is being logged waits for it: when the forget ends, the issue exists and names only the pseudonym', async () => {
    const abena: TestUser = { id: '29:abena-held', aadObjectId: 'aad-abena-held', name: 'Abena Darko' };
    expect(await bringThenPressWhileDown(abena, 'Why does my tally sheet lose the last row?', '09:45', '13:51:30')).toContain('kept');
    const subject = await app.privacy.subjectOf({ id: abena.aadObjectId });
    const STAND_IN = { id: 'former:7b8c9d0e1f2a3b4c', name: 'Former member 7b8c' };
    // The drain has read the booking and is about to log when the forget starts; it logs (slowly) once the forget's
    // issues part has looked and found nothing.
    let inReport!: () => void;
    const reached = new Promise<void>((resolve) => (inReport = resolve));
    let issuesLooked!: () => void;
    const looked = new Promise<void>((resolve) => (issuesLooked = resolve));
    const report = app.issues.report.bind(app.issues);
    const spy = vi.spyOn(app.issues, 'report').mockImplementationOnce(async (...args) => {
      inReport();
      await looked;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      return report(...args);
    });
    try {
      const draining = app.fileHeldReports();
      await reached;
      for (let i = 0; i < app.personalData.partCount; i++) {
        const part = await app.personalData.forgetPart(i, subject, STAND_IN);
        if (part.feature === 'issues') issuesLooked();
      }
      // The forget has ended: what it leaves is what the organisation keeps.
      expect((await app.queries.listByReporter(abena.aadObjectId)).items).toEqual([]);
      expect((await app.queries.listByReporter(STAND_IN.id)).items.map((i) => i.title)).toEqual([fields.title0]);
      await draining;
    } finally {
      spy.mockRestore();
    }
    await app.settled();
  }, 90_000);

  it('a host forgotten on one instance while their press is kept on another instance\'s disk: logged naming their pseudonym, and they are told nothing', async () => {
    const esi: TestUser = { id: '29:esi-held', aadObjectId: 'aad-esi-held', name: 'Esi Owusu' };
    const host = USERS.champion;
    // Pressed on the other instance: kept on its disk, out of reach of a forget run on the first.
    expect(await bringThenPressWhileDown(esi, 'Why does the monthly report miss my clinic?', '10:00', '13:52:00', other)).toContain('kept');

    const asked = await say(app, USERS.lead, `forget ${host.id}`, where(USERS.lead));
    const done = await execute(app, USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), { ...where(USERS.lead), replyToId: 'card-held-host' });
    expect(invokeText(done.body)).toContain('is forgotten');
    const pseudonym = /appear as (Former member [0-9a-f]{4})/.exec(invokeText(done.body))?.[1] ?? '';
    expect(pseudonym).not.toBe('');

    const hostChat = where(host).conversation.id;
    const toHost = connector.sentTo(hostChat).length;
    const toTriage = connector.sentTo(TRIAGE).length;
    await other.fileHeldReports();
    await other.settled();
    const logged = (await other.queries.listByReporter(esi.aadObjectId)).items;
    expect(logged).toHaveLength(1);
    const issue = await other.repository.get(logged[0]!.ref);
    expect(issue?.description).toContain(`logged by ${pseudonym}`);
    expect(JSON.stringify(issue)).not.toContain(host.name);
    // Nothing about it reaches the forgotten host: not 1:1, not in the triage channel under their name.
    expect(JSON.stringify(connector.sentTo(hostChat).slice(toHost))).not.toContain('brought question');
    expect(JSON.stringify(connector.sentTo(TRIAGE).slice(toTriage))).not.toContain(host.name);
  }, 90_000);

  it('a bringer forgotten on one instance while the press is kept on another instance\'s disk: logged under their pseudonym, not dropped', async () => {
    const kojo: TestUser = { id: '29:kojo-held', aadObjectId: 'aad-kojo-held', name: 'Kojo Mensah' };
    expect(await bringThenPressWhileDown(kojo, 'Why does the clinic list repeat?', '10:30', '13:53:00', other, kwame)).toContain('kept');
    const asked = await say(app, USERS.lead, `forget ${kojo.id}`, where(USERS.lead));
    const done = await execute(app, USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), { ...where(USERS.lead), replyToId: 'card-held-bringer' });
    expect(invokeText(done.body)).toContain('is forgotten');
    const pseudonym = /appear as (Former member [0-9a-f]{4})/.exec(invokeText(done.body))?.[1] ?? '';
    expect(pseudonym).not.toBe('');

    const hostChat = where(kwame).conversation.id;
    const toHost = connector.sentTo(hostChat).length;
    await other.fileHeldReports();
    await other.settled();
    expect((await other.queries.listByReporter(kojo.aadObjectId)).items).toEqual([]);
    const booking = (await (await BookingStore.open(other.tables, clock)).bookings(OCC)).find((b) => b.name === pseudonym);
    expect(booking?.issueRef).toMatch(/^R-\d{4}$/);
    const issue = await other.repository.get(booking!.issueRef!);
    expect(issue).toMatchObject({ title: fields.title0, reporter: { name: pseudonym } });
    expect(JSON.stringify(issue)).not.toContain(kojo.name);
    expect(JSON.stringify(issue)).not.toContain('Why does the clinic list repeat?');
    // The host hears it was logged, anonymously.
    await connector.waitFor(() => connector.sentTo(hostChat).length > toHost, 20_000);
    expect(JSON.stringify(connector.sentTo(hostChat).slice(toHost))).toContain(`logged anonymously as ${issue!.ref}`);
  }, 90_000);

  it('a bringer whose forget on one instance has recorded them but not yet moved their booking: the press kept on another instance is logged under their pseudonym, not dropped', async () => {
    const yaw: TestUser = { id: '29:yaw-held', aadObjectId: 'aad-yaw-held', name: 'Yaw Boateng' };
    expect(await bringThenPressWhileDown(yaw, 'Why does the stock count double?', '10:45', '13:53:30', other, kwame)).toContain('kept');
    // The forget is half done: its first part recorded it (PrivacyForgotten), the office-hours part has not run yet.
    const subject = await app.privacy.subjectOf({ id: yaw.aadObjectId });
    const STAND_IN = { id: 'former:7a8b9c0d1e2f3a4b', name: 'Former member 7a8b' };
    await app.personalData.forgetPart(0, subject, STAND_IN);
    const bookings = await BookingStore.open(other.tables, clock);
    expect((await bookings.booking(OCC, yaw.aadObjectId))?.name).toBe(yaw.name);

    await other.fileHeldReports();
    await other.settled();
    const logged = (await other.queries.listByReporter(STAND_IN.id)).items;
    expect(logged.map((i) => i.title)).toEqual([fields.title0]);
    const issue = await other.repository.get(logged[0]!.ref);
    expect(issue?.reporter.name).toBe(STAND_IN.name);
    expect(JSON.stringify(issue)).not.toContain(yaw.name);
    expect(JSON.stringify(issue)).not.toContain('Why does the stock count double?');
    expect(await heldOnDisk(other)).not.toContain(yaw.aadObjectId);

    // The rest of the forget moves the booking, with its reference: pressing again logs nothing twice.
    for (let i = 1; i < app.personalData.partCount; i++) await app.personalData.forgetPart(i, subject, STAND_IN);
    expect((await bookings.booking(OCC, STAND_IN.id))?.issueRef).toBe(logged[0]!.ref);
    expect(await bookings.booking(OCC, yaw.aadObjectId)).toBeUndefined();
    expect((await other.queries.listByReporter(STAND_IN.id)).items).toHaveLength(1);
  }, 90_000);

  it('a host forgotten after their kept press was logged: the issue names their pseudonym as who logged it, in its description too', async () => {
    const efua: TestUser = { id: '29:efua-held', aadObjectId: 'aad-efua-held', name: 'Efua Sarpong' };
    expect(await bringThenPressWhileDown(efua, 'Why do my household visits vanish?', '10:15', '13:52:30', app, kwame)).toContain('kept');
    await app.fileHeldReports();
    await app.settled();
    const ref = (await app.queries.listByReporter(efua.aadObjectId)).items[0]?.ref ?? '';
    expect((await app.repository.get(ref))?.description).toContain(`logged by ${kwame.name}.`);

    const subject = await app.privacy.subjectOf({ id: kwame.aadObjectId });
    const STAND_IN = { id: 'former:1c2d3e4f5a6b7c8d', name: 'Former member 1c2d' };
    for (let i = 0; i < app.personalData.partCount; i++) await app.personalData.forgetPart(i, subject, STAND_IN);
    const issue = await app.repository.get(ref);
    expect(issue?.description).toContain(`logged by ${STAND_IN.name}.`);
    expect(JSON.stringify(issue)).not.toContain(kwame.name);
    expect(JSON.stringify(issue)).not.toContain(kwame.aadObjectId);
    // The bringer's part stays theirs.
    expect(issue?.reporter.name).toBe(efua.name);
    expect(issue?.description).toContain('Why do my household visits vanish?');
  }, 90_000);

  it('a host forgotten who logged brought questions before issues named who logged them: their name leaves the description, a namesake\'s issue elsewhere stays', async () => {
    // As the office-hours press wrote them before: the "created" line names the reporter, only the description the host.
    const host = { id: 'aad-kofi-host', name: 'Kofi Ansah' };
    const reporter = { id: 'aad-abena-old', name: 'Abena Osei' };
    const oldShape = (description: string, location = 'Office hours') => ({
      title: 'Printing the register fails',
      description,
      location,
      category: app.repository.config.categories[0]!,
      severity: 'slows',
      site: 'Sefara district',
    });
    const brought = `Why does printing fail?\n\nBrought to Office hours on Tue 1 Dec 12:00 (Africa/Accra); logged by ${host.name}.`;
    const logged = await app.repository.logIssue(oldShape(brought), reporter);
    const elsewhere = await app.repository.logIssue(oldShape(`My notes say; logged by ${host.name}.`, 'Login screen'), reporter);
    const byOther = await app.repository.logIssue(oldShape(brought.replace(host.name, 'Ama Boateng')), reporter);
    if (logged.kind !== 'created' || elsewhere.kind !== 'created' || byOther.kind !== 'created') throw new Error('not logged');
    expect(logged.issue.history[0]?.by.id).toBe(reporter.id);

    const subject = await app.privacy.subjectOf(host);
    const STAND_IN = { id: 'former:5e6f7a8b9c0d1e2f', name: 'Former member 5e6f' };
    for (let i = 0; i < app.personalData.partCount; i++) await app.personalData.forgetPart(i, subject, STAND_IN);
    const after = await app.repository.get(logged.issue.ref);
    expect(after?.description).toBe(brought.replace(`logged by ${host.name}.`, `logged by ${STAND_IN.name}.`));
    expect(JSON.stringify(after)).not.toContain(host.name);
    expect(after?.reporter.name).toBe(reporter.name);
    expect(after?.version).toBe(logged.issue.version + 1);
    // Not an office-hours issue, or logged by someone else: untouched.
    expect(await app.repository.get(elsewhere.issue.ref)).toEqual(elsewhere.issue);
    expect(await app.repository.get(byOther.issue.ref)).toEqual(byOther.issue);
  }, 90_000);
});
