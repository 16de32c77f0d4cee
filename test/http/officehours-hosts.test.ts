import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { BookingStore } from '../../src/officehours/bookings.js';
import { execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;

const TRIAGE = '19:triage@thread.tacv2';
const SUPPORT = '19:support@thread.tacv2';
const chatOf = (u: TestUser) => `a:chat-${u.aadObjectId}`;
const where = (u: TestUser, zone = 'Africa/Lusaka') => ({
  ...personalChat(connector.url, u),
  entities: [{ type: 'clientInfo', timezone: zone }],
});
const inChannel = (channel: string) => ({
  serviceUrl: connector.url,
  conversation: { id: `${channel};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
  channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: channel } },
});
const mention = (u: TestUser) => ({ entities: [{ type: 'mention', text: `<at>${u.name}</at>`, mentioned: { id: u.aadObjectId, name: u.name } }] });
const sent = (conversation: string, from = 0) => connector.sentTo(conversation).slice(from).map((c) => JSON.stringify(c.body)).join('\n');

const OCC = 'office-hours|2026-12-01T14:00'; // Tue 1 Dec, 12:00 UTC
const mercy: TestUser = { id: '29:mercy', aadObjectId: 'aad-mercy', name: 'Mercy Phiri' };

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({ ROLLOUT_FILE: 'sample/rollout.yaml', OFFICE_HOURS_FILE: 'sample/office-hours.yaml', GUIDANCE_DIR: 'sample/guidance' }));
  clock.set('2026-11-30T08:00:00Z');
  for (const u of [...Object.values(USERS), mercy]) await say(app, u, 'whoami', where(u));
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', inChannel(TRIAGE));
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup support', inChannel(SUPPORT));
  // Mercy brings a question; staff brings none.
  await execute(app, mercy, 'officehours.book', { occurrenceId: OCC, field: 'question0', question0: 'How do I move last month\'s Excel register into FieldLedger?' }, where(mercy, 'Asia/Kolkata'));
  await execute(app, USERS.staff, 'officehours.book', { occurrenceId: OCC }, where(USERS.staff));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('before the session', () => {
  it('the hosts\' agenda arrives two hours before (to the triage channel: no host has a chat with the bot), then the reminders, each once', async () => {
    const triageFrom = connector.sentTo(TRIAGE).length;
    const supportFrom = connector.sentTo(SUPPORT).length;
    const mercyFrom = connector.sentTo(chatOf(mercy)).length;
    clock.set('2026-12-01T10:00:00Z');
    await app.scheduler.tick();
    await connector.waitFor(() => connector.sentTo(TRIAGE).length > triageFrom);
    const agenda = sent(TRIAGE, triageFrom);
    expect(agenda).toContain('Agenda: FieldLedger office hours');
    expect(agenda).toContain("Mercy Phiri: How do I move last month's Excel register into FieldLedger?");
    expect(agenda).toContain('officehours.questionIssue');
    expect(connector.sentTo(SUPPORT).length).toBe(supportFrom);

    clock.set('2026-12-01T11:00:00Z');
    await app.scheduler.tick();
    await connector.waitFor(() => connector.sentTo(SUPPORT).length > supportFrom && connector.sentTo(chatOf(mercy)).length > mercyFrom);
    expect(sent(SUPPORT, supportFrom)).toContain('**FieldLedger office hours** starts soon: Tue 1 Dec 2026, 14:00–15:30');
    expect(sent(SUPPORT, supportFrom)).toContain('23 of 25 seats left');
    const reminder = sent(chatOf(mercy), mercyFrom);
    expect(reminder).toContain('Reminder: **FieldLedger office hours** starts soon: Tue 1 Dec 2026, 17:30–19:00 (Asia/Kolkata');
    expect(reminder).toContain('Excel register');

    const counts = [TRIAGE, SUPPORT, chatOf(mercy)].map((c) => connector.sentTo(c).length);
    clock.set('2026-12-01T11:30:00Z');
    await app.scheduler.tick();
    await new Promise((r) => setTimeout(r, 200));
    expect([TRIAGE, SUPPORT, chatOf(mercy)].map((c) => connector.sentTo(c).length)).toEqual(counts);
  });
});

describe('after the session, from the agenda card', () => {
  it('staff forging the hosts\' actions are refused and nothing changes', async () => {
    clock.set('2026-12-01T13:40:00Z');
    const forged = await execute(app, USERS.staff, 'officehours.attendance', { occurrenceId: OCC, attended0: USERS.staff.aadObjectId }, where(USERS.staff));
    expect(invokeText(forged.body)).toMatch(/champions and the rollout team/);
    const gap = await execute(app, USERS.staff, 'officehours.questionGap', { occurrenceId: OCC, personId: mercy.aadObjectId }, where(USERS.staff));
    expect(invokeText(gap.body)).toMatch(/champions and the rollout team/);
    expect(readable(await say(app, USERS.staff, 'my issues', where(USERS.staff)))).not.toContain('Excel register');
  });

  it('a host marks who attended; the agenda shows the count', async () => {
    clock.set('2026-12-01T13:40:00Z');
    const res = await execute(
      app,
      USERS.champion,
      'officehours.attendance',
      { occurrenceId: OCC, attended0: mercy.aadObjectId, attended1: '', attended7: 'aad-not-booked' },
      where(USERS.champion),
    );
    const text = invokeText(res.body);
    expect(text).toContain('Attendance saved: 1 of 2 booked attended.');
    expect(text).toContain('1 marked present');
  });

  it('a brought question becomes an issue in the name of who brought it, once', async () => {
    clock.set('2026-12-01T13:45:00Z');
    const res = await execute(
      app,
      USERS.champion,
      'officehours.questionIssue',
      { occurrenceId: OCC, personId: mercy.aadObjectId, index: 0, title0: 'Importing an Excel register', category0: 'Data entry', severity0: 'slows', site0: 'Sefara district' },
      where(USERS.champion),
    );
    const text = invokeText(res.body);
    const ref = /Logged as (R-\d{4}) for Mercy Phiri/.exec(text)?.[1];
    expect(ref).toBeDefined();
    const mine = readable(await say(app, mercy, 'my issues', where(mercy)));
    expect(mine).toContain(ref);
    expect(mine).toContain('Importing an Excel register');
    const again = await execute(app, USERS.champion, 'officehours.questionIssue', { occurrenceId: OCC, personId: mercy.aadObjectId, index: 0, title0: 'x', category0: 'Data entry', severity0: 'slows', site0: 'x' }, where(USERS.champion));
    expect(invokeText(again.body)).toContain(`Already logged as ${ref}.`);
  });

  it('a brought question marked as a guidance gap shows in "gaps"', async () => {
    clock.set('2026-12-01T13:50:00Z');
    const res = await execute(app, USERS.champion, 'officehours.questionGap', { occurrenceId: OCC, personId: mercy.aadObjectId }, where(USERS.champion));
    expect(invokeText(res.body)).toContain('Marked as a gap in the guidance');
    expect(readable(await say(app, USERS.champion, 'gaps', where(USERS.champion)))).toContain('Excel register into FieldLedger');
  });
});

describe('a forget landing while a brought question is logged as an issue', () => {
  const nia: TestUser = { id: '29:nia', aadObjectId: 'aad-nia', name: 'Nia Banda' };
  const STAND_IN = { id: 'former:0a1b2c3d4e5f6a7b', name: 'Former member 0a1b' };

  it('between the issue being logged and the booking taking its reference: the host is told what happened, and neither the issue nor the reference is lost', async () => {
    clock.set('2026-12-01T09:00:00Z');
    await say(app, nia, 'whoami', where(nia));
    await execute(app, nia, 'officehours.book', { occurrenceId: OCC, field: 'question0', question0: 'Why does the visit list show yesterday?' }, where(nia));
    clock.set('2026-12-01T13:55:00Z');
    const store = await BookingStore.open(app.tables, clock);
    const booking = await store.booking(OCC, nia.aadObjectId);
    expect(booking?.question).toContain('visit list');

    // The host's first press logged the issue in Nia's name; its turn ended before the booking took the reference.
    const reporter = { id: nia.aadObjectId, name: nia.name };
    const first = await app.issues.report(
      { person: reporter, reporter: { ...reporter, conversationKey: nia.aadObjectId }, role: 'staff' },
      { title: 'Visit list shows yesterday', description: 'Brought to office hours.', location: 'Office hours', category: 'Data entry', severity: 'slows', site: 'Sefara district' },
      { requestKey: `officehours|${booking!.id}`, checkSimilar: false },
    );
    if (first.kind !== 'logged') throw new Error(first.kind);
    const ref = first.issue.ref;
    // Then Nia asked to be forgotten: the forget's issues part has run, its office-hours part not yet.
    const subject = await app.privacy.subjectOf({ id: nia.aadObjectId });
    expect((await app.personalData.forgetPart(1, subject, STAND_IN)).feature).toBe('issues');

    // The host presses again (or Teams retries the press).
    const fields = { title0: 'Visit list shows yesterday', category0: 'Data entry', severity0: 'slows', site0: 'Sefara district' };
    const res = await execute(app, USERS.champion, 'officehours.questionIssue', { occurrenceId: OCC, personId: nia.aadObjectId, index: 0, ...fields }, where(USERS.champion));
    const text = invokeText(res.body);
    expect(text).not.toMatch(/try again/i);
    expect(text).toContain('asked to be forgotten while it was being logged');
    expect(text).toContain(`logged anonymously as ${ref} (reported by ${STAND_IN.name})`);
    // Nothing lost: one issue, anonymised, and the booking keeps its reference through the rest of the forget.
    expect((await app.repository.get(ref))?.reporter).toMatchObject({ id: STAND_IN.id, name: STAND_IN.name });
    expect((await store.booking(OCC, nia.aadObjectId))?.issueRef).toBe(ref);
    for (let i = 0; i < app.personalData.partCount; i++) await app.personalData.forgetPart(i, subject, STAND_IN);
    expect((await store.booking(OCC, STAND_IN.id))?.issueRef).toBe(ref);
    expect((await app.queries.listByReporter(STAND_IN.id)).items.map((i) => i.ref)).toEqual([ref]);
  });
});

describe('a forget landing within one press that logs a brought question', () => {
  const tiwonge: TestUser = { id: '29:tiwonge', aadObjectId: 'aad-tiwonge', name: 'Tiwonge Zulu' };
  const STAND_IN = { id: 'former:1c2d3e4f5a6b7c8d', name: 'Former member 1c2d' };

  it('the host is told it is logged anonymously under the pseudonym, not "for <name>", and the booking keeps the reference', async () => {
    clock.set('2026-12-01T09:10:00Z');
    await say(app, tiwonge, 'whoami', where(tiwonge));
    await execute(app, tiwonge, 'officehours.book', { occurrenceId: OCC, field: 'question0', question0: 'Why do my tallies reset at midnight?' }, where(tiwonge));
    clock.set('2026-12-01T13:56:00Z');
    const subject = await app.privacy.subjectOf({ id: tiwonge.aadObjectId });
    // The whole forget runs right after the issue is logged, inside the host's press (before the booking takes the reference).
    const report = app.issues.report.bind(app.issues);
    const spy = vi.spyOn(app.issues, 'report').mockImplementationOnce(async (...args) => {
      const outcome = await report(...args);
      for (let i = 0; i < app.personalData.partCount; i++) await app.personalData.forgetPart(i, subject, STAND_IN);
      return outcome;
    });
    let text: string;
    try {
      const fields = { title0: 'Tallies reset at midnight', category0: 'Data entry', severity0: 'slows', site0: 'Sefara district' };
      text = invokeText((await execute(app, USERS.champion, 'officehours.questionIssue', { occurrenceId: OCC, personId: tiwonge.aadObjectId, index: 0, ...fields }, where(USERS.champion))).body);
    } finally {
      spy.mockRestore();
    }
    expect(text).not.toContain(tiwonge.name);
    expect(text).toContain('asked to be forgotten while it was being logged');
    const ref = /logged anonymously as (R-\d{4}) \(reported by Former member 1c2d\)/.exec(text)?.[1];
    expect(ref).toBeDefined();
    expect((await app.repository.get(ref!))?.reporter).toMatchObject({ id: STAND_IN.id });
    const store = await BookingStore.open(app.tables, clock);
    expect((await store.booking(OCC, STAND_IN.id))?.issueRef).toBe(ref);
  });

  it('a forget whose issues part ran before the press created the issue: the issue is anonymised too, as the host is told', async () => {
    const wanjiru: TestUser = { id: '29:wanjiru', aadObjectId: 'aad-wanjiru', name: 'Wanjiru Kamau' };
    const STAND = { id: 'former:5e6f7a8b9c0d1e2f', name: 'Former member 5e6f' };
    clock.set('2026-12-01T09:20:00Z');
    await say(app, wanjiru, 'whoami', where(wanjiru));
    await execute(app, wanjiru, 'officehours.book', { occurrenceId: OCC, field: 'question0', question0: 'Why does the stock sheet double my entries?' }, where(wanjiru));
    clock.set('2026-12-01T13:57:00Z');
    const subject = await app.privacy.subjectOf({ id: wanjiru.aadObjectId });
    // The whole forget runs inside the host's press, after the booking was read and before the issue is created:
    // its issues part finds no issue of hers yet.
    const report = app.issues.report.bind(app.issues);
    const spy = vi.spyOn(app.issues, 'report').mockImplementationOnce(async (...args) => {
      for (let i = 0; i < app.personalData.partCount; i++) await app.personalData.forgetPart(i, subject, STAND);
      return report(...args);
    });
    let text: string;
    try {
      const fields = { title0: 'Stock sheet doubles entries', category0: 'Data entry', severity0: 'slows', site0: 'Sefara district' };
      text = invokeText((await execute(app, USERS.champion, 'officehours.questionIssue', { occurrenceId: OCC, personId: wanjiru.aadObjectId, index: 0, ...fields }, where(USERS.champion))).body);
    } finally {
      spy.mockRestore();
    }
    const ref = /logged anonymously as (R-\d{4}) \(reported by Former member 5e6f\)/.exec(text)?.[1];
    expect(ref).toBeDefined();
    // What the host was told is true of the issue: it names the pseudonym, not her.
    const issue = await app.repository.get(ref!);
    expect(issue?.reporter).toMatchObject({ id: STAND.id, name: STAND.name });
    expect(JSON.stringify(issue)).not.toContain(wanjiru.name);
    expect((await app.queries.listByReporter(wanjiru.aadObjectId)).items).toEqual([]);
  });
});

describe('a large session\'s agenda, a page of people at a time', () => {
  /** The data an Action.Execute of `verb` sends (the first whose title matches), anywhere in a card action's response. */
  const action = (body: unknown, verb: string, title = /./): Record<string, unknown> => {
    let found: Record<string, unknown> | undefined;
    const walk = (n: unknown): void => {
      if (Array.isArray(n)) return n.forEach(walk);
      if (!n || typeof n !== 'object') return;
      const o = n as Record<string, unknown>;
      if (!found && o.type === 'Action.Execute' && o.verb === verb && title.test(String(o.title))) found = o.data as Record<string, unknown>;
      Object.values(o).forEach(walk);
    };
    walk(body);
    if (!found) throw new Error(`no ${verb} button titled ${title} in ${JSON.stringify(body).slice(0, 2000)}`);
    return found;
  };
  /** What pressing "Save attendance" sends with the first `ticked` of the page's people ticked. */
  const save = (body: unknown, ticked: number) => {
    const data = action(body, 'officehours.attendance');
    const shown = data.shown as string[];
    return { ...data, ...Object.fromEntries(shown.map((id, i) => [`attended${i}`, i < ticked ? id : ''])) };
  };
  const id = (n: number) => `aad-attendee-${String(n).padStart(2, '0')}`;
  let occ = '';
  let store: BookingStore;

  beforeAll(async () => {
    clock.set('2026-12-01T14:00:00Z');
    const added = invokeText(
      (
        await execute(app, USERS.lead, 'officehours.add', {
          title: 'Go-live briefing',
          kind: 'office-hours',
          date: '2026-12-02',
          time: '10:00',
          zone: 'Africa/Lusaka',
          minutes: '60',
          capacity: '300',
          joinUrl: 'https://teams.microsoft.com/l/meetup-join/go-live-briefing',
        }, where(USERS.lead))
      ).body,
    );
    occ = `${/\((go-live-briefing-[a-z0-9]+)\)/.exec(added)?.[1]}|2026-12-02T10:00`;
    store = await BookingStore.open(app.tables, clock);
    for (let n = 1; n <= 60; n++) {
      await store.book(occ, 300, { id: id(n), name: `Attendee ${String(n).padStart(2, '0')}` }, { question: '', zone: 'Africa/Lusaka', start: '2026-12-02T08:00:00.000Z' });
    }
    clock.set('2026-12-02T09:30:00Z');
  });

  it('"Next" redraws the agenda with the next page of people, and marking page 2 keeps page 1\'s marks', async () => {
    const first = await execute(app, USERS.champion, 'officehours.agenda', { occurrenceId: occ, page: 0 }, where(USERS.champion));
    expect(invokeText(first.body)).toContain('People 1–25 of 60');
    expect(action(first.body, 'officehours.attendance').shown).toEqual(Array.from({ length: 25 }, (_, i) => id(i + 1)));
    const second = await execute(app, USERS.champion, 'officehours.agenda', action(first.body, 'officehours.agenda', /next/i), where(USERS.champion));
    expect(invokeText(second.body)).toContain('People 26–50 of 60');
    expect(JSON.stringify(second.body)).toContain('"title":"Attendee 26"');
    expect(JSON.stringify(second.body)).not.toContain('"title":"Attendee 25"');

    const page1 = await execute(app, USERS.champion, 'officehours.attendance', save(first.body, 5), where(USERS.champion));
    expect(invokeText(page1.body)).toContain('Attendance saved: 5 of 60 booked attended.');
    const page2 = await execute(app, USERS.champion, 'officehours.attendance', save(second.body, 3), where(USERS.champion));
    expect(invokeText(page2.body)).toContain('Attendance saved: 8 of 60 booked attended.');
    // The redrawn card stays on the page the host was marking.
    expect(invokeText(page2.body)).toContain('People 26–50 of 60');
    expect((await store.booking(occ, id(1)))?.attended).toBe(true);
    expect((await store.booking(occ, id(5)))?.attended).toBe(true);
    expect((await store.booking(occ, id(6)))?.attended).toBe(false);
    expect((await store.booking(occ, id(26)))?.attended).toBe(true);
    expect((await store.booking(occ, id(51)))?.attended).toBeUndefined();
    expect((await store.seatsOf(occ)).attended).toBe(8);
  });

  it('a forged list of people shown changes nothing for those not booked, or not on it; an oversized one is refused', async () => {
    const forged = await execute(
      app,
      USERS.champion,
      'officehours.attendance',
      { occurrenceId: occ, shown: ['aad-not-booked', USERS.staff.aadObjectId], attended0: 'aad-not-booked', attended1: USERS.staff.aadObjectId, attended2: id(55) },
      where(USERS.champion),
    );
    expect(invokeText(forged.body)).toContain('Attendance saved: 8 of 60 booked attended.');
    expect(await store.booking(occ, 'aad-not-booked')).toBeUndefined();
    expect(await store.booking(occ, USERS.staff.aadObjectId)).toBeUndefined();
    expect((await store.booking(occ, id(55)))?.attended).toBeUndefined();

    const all = Array.from({ length: 60 }, (_, i) => id(i + 1));
    const oversized = await execute(app, USERS.champion, 'officehours.attendance', { occurrenceId: occ, shown: all }, where(USERS.champion));
    expect(invokeText(oversized.body)).toMatch(/^That list names 60 people; a page of the agenda has at most 25\. Nothing was saved/);
    expect((await store.seatsOf(occ)).attended).toBe(8);
    expect((await store.booking(occ, id(1)))?.attended).toBe(true);

    // Staff forging the paging button are refused like any host action.
    const staff = await execute(app, USERS.staff, 'officehours.agenda', { occurrenceId: occ, page: 1 }, where(USERS.staff));
    expect(invokeText(staff.body)).toMatch(/champions and the rollout team/);
  });
});

describe('my training', () => {
  it('a member added from Teams sees their group\'s timeline in their zone, books the next session, and sees it booked', async () => {
    clock.set('2026-12-01T08:00:00Z');
    await say(app, USERS.lead, 'group add field-officers <at>Sam Staff</at>', { ...where(USERS.lead), ...mention(USERS.staff) });
    await say(app, USERS.lead, 'group add wave-b <at>Sam Staff</at>', { ...where(USERS.lead), ...mention(USERS.staff) });
    clock.set('2027-01-19T08:00:00Z'); // part 1 (Mon 18 Jan) is over, parts 2 and 3 are ahead
    const timeline = readable(await say(app, USERS.staff, 'my training', where(USERS.staff, 'Europe/London')));
    expect(timeline).toContain('Field officers · Wave B: Sefara, Lumbe, Dhoro (go-live Mon 1 Feb 2027, Africa/Lusaka)');
    expect(timeline).toContain('Missed');
    expect(timeline).toContain('You missed it on Mon 18 Jan 2027, 07:00. Next chance to catch up: Mon 25 Jan 2027, 07:00–09:00.');
    expect(timeline).toContain('Wed 20 Jan 2027, 07:00–09:00.');

    const booked = await execute(app, USERS.staff, 'officehours.book', { occurrenceId: 'fl202-visits-wave-b|2027-01-25T09:00' }, where(USERS.staff, 'Europe/London'));
    expect(invokeText(booked.body)).toContain("You're booked for FL-202 part 1");
    const after = readable(await say(app, USERS.staff, 'my training', where(USERS.staff, 'Europe/London')));
    expect(after).toContain('Your seat: Mon 25 Jan 2027, 07:00–09:00.');

    // Training for another group is not theirs to book.
    const other = await execute(app, USERS.staff, 'officehours.book', { occurrenceId: 'fl201-reporting-wave-b|2027-01-26T09:00' }, where(USERS.staff));
    expect(invokeText(other.body)).toMatch(/for another group of staff/);
  });
});
