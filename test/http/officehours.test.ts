import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { BookingStore } from '../../src/officehours/bookings.js';
import { CARD_BUDGET_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { execute, invokeText, personalChat, type Reply, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { parseIcsEvent } from '../support/ics.js';
import { tempDir } from '../support/tempdir.js';
import { until } from '../support/until.js';

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;

const TRIAGE = '19:triage@thread.tacv2';
const SUPPORT = '19:support@thread.tacv2';
const MONDAY = '2026-11-30T08:00:00Z'; // office hours next meet Tue 1 Dec, 14:00 Africa/Lusaka (12:00 UTC)
const chatOf = (u: TestUser) => `a:chat-${u.aadObjectId}`;
const inZone = (zone?: string) => (zone ? { entities: [{ type: 'clientInfo', locale: 'en-US', timezone: zone }] } : { entities: [] });
const where = (u: TestUser, zone?: string) => ({
  ...personalChat(connector.url, u),
  ...inZone(zone),
});
const person = (name: string): TestUser => {
  const key = name.toLowerCase().replace(/\W+/g, '-');
  return { id: `29:${key}`, aadObjectId: `aad-${key}`, name };
};
const inChannel = (channel: string) => ({
  serviceUrl: connector.url,
  conversation: { id: `${channel};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
  channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: channel } },
});

const book = (u: TestUser, occurrenceId: string, question = '', zone?: string) =>
  execute(app, u, 'officehours.book', { occurrenceId, field: 'question0', question0: question }, where(u, zone));
/** The rollout team's add form sent (in the programme's zone unless `form` says otherwise): the reply's text. */
const addAsLead = async (form: Record<string, string>) =>
  invokeText((await execute(app, USERS.lead, 'officehours.add', { zone: 'Africa/Lusaka', ...form }, where(USERS.lead))).body);
const calendarLink = (text: string) => /"url":"(http[^"]+\/calendar\/[^"]+)"/.exec(text)?.[1] ?? '';
const sentText = (u: TestUser, from = 0) => connector.sentTo(chatOf(u)).slice(from).map((c) => JSON.stringify(c.body)).join('\n');

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({ ROLLOUT_FILE: 'sample/rollout.yaml', OFFICE_HOURS_FILE: 'sample/office-hours.yaml', GUIDANCE_DIR: 'sample/guidance' }));
  clock.set(MONDAY);
  for (const u of Object.values(USERS)) await say(app, u, 'whoami', where(u));
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', inChannel(TRIAGE));
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup support', inChannel(SUPPORT));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('office hours in each person\'s own time zone', () => {
  it('shows the next sessions in the zone Teams gives, named; else in programme time, saying why', async () => {
    clock.set(MONDAY);
    const kolkata = readable(await say(app, USERS.staff, 'office hours', inZone('Asia/Kolkata')));
    expect(kolkata).toContain('Times in your time zone, Asia/Kolkata');
    expect(kolkata).toContain('FieldLedger office hours');
    expect(kolkata).toContain('Tue 1 Dec 2026, 17:30–19:00');
    expect(kolkata).toMatch(/\d+ of 25 seats left/);
    expect(kolkata).toContain('Kwame Asante, Grace Mwansa');
    const unknown = readable(await say(app, USERS.staff, 'office hours', inZone()));
    expect(unknown).toContain('Tue 1 Dec 2026, 14:00–15:30');
    expect(unknown).toMatch(/Africa\/Lusaka.*programme time: Teams did not tell me your time zone/);
  });

  it('answers "when are office hours?" from the live schedule, not the guidance page', async () => {
    clock.set(MONDAY);
    const text = readable(await say(app, USERS.staff, 'When are the next office hours?', inZone('America/New_York')));
    expect(text).toContain('Next office hours (from the live schedule)');
    expect(text).toContain('Tue 1 Dec 2026, 07:00–08:30');
    expect(text).not.toContain('Source:');
  });
});

describe('the list of sessions, a page at a time', () => {
  const ids = (card: unknown) => [...JSON.stringify(card).matchAll(/"occurrenceId":"([^"]+)"/g)].map((m) => m[1]);
  /** The data the card's button titled `title` sends ("Later sessions", "Earlier sessions"). */
  const pressed = (card: unknown, title: string): Record<string, unknown> => {
    const actions = (Array.isArray(card) ? card.flatMap((r: Reply) => r.attachments ?? []).map((a) => a.content) : [card]).flatMap(
      (c) => ((c as { actions?: { title?: string; data?: Record<string, unknown> }[] }).actions ?? []),
    );
    const found = actions.find((a) => a.title === title)?.data;
    if (!found) throw new Error(`no "${title}" on the card`);
    return found;
  };

  it('shows five with "Later sessions"; the next page goes on where it stopped; a page past the end shows the last', async () => {
    clock.set(MONDAY);
    const pia = person('Pia Pager');
    await say(app, pia, 'whoami', where(pia));
    const first = await say(app, pia, 'office hours', where(pia));
    const total = Number(/Sessions 1–5 of (\d+) in the next four weeks/.exec(readable(first))?.[1]);
    expect(total).toBeGreaterThan(5);
    expect(JSON.stringify(first)).toContain('"title":"Later sessions"');
    expect(JSON.stringify(first)).not.toContain('Earlier sessions');

    // A card from before cursors sent its page number: it still gets the page it meant.
    const second = await execute(app, pia, 'officehours.show', { page: 1 }, where(pia));
    expect(invokeText(second.body)).toContain(`Sessions 6–${Math.min(10, total)} of ${total} in the next four weeks`);
    expect(JSON.stringify(second.body)).toContain('"title":"Earlier sessions"');
    const onFirst = new Set(ids(first));
    expect(ids(second.body).length).toBeGreaterThan(0);
    expect(ids(second.body).filter((id) => onFirst.has(id))).toEqual([]);

    const far = await execute(app, pia, 'officehours.show', { page: 99 }, where(pia));
    expect(invokeText(far.body)).toMatch(new RegExp(`Sessions \\d+–${total} of ${total} in the next four weeks`));
    expect(JSON.stringify(far.body)).not.toContain('Later sessions');
    // However far past the end (a busy schedule's page 101, or a forged number): the last page, not the first.
    for (const page of [101, 1e9]) {
      const beyond = await execute(app, pia, 'officehours.show', { page }, where(pia));
      expect(invokeText(beyond.body)).toMatch(new RegExp(`Sessions \\d+–${total} of ${total} in the next four weeks`));
    }
  });

  it('a session cancelled between two presses of "Later sessions" makes nobody skip one: the next page starts right after the last shown', async () => {
    clock.set(MONDAY);
    const quin = person('Quin Cursor');
    await say(app, quin, 'whoami', where(quin));
    const first = await say(app, quin, 'office hours', where(quin));
    const shown = ids(first);
    expect(shown).toContain('deadline-clinic|2026-12-05T08:00');
    const later = pressed(first, 'Later sessions');
    // Before the press, the rollout team cancels one of the sessions the card shows.
    expect(readable(await say(app, USERS.lead, 'office hours cancel 2026-12-05', where(USERS.lead)))).toMatch(/^Cancelled: K-05 deadline clinic/);
    const second = await execute(app, quin, 'officehours.show', later, where(quin));
    expect(ids(second.body)[0]).toBe('office-hours|2026-12-10T14:00');
    expect(ids(second.body).filter((id) => shown.includes(id))).toEqual([]);
    // And back: "Earlier sessions" shows those before the first one of this page, the cancelled one gone.
    const earlier = await execute(app, quin, 'officehours.show', pressed(second.body.value, 'Earlier sessions'), where(quin));
    expect(ids(earlier.body).at(-1)).toBe('office-hours|2026-12-08T14:00');
    expect(ids(earlier.body)).not.toContain('deadline-clinic|2026-12-05T08:00');
  });
});

describe('booking a seat', () => {
  it('books with a question; the .ics behind the signed link parses back with the start in UTC and a stable UID', async () => {
    clock.set(MONDAY);
    const amina = person('Amina Booker');
    await say(app, amina, 'whoami', where(amina));
    const res = await book(amina, 'office-hours|2026-12-01T14:00', 'The submit button is greyed out on the K-05', 'Asia/Kolkata');
    const card = invokeText(res.body);
    expect(card).toContain("You're booked for FieldLedger office hours");
    expect(card).toContain('Tue 1 Dec 2026, 17:30–19:00');
    expect(card).toMatch(/B-[0-9A-Z]{8}/);
    const link = calendarLink(JSON.stringify(res.body));
    expect(link).toMatch(/\/calendar\/B-[0-9A-Z]{8}\.\d+\.[\w-]{43}$/);

    const ics = await fetch(link);
    expect(ics.status).toBe(200);
    expect(ics.headers.get('content-type')).toContain('text/calendar');
    const event = parseIcsEvent(await ics.text());
    expect(event.startDate.toJSDate().toISOString()).toBe('2026-12-01T12:00:00.000Z');
    expect(event.endDate.toJSDate().toISOString()).toBe('2026-12-01T13:30:00.000Z');
    expect(event.startDate.zone?.tzid).toBe('Africa/Lusaka');
    expect(event.uid).toBe('office-hours-20261201T1400@rollout-desk');
    expect(event.description).toContain('teams.microsoft.com/l/meetup-join');
    expect(event.description).toContain('The submit button is greyed out on the K-05');

    // Nobody reads someone else's invite: a changed signature, or another booking id, is refused.
    const forged = link.replace(/\.([\w-])([\w-]{42})$/, (_m, first: string, rest: string) => `.${first === 'A' ? 'B' : 'A'}${rest}`);
    expect((await fetch(forged)).status).toBe(404);
    expect((await fetch(link.replace(/B-[0-9A-Z]{8}/, 'B-00000000'))).status).toBe(404);

    // Booking again keeps the one seat.
    expect(invokeText((await book(amina, 'office-hours|2026-12-01T14:00', 'again')).body)).toContain('You already have a seat');
    expect((await app.officeHours.current()).sessions.length).toBeGreaterThan(0);
  });

  it('a calendar download that cannot be recorded (storage busy) asks, in words, to open the link again, rather than a bare 500', async () => {
    // Two weeks before: sessions are booked from the four-week list.
    clock.set('2027-02-22T08:00:00Z');
    const kim = person('Kim Busy');
    // Moved in the schedule file and nobody told yet: served unrecorded, a later change might not replace it.
    const link = calendarLink(JSON.stringify((await book(kim, 'office-hours|2027-03-09T14:00')).body));
    const record = BookingStore.prototype.recordIssued;
    BookingStore.prototype.recordIssued = async () => {
      throw Object.assign(new Error('the server is busy'), { statusCode: 503 });
    };
    try {
      const busy = await fetch(link);
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('30');
      expect(await busy.json()).toEqual({ error: 'Unavailable', message: 'your calendar file could not be prepared just now; open the link again in a minute' });
    } finally {
      BookingStore.prototype.recordIssued = record;
    }
    expect((await fetch(link)).status).toBe(200);
  });

  it('a calendar link stops working after it expires', async () => {
    clock.set(MONDAY);
    const ben = person('Ben Expiry');
    const res = await book(ben, 'office-hours|2026-12-03T14:00');
    const link = calendarLink(JSON.stringify(res.body));
    expect((await fetch(link)).status).toBe(200);
    clock.set('2026-12-05T08:00:00Z'); // the link lasts until a day after the session
    expect((await fetch(link)).status).toBe(404);
    clock.set(MONDAY);
  });

  it('a cancelled, past or unknown session gets a clear message, and nothing is booked', async () => {
    // A week on: the next one with seats (29 Dec) is in the four-week list, which the hint stays within.
    clock.set('2026-12-07T08:00:00Z');
    const cara = person('Cara Late');
    const cancelled = invokeText((await book(cara, 'office-hours|2026-12-24T14:00')).body);
    expect(cancelled).toMatch(/^This session was cancelled \(Christmas Eve \(public holiday\)\)\. The next one with seats: Tue 29 Dec 2026/);
    expect(invokeText((await book(cara, 'office-hours|2026-11-26T14:00')).body)).toMatch(/^This session is over\./);
    expect(invokeText((await book(cara, 'office-hours|2026-12-02T14:00')).body)).toMatch(/could not find that session/);
    expect(invokeText((await book(cara, 'no such thing')).body)).toMatch(/could not find that session/);
    // A card's id with a day or hour that does not exist (forged, or mangled on the way): not an error on our side.
    for (const id of ['office-hours|2026-02-30T14:00', 'office-hours|2026-12-01T25:00']) {
      expect(invokeText((await book(cara, id)).body)).toMatch(/could not find that session/);
      const cancel = await execute(app, cara, 'officehours.cancel', { occurrenceId: id }, where(cara));
      expect(invokeText(cancel.body)).toMatch(/could not find that session/);
    }
    expect(readable(await say(app, cara, 'office hours', where(cara)))).not.toContain("You're booked");
  });

  it('a question with a direction override or line breaks is kept on one line, so it cannot reverse or break the lines quoting it', async () => {
    clock.set(MONDAY);
    const ola = person('Ola Override');
    await say(app, ola, 'whoami', where(ola));
    // U+202E would turn the rest of "bringing: …" (and the reminder's join link and booking id after it) right to left.
    const card = JSON.stringify((await book(ola, 'office-hours|2026-12-08T14:00', '\u202eK-05 greyed out\nsince Monday\u2066')).body);
    expect(card).toContain('bringing: K-05 greyed out since Monday');
    expect(card).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    // Nothing visible at all is no question.
    const pat = person('Pat Blank');
    const blank = JSON.stringify((await book(pat, 'office-hours|2026-12-08T14:00', '\u200b \u2060')).body);
    expect(blank).toContain("You're booked");
    expect(blank).not.toContain('bringing:');
  });

  it('an over-long question is refused with the limit, and nothing is booked', async () => {
    clock.set(MONDAY);
    const dan = person('Dan Long');
    const text = invokeText((await book(dan, 'office-hours|2026-12-08T14:00', 'x'.repeat(501))).body);
    expect(text).toBe('Your question can be at most 500 characters (this one has 501). Shorten it and press Book again.');
    expect(readable(await say(app, dan, 'office hours', where(dan)))).not.toContain("You're booked");
  });

  it('a full session says so and points to the next one with seats', async () => {
    clock.set(MONDAY);
    const message = await addAsLead({
      title: 'Tablet clinic',
      kind: 'office-hours',
      date: '2026-12-02',
      time: '10:00',
      minutes: '45',
      capacity: '1',
      repeat: 'weekly',
      until: '2026-12-16',
      joinUrl: 'https://teams.microsoft.com/l/meetup-join/tablet-clinic',
    });
    expect(message).toMatch(/^Added Tablet clinic \((tablet-clinic-[a-z0-9]+)\): first on 2026-12-02 08:00 UTC/);
    const id = /\((tablet-clinic-[a-z0-9]+)\)/.exec(message)?.[1] ?? '';
    expect(invokeText((await book(person('Eve First'), `${id}|2026-12-02T10:00`)).body)).toContain("You're booked");
    const full = invokeText((await book(person('Fay Second'), `${id}|2026-12-02T10:00`)).body);
    expect(full).toMatch(/^Sorry, that session is full \(1 seat\)\. The next one with seats: Wed 9 Dec 2026, 10:00–10:45 \(Africa\/Lusaka/);
  });

  it('the rollout team adding a training session is told staff see it with `my training`: "office hours" lists no training', async () => {
    clock.set(MONDAY);
    const message = await addAsLead({
      title: 'Tablet basics',
      kind: 'training',
      group: 'field-officers',
      date: '2026-12-03',
      time: '10:00',
      capacity: '10',
      joinUrl: 'https://teams.microsoft.com/l/meetup-join/tablet-basics',
    });
    expect(message).toMatch(/^Added Tablet basics \(tablet-basics-[a-z0-9]+\): first on 2026-12-03 08:00 UTC\. Staff see it with "my training"\.$/);
  });

  it('a cancelled seat goes back to the pool', async () => {
    clock.set(MONDAY);
    const gil = person('Gil Cancel');
    await book(gil, 'office-hours|2026-12-10T14:00');
    const before = await BookingStore.open(app.tables, clock);
    expect((await before.seatsOf('office-hours|2026-12-10T14:00')).booked).toBe(1);
    const res = await execute(app, gil, 'officehours.cancel', { occurrenceId: 'office-hours|2026-12-10T14:00' }, where(gil));
    expect(invokeText(res.body)).toContain('Your seat at FieldLedger office hours on Thu 10 Dec 2026, 14:00–15:30 is cancelled');
    expect((await before.seatsOf('office-hours|2026-12-10T14:00')).booked).toBe(0);
    // The card offers the cancel for their calendar: the entry goes from it too.
    const remove = /"title":"Remove it from your calendar \(\.ics\)","url":"(http[^"]+\/calendar\/[^"]+)"/.exec(JSON.stringify(res.body))?.[1];
    expect(remove).toBeDefined();
    const ics = await (await fetch(remove ?? '')).text();
    expect(ics).toContain('METHOD:CANCEL');
    expect(ics).toContain('STATUS:CANCELLED');
    expect(ics).toMatch(/SEQUENCE:1\r\n/);
  });
  it('"Cancel my seat" on a session the rollout team cancelled says the session is off, not that the seat goes to someone else', async () => {
    clock.set('2027-01-04T08:00:00Z');
    const uma = person('Uma Void');
    await say(app, uma, 'whoami', where(uma));
    expect(invokeText((await book(uma, 'office-hours|2027-01-21T14:00')).body)).toContain("You're booked");
    expect(readable(await say(app, USERS.lead, 'office hours cancel 2027-01-21 office-hours Staff day', where(USERS.lead)))).toMatch(/^Cancelled: /);
    const res = await execute(app, uma, 'officehours.cancel', { occurrenceId: 'office-hours|2027-01-21T14:00' }, where(uma));
    const text = invokeText(res.body);
    expect(text).toContain('FieldLedger office hours on Thu 21 Jan 2027, 14:00–15:30 was cancelled (Staff day)');
    expect(text).not.toContain('offered to someone else');
    // The calendar entry can still be taken out.
    expect(JSON.stringify(res.body)).toContain('Remove it from your calendar (.ics)');
  });
});

describe('the rollout team changes the schedule from Teams', () => {
  it('staff typing "office hours add" or forging its card action are refused, and nothing is added', async () => {
    const before = (await app.officeHours.current()).sessions.length;
    expect(readable(await say(app, USERS.staff, 'office hours add', where(USERS.staff)))).toMatch(/rollout team only/);
    const forged = await execute(app, USERS.staff, 'officehours.add', {
      title: 'Fake',
      date: '2026-12-02',
      time: '10:00',
      capacity: '5',
      joinUrl: 'https://teams.microsoft.com/l/x',
    }, where(USERS.staff));
    expect(invokeText(forged.body)).toMatch(/rollout team only/);
    expect(readable(await say(app, USERS.champion, 'office hours cancel 2026-12-15', where(USERS.champion)))).toMatch(/rollout team only/);
    expect((await app.officeHours.current()).sessions.length).toBe(before);
    expect((await app.officeHours.find('office-hours|2026-12-15T14:00'))?.status).toBe('scheduled');
  });

  it('"Add" pressed twice on the same form adds the session once', async () => {
    clock.set(MONDAY);
    const form = {
      title: 'Sync clinic',
      kind: 'office-hours',
      date: '2026-12-03',
      time: '09:00',
      capacity: '8',
      joinUrl: 'https://teams.microsoft.com/l/meetup-join/sync-clinic',
    };
    const before = (await app.officeHours.current()).sessions.length;
    const onCard = { ...where(USERS.lead), replyToId: 'add-form-card-1' };
    const first = invokeText((await execute(app, USERS.lead, 'officehours.add', form, onCard)).body);
    expect(first).toMatch(/^Added Sync clinic \(sync-clinic-[a-z0-9]+\)/);
    clock.set('2026-11-30T08:00:01Z'); // a double click: a second invoke, a moment later
    const second = invokeText((await execute(app, USERS.lead, 'officehours.add', form, onCard)).body);
    expect(second).toMatch(/^Sync clinic \(sync-clinic-[a-z0-9]+\) was already added from this form; it was not added again\.$/);
    const added = (await app.officeHours.current()).sessions.filter((s) => s.title === 'Sync clinic');
    expect(added).toHaveLength(1);
    expect((await app.officeHours.current()).sessions.length).toBe(before + 1);
    clock.set(MONDAY);
  });

  it('the add form says what is wrong and keeps what was typed', async () => {
    const res = await execute(app, USERS.lead, 'officehours.add', {
      title: 'Sandbox walkthrough',
      date: '2026-12-02',
      time: '10:00',
      zone: 'Africa/Lusakaa',
      capacity: '10',
      joinUrl: 'https://teams.microsoft.com/l/y',
    }, where(USERS.lead));
    const text = invokeText(res.body);
    expect(text).toContain('Time zone: "Africa/Lusakaa" is not a time zone');
    expect(JSON.stringify(res.body)).toContain('"value":"Sandbox walkthrough"');
  });

  it('a join link or time zone pasted over 4,000 characters is named as too long on the form, with the rest kept; nothing is added', async () => {
    const before = (await app.officeHours.current()).sessions.length;
    const joinUrl = `https://teams.microsoft.com/l/meetup-join/${'a'.repeat(4_000)}`;
    for (const pasted of [{ joinUrl }, { joinUrl: 'https://teams.microsoft.com/l/z', zone: 'Africa/'.repeat(600) }]) {
      const res = await execute(app, USERS.lead, 'officehours.add', {
        title: 'Long paste clinic',
        date: '2026-12-02',
        time: '10:00',
        capacity: '10',
        ...pasted,
      }, where(USERS.lead));
      expect(res.body.type).toBe('application/vnd.microsoft.card.adaptive');
      const text = invokeText(res.body);
      expect(text).not.toMatch(/out of date/);
      expect(text).toMatch(pasted.zone ? /Time zone: at most 100 characters \(this one has 4,200\)/ : /Join link: at most 2,000 characters \(this one has 4,042\)/);
      expect(JSON.stringify(res.body)).toContain('"value":"Long paste clinic"');
    }
    expect((await app.officeHours.current()).sessions.length).toBe(before);
  });

  it('an add form with a field over 10,000 characters is refused saying so, before it is read further; nothing is added', async () => {
    const before = (await app.officeHours.current()).sessions.length;
    const res = await execute(app, USERS.lead, 'officehours.add', {
      title: 'Huge paste clinic',
      date: '2026-12-02',
      time: '10:00',
      capacity: '10',
      joinUrl: `https://teams.microsoft.com/l/meetup-join/${'a'.repeat(10_000)}`,
    }, where(USERS.lead));
    expect(res.status).toBe(200);
    const text = invokeText(res.body);
    expect(text).not.toMatch(/out of date/);
    expect(text).toBe('A field on the form has more than 10,000 characters (or is not text), so nothing was added. Type "office hours add" for a new form.');
    expect((await app.officeHours.current()).sessions.length).toBe(before);
  });

  it('a forged add form with every field at 4,000 characters comes back as a form within one Teams message', async () => {
    const fields = ['title', 'kind', 'date', 'time', 'zone', 'minutes', 'capacity', 'repeat', 'until', 'joinUrl', 'topic', 'cohort', 'group', 'cohortTyped', 'groupTyped'];
    const res = await execute(app, USERS.lead, 'officehours.add', Object.fromEntries(fields.map((f) => [f, '\u00e9'.repeat(4_000)])), where(USERS.lead));
    expect(res.body.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(invokeText(res.body)).toMatch(/Title: at most 120 characters \(this one has 4,000\); it is not shown again\./);
    expect(utf16Bytes(res.body.value)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
  });

  it('cancelling and moving one occurrence tells those booked 1:1, once; the moved one keeps its calendar UID', async () => {
    clock.set(MONDAY);
    const hana = person('Hana Booked');
    await say(app, hana, 'whoami', where(hana, 'Europe/Berlin'));
    const booked = await book(hana, 'office-hours|2026-12-15T14:00', 'Where are my old Excel files?', 'Europe/Berlin');
    const link = calendarLink(JSON.stringify(booked.body));
    await book(hana, 'office-hours|2026-12-17T14:00', '', 'Europe/Berlin');
    const from = connector.sentTo(chatOf(hana)).length;

    const moved = readable(await say(app, USERS.lead, 'office hours move 2026-12-15 2026-12-16 15:00', where(USERS.lead)));
    expect(moved).toBe('Moved: FieldLedger office hours of Tue 15 Dec 2026, 14:00 (Africa/Lusaka) is now on Wed 16 Dec 2026, 15:00. 1 person booked was told, with an updated calendar entry.');
    const cancelled = readable(await say(app, USERS.lead, 'office hours cancel 2026-12-17 Team away day', where(USERS.lead)));
    expect(cancelled).toBe('Cancelled: FieldLedger office hours on Thu 17 Dec 2026, 14:00 (Africa/Lusaka). 1 person booked was told.');
    await connector.waitFor(() => connector.sentTo(chatOf(hana)).length >= from + 2);
    const told = sentText(hana, from);
    expect(told).toContain('it is now **Wed 16 Dec 2026, 14:00–15:30**'); // 15:00 Lusaka is 14:00 in Berlin
    expect(told).toContain('is cancelled (Team away day)');

    const event = parseIcsEvent(await (await fetch(link)).text());
    expect(event.uid).toBe('office-hours-20261215T1400@rollout-desk');
    expect(event.sequence).toBe(1);
    expect(event.startDate.toJSDate().toISOString()).toBe('2026-12-16T13:00:00.000Z');

    // The scheduled pass finds nothing more to tell: each change was told once.
    const after = connector.sentTo(chatOf(hana)).length;
    await app.scheduler.tick();
    await new Promise((r) => setTimeout(r, 200));
    expect(connector.sentTo(chatOf(hana)).length).toBe(after);
  });

  it('a session moved twice, then cancelled: each notice names the time those booked were last told', async () => {
    clock.set('2026-12-28T08:00:00Z');
    const ida = person('Ida Twice');
    await say(app, ida, 'whoami', where(ida));
    expect(invokeText((await book(ida, 'office-hours|2027-01-12T14:00')).body)).toContain("You're booked");
    const from = connector.sentTo(chatOf(ida)).length;

    expect(readable(await say(app, USERS.lead, 'office hours move 2027-01-12 office-hours 2027-01-13 15:00', where(USERS.lead)))).toMatch(/^Moved: .*1 person booked was told/);
    await connector.waitFor(() => connector.sentTo(chatOf(ida)).length >= from + 1);
    expect(sentText(ida, from)).toContain('it was Tue 12 Jan 2027, 14:00, it is now **Wed 13 Jan 2027, 15:00');

    // Moved again from where it now is: Ida knew it as Wednesday 15:00, not its first time.
    expect(readable(await say(app, USERS.lead, 'office hours move 2027-01-13 office-hours 2027-01-14 10:00', where(USERS.lead)))).toMatch(/^Moved: .*1 person booked was told/);
    await connector.waitFor(() => connector.sentTo(chatOf(ida)).length >= from + 2);
    expect(sentText(ida, from + 1)).toContain('it was Wed 13 Jan 2027, 15:00, it is now **Thu 14 Jan 2027, 10:00');

    // Cancelled where it meets now: the notice names Thursday 10:00, the time Ida expects to join.
    expect(readable(await say(app, USERS.lead, 'office hours cancel 2027-01-14 10:00 office-hours', where(USERS.lead)))).toMatch(/^Cancelled: .*1 person booked was told/);
    await connector.waitFor(() => connector.sentTo(chatOf(ida)).length >= from + 3);
    expect(sentText(ida, from + 2)).toContain('**FieldLedger office hours** on Thu 14 Jan 2027, 10:00');
    expect(sentText(ida, from + 2)).toContain('is cancelled');
  });

  it('moving a cancelled session says it is back on, so the rollout team knows the cancel is undone, and those booked hear it is back on', async () => {
    clock.set('2027-01-04T08:00:00Z');
    const bea = person('Bea Back');
    await say(app, bea, 'whoami', where(bea));
    expect(invokeText((await book(bea, 'office-hours|2027-01-19T14:00')).body)).toContain("You're booked");
    const from = connector.sentTo(chatOf(bea)).length;
    expect(readable(await say(app, USERS.lead, 'office hours cancel 2027-01-19 office-hours', where(USERS.lead)))).toMatch(/^Cancelled: /);
    await connector.waitFor(() => sentText(bea, from).includes('is cancelled'));
    const moved = readable(await say(app, USERS.lead, 'office hours move 2027-01-19 office-hours 15:00', where(USERS.lead)));
    expect(moved).toMatch(/^Moved: FieldLedger office hours of Tue 19 Jan 2027, 14:00 \(Africa\/Lusaka\) is now on Tue 19 Jan 2027, 15:00\./);
    expect(moved).toContain('It had been cancelled: it is back on');
    expect((await app.officeHours.find('office-hours|2027-01-19T14:00'))?.status).toBe('scheduled');
    // Told their booking was void, then "has moved … your seat is kept" would contradict it.
    await connector.waitFor(() => sentText(bea, from).includes('is back on'));
    expect(sentText(bea, from)).toContain('is back on: it meets **Tue 19 Jan 2027, 15:00');
    expect(sentText(bea, from)).toContain('stands again');
    expect(sentText(bea, from)).not.toContain('has moved');
  });

  it('a session title and a cancel reason with markdown in them reach those booked as typed, not as formatting or a link', async () => {
    clock.set(MONDAY);
    const added = await execute(app, USERS.lead, 'officehours.add', {
      title: 'Sync *fast* clinic',
      kind: 'office-hours',
      date: '2026-12-22',
      time: '11:00',
      zone: 'Africa/Lusaka',
      minutes: '30',
      capacity: '5',
      joinUrl: 'https://teams.microsoft.com/l/meetup-join/sync-clinic',
    }, where(USERS.lead));
    const id = /\((sync-fast-clinic-[a-z0-9]+)\)/.exec(invokeText(added.body))?.[1] ?? '';
    const rae = person('Rae Reason');
    await say(app, rae, 'whoami', where(rae));
    expect(invokeText((await book(rae, `${id}|2026-12-22T11:00`)).body)).toContain("You're booked");
    const from = connector.sentTo(chatOf(rae)).length;
    expect(readable(await say(app, USERS.lead, `office hours cancel 2026-12-22 ${id} see [the notice](https://example.org/x) **first**`, where(USERS.lead)))).toMatch(/^Cancelled: /);
    await connector.waitFor(() => sentText(rae, from).includes('is cancelled'));
    const told = sentText(rae, from);
    expect(told).toContain('fast');
    expect(told).toContain('the notice');
    // Typed text shown as typed: no italics, no bold, no link the rollout team did not mean to make.
    expect(told).not.toContain('*fast*');
    expect(told).not.toContain('](https://example.org/x)');
    expect(told).not.toContain('**first**');
  });

  it('a day far in the future or past is answered with "no session", not an error', async () => {
    for (const day of ['9999-12-31', '0000-01-01']) {
      expect(readable(await say(app, USERS.lead, `office hours cancel ${day}`, where(USERS.lead)))).toMatch(new RegExp(`^There is no session on ${day}\\.`));
      expect(readable(await say(app, USERS.lead, `office hours move ${day} 15:00`, where(USERS.lead)))).toMatch(new RegExp(`^There is no session on ${day}\\.`));
    }
  });

  it('several sessions on one day: the rollout team is asked which one', async () => {
    const text = readable(await say(app, USERS.lead, 'office hours cancel 2027-02-04', where(USERS.lead)));
    expect(text).toMatch(/^Several sessions meet on 2027-02-04: /);
    expect(text).toContain('office-hours at 14:00, deadline-clinic at 08:00');
  });
});

describe('from the FAQ answer card', () => {
  it('"Ask at office hours" shows the live schedule with the question filled in', async () => {
    clock.set(MONDAY);
    const ivy = person('Ivy Asker');
    const answer = await say(app, ivy, 'the submit button is greyed out', where(ivy));
    const questionId = /"questionId":"([^"]+)"/.exec(JSON.stringify(answer))?.[1] ?? '';
    expect(questionId).not.toBe('');
    const from = connector.sentTo(chatOf(ivy)).length;
    const res = await execute(app, ivy, 'faq.officeHours', { questionId }, where(ivy));
    expect(invokeText(res.body)).toMatch(/next office hours are below/);
    await connector.waitFor(() => connector.sentTo(chatOf(ivy)).length > from);
    const card = sentText(ivy, from);
    expect(card).toContain('Next office hours');
    expect(card).toContain('"value":"the submit button is greyed out"');
    // Someone else's question id fills in nothing.
    const jon = person('Jon Other');
    const other = await execute(app, jon, 'faq.officeHours', { questionId }, where(jon));
    expect(invokeText(other.body)).toMatch(/next office hours are below/);
    await connector.waitFor(() => connector.sentTo(chatOf(jon)).length > 0);
    expect(sentText(jon)).not.toContain('the submit button is greyed out');
  });
});

/**
 * An app of its own on a copy of the sample schedule file (`edit` rewrites its sessions), with `who` booked on
 * Tue 8 Dec's office hours from Berlin: her calendar link, the invite it served, and how many messages she had
 * been sent by then. The app is stopped after `run`.
 */
async function bookedOnOwnSchedule(
  who: TestUser,
  run: (t: {
    own: Awaited<ReturnType<typeof startTestApp>>;
    edit: (sessions: (list: { id: string; start: string }[]) => unknown[], served?: boolean) => Promise<void>;
    link: string;
    invite: ReturnType<typeof parseIcsEvent>;
    from: number;
    pass: () => Promise<void>;
  }) => Promise<void>,
): Promise<void> {
  const file = path.join(tempDir('rd-oh-file'), 'office-hours.yaml');
  const sample = readFileSync('sample/office-hours.yaml', 'utf8');
  writeFileSync(file, sample);
  const logged: string[] = [];
  // An interval no test lasts: the app's own timer never ticks meanwhile, and each pass below moves the clock one on.
  const own = await startTestApp(
    { ROLLOUT_FILE: 'sample/rollout.yaml', OFFICE_HOURS_FILE: file, GUIDANCE_DIR: 'sample/guidance', SCHEDULER_INTERVAL_SECONDS: String(PASS_EVERY_S) },
    undefined,
    createLogger('info', { write: (line: string) => void logged.push(line) }),
  );
  try {
    own.clock.set(MONDAY);
    await say(own.app, who, 'whoami', where(who, 'Europe/Berlin'));
    const booked = await execute(own.app, who, 'officehours.book', { occurrenceId: OCC_8_DEC, field: 'question0', question0: '' }, where(who, 'Europe/Berlin'));
    const link = calendarLink(JSON.stringify(booked.body));
    const invite = parseIcsEvent(await (await fetch(link)).text());
    // Written, then waited for until the app serves the session (`served`) or not, as the edit makes it (undefined:
    // not waited for here).
    const edit = async (sessions: (list: { id: string; start: string }[]) => unknown[], served?: boolean) => {
      const doc = parseDocument(sample);
      doc.set('sessions', sessions((doc.toJS() as { sessions: { id: string; start: string }[] }).sessions));
      writeFileSync(file, doc.toString());
      if (served !== undefined) await until('the schedule file is reloaded', async () => ((await own.app.officeHours.find(OCC_8_DEC)) !== undefined) === served);
    };
    /**
     * One notice pass done to the end: the clock a scheduler interval on (a tick at the same time runs no job again),
     * the tick's jobs awaited, and every message they queued sent (or given up). A pass that failed is a failure
     * here, not "nothing sent".
     */
    const pass = async () => {
      own.clock.advance(PASS_EVERY_S * 1000);
      await own.app.scheduler.tick();
      await own.app.settled();
      expect(logged.filter((l) => l.includes('scheduled job failed'))).toEqual([]);
    };
    await run({ own, edit, link, invite, from: connector.sentTo(chatOf(who)).length, pass });
  } finally {
    await own.app.stop();
  }
}
const OCC_8_DEC = 'office-hours|2026-12-08T14:00';
/** The scheduler's interval in bookedOnOwnSchedule's app: an hour of the test's clock per pass. */
const PASS_EVERY_S = 3600;

describe('a session taken out of the schedule file', () => {
  it('its calendar link serves a cancel rather than 404, and those booked are told once, with that link', async () => {
    const ida = person('Ida Removed');
    await bookedOnOwnSchedule(ida, async ({ edit, link, invite, from, pass }) => {
      await edit((list) => list.filter((x) => x.id !== 'office-hours'), false);

      const res = await fetch(link);
      expect(res.status).toBe(200);
      const ics = await res.text();
      expect(ics).toContain('METHOD:CANCEL');
      expect(ics).toContain('STATUS:CANCELLED');
      const cancel = parseIcsEvent(ics);
      expect(cancel.uid).toBe(invite.uid);
      expect(cancel.sequence).toBeGreaterThan(invite.sequence);

      await pass();
      const told = sentText(ida, from);
      expect(told).toContain('**FieldLedger office hours** on Tue 8 Dec 2026, 13:00');
      expect(told).toContain('is cancelled (taken off the schedule)');
      const again = /remove it from your calendar\]\((http[^)]+\/calendar\/[^)]+)\)/.exec(told)?.[1];
      expect(await (await fetch(again ?? '')).text()).toContain('METHOD:CANCEL');

      // The next pass has nothing more to tell.
      const after = connector.sentTo(chatOf(ida)).length;
      await pass();
      expect(connector.sentTo(chatOf(ida)).length).toBe(after);
    });
  });
});

describe('a booked session whose entry in the schedule file is broken by a typo, then fixed', () => {
  it('is served as it last was: nobody is told it is cancelled, her link and seat stand, no one else is offered it, and fixed, nothing is sent', async () => {
    const ivy = person('Ivy Held');
    const otto = person('Otto Other');
    await bookedOnOwnSchedule(ivy, async ({ own, edit, link, invite, from, pass }) => {
      // Whether the office hours Otto is offered (the list's Book buttons) include the one Ivy booked.
      const offered = async () => JSON.stringify(await say(own.app, otto, 'office hours', where(otto, 'Europe/Berlin'))).includes(OCC_8_DEC);
      // A first pass has seen the schedule as it stands.
      await pass();
      expect(await offered()).toBe(true);
      // The rollout team mistypes the office hours' start: the session is held as it was, offered to nobody new.
      await edit((list) => list.map((x) => (x.id === 'office-hours' ? { ...x, start: `${x.start.slice(0, 10)} 2:00pm` } : x)));
      await until('the typo is read', async () => !(await offered()));

      const held = await fetch(link);
      expect(held.status).toBe(200);
      const kept = parseIcsEvent(await held.text());
      expect([kept.uid, kept.sequence]).toEqual([invite.uid, invite.sequence]);
      expect((await own.app.officeHours.find(OCC_8_DEC))?.start.toISOString()).toBe('2026-12-08T12:00:00.000Z');
      await pass();
      expect(connector.sentTo(chatOf(ivy)).length).toBe(from);

      // Fixed: offered again, the link serves the entry she has, and nothing is sent.
      await edit((list) => list);
      await until('the fix is read', offered);
      const ics = await (await fetch(link)).text();
      expect(ics).toContain('STATUS:CONFIRMED');
      const again = parseIcsEvent(ics);
      expect([again.uid, again.sequence]).toEqual([invite.uid, invite.sequence]);
      await pass();
      expect(connector.sentTo(chatOf(ivy)).length).toBe(from);
    });
  });
});

