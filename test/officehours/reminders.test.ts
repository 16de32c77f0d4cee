import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { type Booking, BookingStore, NOTICE_HOLD_MS } from '../../src/officehours/bookings.js';
import { ScheduleChanges } from '../../src/officehours/changes.js';
import type { Schedule } from '../../src/officehours/model.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { agendaDestinations, channelReminder, dueKinds, personalReminder, ReminderMarks } from '../../src/officehours/reminders.js';
import { allOccurrences } from '../../src/officehours/rules.js';
import { buildSchedule, parseScheduleFile } from '../../src/officehours/schedule.js';
import { Tables } from '../../src/storage/tables.js';
import { azuriteConnection, testTables } from '../support/storage.js';
import { CapturedOutbox } from '../support/outbox.js';
import { until } from '../support/until.js';
import { officeHoursInstance, sampleRollout, sampleSchedule, viewer } from './support.js';

const OCC = 'office-hours|2026-12-01T14:00'; // 12:00 UTC
const keys = (m: readonly OutboundMessage[]) => m.map((x) => x.key).sort();
const text = (m: readonly OutboundMessage[]) => JSON.stringify(m);

describe('what is due when (pure)', () => {
  const o = { start: new Date('2026-12-01T12:00:00Z'), status: 'scheduled' as const };
  const leads = { remind: 60, agenda: 120 };
  it('the agenda two hours before, the reminder one hour before, nothing once started or when cancelled', () => {
    expect(dueKinds(o, new Date('2026-12-01T09:59:00Z'), leads)).toEqual([]);
    expect(dueKinds(o, new Date('2026-12-01T10:00:00Z'), leads)).toEqual(['agenda']);
    expect(dueKinds(o, new Date('2026-12-01T11:30:00Z'), leads)).toEqual(['remind', 'agenda']);
    expect(dueKinds(o, new Date('2026-12-01T12:00:00Z'), leads)).toEqual([]);
    expect(dueKinds({ ...o, status: 'cancelled' }, new Date('2026-12-01T11:30:00Z'), leads)).toEqual([]);
  });
  it('the agenda goes to the hosts who can be reached, else to the triage channel', () => {
    expect(agendaDestinations(['h1', 'h2'], new Set(['h2']))).toEqual([{ kind: 'user', userKey: 'h2' }]);
    expect(agendaDestinations(['h1', 'h2'], new Set())).toEqual([{ kind: 'channel', role: 'triage' }]);
  });
});

describe('the join link in a reminder', () => {
  it('opens the whole address even when it holds ")" or "(", and the words after it read as written', () => {
    const joinUrl = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?room=B)2(east';
    const file = parseScheduleFile(
      `zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "2026-12-01 14:00", capacity: 5, joinUrl: "${joinUrl}" }\n`,
    );
    const [o] = allOccurrences(buildSchedule(file, sampleRollout), new Date('2026-11-30T00:00:00Z'), new Date('2026-12-02T00:00:00Z'));
    if (!o) throw new Error('no occurrence');
    const booking: Booking = { id: 'B-7K3F9Q2M', occurrenceId: o.id, personId: 'aad-1', name: 'Ann', status: 'booked', question: '', zone: 'Africa/Lusaka', bookedAt: '2026-11-30T08:00:00Z', start: o.start.toISOString() };
    for (const [text, label, after] of [
      [channelReminder(o, { booked: 1, attended: 0 }), 'join the meeting', '.'],
      [personalReminder(o, booking), 'Join the meeting', ' (booking B-7K3F9Q2M).'],
    ] as const) {
      const html = marked.parseInline(text, { async: false });
      const link = /<a href="([^"]*)">([^<]*)<\/a>(.*)$/.exec(html);
      expect(link?.[2]).toBe(label);
      // The same address: only the characters that would end the markdown link are percent-encoded.
      expect(decodeURIComponent(link?.[1] ?? '')).toBe(decodeURIComponent(joinUrl));
      expect(link?.[3]).toBe(after);
    }
  });
});

describe('a reminder of a session with no join link (the schedule file\'s was set aside as bad)', () => {
  it('goes all the same, with no link in it: the channel\'s says to book, the booked person\'s names the booking', () => {
    const file = parseScheduleFile(`zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "2026-12-01 14:00", capacity: 5, joinUrl: "http://not-https.example" }\n`);
    const [o] = allOccurrences(buildSchedule(file, sampleRollout), new Date('2026-11-30T00:00:00Z'), new Date('2026-12-02T00:00:00Z'));
    if (!o) throw new Error('no occurrence');
    const booking: Booking = { id: 'B-7K3F9Q2M', occurrenceId: o.id, personId: 'aad-1', name: 'Ann', status: 'booked', question: '', zone: 'Africa/Lusaka', bookedAt: '2026-11-30T08:00:00Z', start: o.start.toISOString() };
    const channel = channelReminder(o, { booked: 1, attended: 0 });
    const personal = personalReminder(o, booking);
    expect(channel).toMatch(/seats left: type "office hours" to book one and send your question ahead\.$/);
    expect(personal).toMatch(/^Reminder: \*\*Clinic\*\* starts soon: .*\. Booking B-7K3F9Q2M\.$/);
    for (const text of [channel, personal]) expect(marked.parseInline(text, { async: false })).not.toContain('<a ');
  });
});

describe('reminders and agendas with two instances on one Storage account', () => {
  it('each goes out once: the support channel, everyone booked 1:1, the hosts\' agenda with the questions brought', async () => {
    const a = await officeHoursInstance({ reachable: ['8d4c6e1a-2b7f-4a3e-9c5d-1e2f3a4b5c61'] });
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock, reachable: ['8d4c6e1a-2b7f-4a3e-9c5d-1e2f3a4b5c61'] });
    for (const id of ['aad-1', 'aad-2', 'aad-3']) {
      await a.service.book(viewer(id, { zone: 'Asia/Kolkata' }), OCC, id === 'aad-2' ? 'How do I resolve a sync conflict?' : '');
    }
    a.clock.set('2026-12-01T10:30:00Z'); // 90 minutes before: the agenda only
    await Promise.all([a.reminders.run(a.clock.now()), b.reminders.run(a.clock.now())]);
    const agenda = [...a.outbox.messages, ...b.outbox.messages];
    expect(keys(agenda)).toEqual([`officehours|agenda|${OCC}|8d4c6e1a-2b7f-4a3e-9c5d-1e2f3a4b5c61`]);
    expect(text(agenda)).toContain('How do I resolve a sync conflict?');
    expect(text(agenda)).toContain('officehours.attendance');

    a.outbox.clear();
    b.outbox.clear();
    a.clock.set('2026-12-01T11:05:00Z'); // 55 minutes before: the reminders
    await Promise.all([a.reminders.run(a.clock.now()), b.reminders.run(a.clock.now()), a.reminders.run(a.clock.now())]);
    const sent = [...a.outbox.messages, ...b.outbox.messages];
    expect(keys(sent)).toEqual([
      `officehours|remind|${OCC}|aad-1`,
      `officehours|remind|${OCC}|aad-2`,
      `officehours|remind|${OCC}|aad-3`,
      `officehours|remind|${OCC}|channel`,
    ]);
    const personal = sent.find((m) => m.key.endsWith('aad-2'));
    expect(text([personal!])).toContain('Tue 1 Dec 2026, 17:30–19:00'); // in the zone they booked from
    expect(text([personal!])).toContain('How do I resolve a sync conflict?');
    const channel = sent.find((m) => m.key.endsWith('channel'));
    expect(channel).toMatchObject({ to: { kind: 'channel', role: 'support' } });
    expect(text([channel!])).toContain('22 of 25 seats left');

    a.outbox.clear();
    b.outbox.clear();
    a.clock.set('2026-12-01T11:30:00Z');
    await Promise.all([a.reminders.run(a.clock.now()), b.reminders.run(a.clock.now())]);
    expect([...a.outbox.messages, ...b.outbox.messages].filter((m) => m.key.includes(OCC))).toEqual([]);
  });

  it('someone who books after the reminder went out is reminded once, across instances; those reminded are not reminded again', async () => {
    const a = await officeHoursInstance();
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock });
    await a.service.book(viewer('aad-1'), OCC, '');
    await a.service.book(viewer('aad-2'), OCC, '');
    a.clock.set('2026-12-01T11:05:00Z'); // 55 minutes before: the reminders go out
    await a.reminders.run(a.clock.now());
    expect(keys(a.outbox.messages).filter((k) => k.startsWith('officehours|remind'))).toEqual([
      `officehours|remind|${OCC}|aad-1`,
      `officehours|remind|${OCC}|aad-2`,
      `officehours|remind|${OCC}|channel`,
    ]);
    a.outbox.clear();

    a.clock.set('2026-12-01T11:20:00Z'); // a late booking, and one who cancels and books again
    await a.service.book(viewer('aad-late', { zone: 'Asia/Kolkata' }), OCC, 'Where are my drafts?');
    await a.service.cancelBooking(viewer('aad-2'), OCC);
    await a.service.book(viewer('aad-2'), OCC, '');
    a.clock.set('2026-12-01T11:21:00Z');
    await Promise.all([a.reminders.run(a.clock.now()), b.reminders.run(a.clock.now()), a.reminders.run(a.clock.now())]);
    const again = [...a.outbox.messages, ...b.outbox.messages];
    // aad-2 holds a new booking, but is sent under the key of the reminder already sent: the outbound path sends a key once.
    expect(keys(again).filter((k) => !k.endsWith('aad-2'))).toEqual([`officehours|remind|${OCC}|aad-late`]);
    const late = again.filter((m) => m.key.endsWith('aad-late'));
    expect(late[0]).toMatchObject({ to: { kind: 'user', userKey: 'aad-late' } });
    expect(text(late)).toContain('starts soon: Tue 1 Dec 2026, 17:30–19:00'); // in the zone they booked from
    expect(text(late)).toContain('Join the meeting');
    expect(text(late)).toContain('Where are my drafts?');

    a.outbox.clear();
    b.outbox.clear();
    a.clock.set('2026-12-01T11:40:00Z');
    await Promise.all([a.reminders.run(a.clock.now()), b.reminders.run(a.clock.now())]);
    expect([...a.outbox.messages, ...b.outbox.messages].filter((m) => m.key.includes(OCC))).toEqual([]);
  });

  it('a session moved in the file (or from Teams) is told to those booked once, across instances', async () => {
    const a = await officeHoursInstance();
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock });
    await a.service.book(viewer('aad-9'), 'office-hours|2026-12-03T14:00', '');
    const lead = viewer('aad-lead', { role: 'rolloutTeam' });
    // The change is stored without telling (as a file edit would be): the scheduled pass finds it.
    const o = (await a.service.find('office-hours|2026-12-03T14:00'))!;
    await (await ScheduleChanges.open(a.tables, a.clock)).change(o.session.id, o.key, undefined, { moveTo: '2026-12-04T10:00' }, lead.person.id);
    await Promise.all([a.reminders.run(a.clock.now()), b.reminders.run(a.clock.now())]);
    const notices = [...a.outbox.messages, ...b.outbox.messages].filter((m) => m.key.startsWith('officehours|notice'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ to: { kind: 'user', userKey: 'aad-9' } });
    expect(text(notices)).toContain('it is now **Fri 4 Dec 2026, 10:00–11:30**');
  });
});

/** Tables on the test Azurite that record every storage call made through them: table, call and its first argument. */
class CountingTables extends Tables {
  readonly calls: string[] = [];
  /** Rows listed (read by a query), by table. */
  readonly listed = new Map<string, number>();
  constructor() {
    super(azuriteConnection(), `t${randomBytes(4).toString('hex')}`);
  }

  override async table(name: string): Promise<TableClient> {
    const client = await super.table(name);
    return new Proxy(client, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || !/^(get|list|create|update|upsert|delete|submit)/.test(String(prop))) return value;
        return (...args: unknown[]) => {
          this.calls.push(`${name}.${String(prop)} ${JSON.stringify(args[0])}`);
          const out = (value as (...a: unknown[]) => unknown).apply(target, args);
          return prop === 'listEntities' ? this.counted(name, out as AsyncIterable<unknown>) : out;
        };
      },
    });
  }

  private async *counted(name: string, rows: AsyncIterable<unknown>): AsyncGenerator<unknown> {
    for await (const row of rows) {
      this.listed.set(name, (this.listed.get(name) ?? 0) + 1);
      yield row;
    }
  }
}

describe('the pass that tells those booked of changes, at scale', () => {
  it('with 200 booked sessions and nothing changed, a pass reads no seat rows; a session taken out is told, reading only its own', async () => {
    const daily = (id: string, time: string) =>
      `  - { id: ${id}, title: Clinic ${id}, start: "2026-12-01 ${time}", rule: "FREQ=DAILY;UNTIL=20270630T235900", capacity: 10, joinUrl: "https://teams.microsoft.com/l/x" }`;
    const yaml = `zone: Africa/Lusaka\nsessions:\n${daily('clinic-a', '14:00')}\n${daily('clinic-b', '15:00')}\n${daily('clinic-c', '16:00')}\n`;
    const full = buildSchedule(parseScheduleFile(yaml), sampleRollout);
    expect(full.problems).toEqual([]);
    let file: Schedule = full;
    const tables = new CountingTables();
    const a = await officeHoursInstance({ tables, schedule: () => file });
    const now = a.clock.now();
    const due = allOccurrences(full, now, new Date(now.getTime() + 80 * 24 * 3600_000)).slice(0, 200);
    expect(due).toHaveLength(200);
    const store = await BookingStore.open(tables, a.clock);
    for (let i = 0; i < due.length; i += 20) {
      await Promise.all(
        due.slice(i, i + 20).map((o, j) =>
          store.book(o.id, 10, { id: `aad-scale-${i + j}`, name: 'Someone' }, { question: '', zone: 'Africa/Lusaka', start: o.start.toISOString(), title: o.session.title, end: o.end.toISOString(), sequence: 0 }),
        ),
      );
    }
    await a.reminders.run(now);

    tables.calls.length = 0;
    expect(await a.reminders.run(now)).toEqual({ reminders: 0, agendas: 0, notices: 0 });
    expect(tables.calls.filter((c) => c.startsWith('OfficeHoursSeats'))).toEqual([]);
    expect(tables.calls.length).toBeLessThanOrEqual(5);

    // clinic-b taken out of the file: those booked on it are told, and the other sessions' seats are not read.
    file = { ...full, sessions: full.sessions.filter((s) => s.id !== 'clinic-b') };
    const ofB = due.filter((o) => o.session.id === 'clinic-b').length;
    tables.calls.length = 0;
    expect((await a.reminders.run(now)).notices).toBe(ofB);
    const seatCalls = tables.calls.filter((c) => c.startsWith('OfficeHoursSeats'));
    expect(seatCalls.length).toBeGreaterThan(0);
    expect(seatCalls.filter((c) => !c.includes('clinic-b|'))).toEqual([]);

    tables.calls.length = 0;
    expect((await a.reminders.run(now)).notices).toBe(0);
    expect(tables.calls.filter((c) => c.startsWith('OfficeHoursSeats'))).toEqual([]);
  });

  // Month rows are filed at the start those booked were told (re-filed on a told move): past ones have nothing to
  // tell, and no seat row is read for them. Rows filed before that (no `told` mark) may hold a start since moved
  // ahead: each past one is read, a few at once.
  for (const legacy of [false, true]) it(`sessions with a year of past bookings taken out of the file: ${legacy ? 'rows filed before told moves were: one read for each past one' : 'no read for the past ones'}, those ahead told`, async () => {
    const weekly = (id: string) =>
      `  - { id: ${id}, title: Clinic ${id}, start: "2025-12-02 14:00", rule: "FREQ=WEEKLY", capacity: 10, joinUrl: "https://teams.microsoft.com/l/x" }`;
    const full = buildSchedule(parseScheduleFile(`zone: Africa/Lusaka\nsessions:\n${['w-a', 'w-b', 'w-c'].map(weekly).join('\n')}\n`), sampleRollout);
    let file: Schedule = full;
    const tables = new CountingTables();
    const a = await officeHoursInstance({ tables, schedule: () => file }); // now: Mon 30 Nov 2026
    const now = a.clock.now();
    // A year of weekly bookings (one person each), and the next two weeks'.
    const booked = allOccurrences(full, new Date(now.getTime() - 365 * 24 * 3600_000), new Date(now.getTime() + 14 * 24 * 3600_000));
    for (let i = 0; i < booked.length; i += 20) {
      await Promise.all(
        booked.slice(i, i + 20).map((o, j) =>
          a.bookings.book(o.id, 10, { id: `aad-w-${i + j}`, name: 'Someone' }, { question: '', zone: 'Africa/Lusaka', start: o.start.toISOString(), title: o.session.title, end: o.end.toISOString(), sequence: 0 }),
        ),
      );
    }
    if (legacy) {
      const people = await tables.table('OfficeHoursPeople');
      for await (const row of people.listEntities<Record<string, unknown>>({ queryOptions: { filter: "PartitionKey ge 'm|' and PartitionKey lt 'm}'" } })) {
        const { told: _told, etag: _etag, timestamp: _ts, ...rest } = row;
        await people.upsertEntity({ ...rest, partitionKey: String(row.partitionKey), rowKey: String(row.rowKey) }, 'Replace');
      }
    }
    await a.reminders.run(now);
    const ahead = booked.filter((o) => o.start.getTime() > now.getTime());
    const past = booked.length - ahead.length;
    expect([past, ahead.length]).toEqual([156, 6]);

    file = { ...full, sessions: [] };
    a.outbox.clear();
    tables.calls.length = 0;
    // Told: those booked ahead only (a past session taken out of the file was not cancelled).
    expect((await a.reminders.run(now)).notices).toBe(ahead.length);
    expect(a.outbox.messages.filter((m) => m.key.startsWith('officehours|notice')).map((m) => m.key.split('|')[2]).sort()).toEqual(ahead.map((o) => o.session.id).sort());
    // The Teams changes: once for the schedule in force, once for the sessions gone from it.
    expect(tables.calls.filter((c) => c.includes("PartitionKey eq 'change'"))).toHaveLength(2);
    expect(tables.calls.length).toBeLessThanOrEqual((legacy ? past : 0) + 12 * ahead.length + 10);
  });
});

describe('the pass after one occurrence of one session changed', () => {
  it('reads the bookings of that session only, and looks at each of its booked occurrences once', async () => {
    const daily = (id: string, time: string) =>
      `  - { id: ${id}, title: Clinic ${id}, start: "2026-12-01 ${time}", rule: "FREQ=DAILY;UNTIL=20270630T235900", capacity: 10, joinUrl: "https://teams.microsoft.com/l/x" }`;
    const yaml = `zone: Africa/Lusaka\nsessions:\n${daily('clinic-a', '14:00')}\n${daily('clinic-b', '15:00')}\n${daily('clinic-c', '16:00')}\n`;
    const full = buildSchedule(parseScheduleFile(yaml), sampleRollout);
    const tables = new CountingTables();
    const a = await officeHoursInstance({ tables, schedule: () => full });
    const now = a.clock.now();
    const due = allOccurrences(full, now, new Date(now.getTime() + 20 * 24 * 3600_000)).slice(0, 60);
    for (const [i, o] of due.entries()) {
      await a.bookings.book(o.id, 10, { id: `aad-one-${i}`, name: 'Someone' }, { question: '', zone: 'Africa/Lusaka', start: o.start.toISOString(), title: o.session.title, end: o.end.toISOString(), sequence: 0 });
    }
    await a.reminders.run(now);

    // One booked occurrence of clinic-a moved (stored untold, as a file edit would be).
    const moved = due.find((o) => o.session.id === 'clinic-a' && o.start.getTime() > now.getTime() + 3 * 24 * 3600_000)!;
    await (await ScheduleChanges.open(tables, a.clock)).change('clinic-a', moved.key, undefined, { moveTo: `${moved.key.slice(0, 10)}T18:00` }, 'aad-lead');
    const looked: string[] = [];
    for (const m of ['seatsOf', 'claimNotice'] as const) {
      const real = (a.bookings[m] as (...args: unknown[]) => Promise<unknown>).bind(a.bookings);
      (a.bookings as unknown as Record<string, unknown>)[m] = (...args: unknown[]) => {
        looked.push(String(args[0]));
        return real(...args);
      };
    }
    tables.listed.clear();
    expect((await a.reminders.run(now)).notices).toBe(1);

    const ofA = due.filter((o) => o.session.id === 'clinic-a').map((o) => o.id);
    // The month index: the rows of clinic-a's bookings, not the other sessions'.
    expect(tables.listed.get('OfficeHoursPeople') ?? 0).toBeLessThanOrEqual(ofA.length);
    // Each of clinic-a's booked occurrences looked at once (the moved one by its notice's claim), none of the others'.
    expect(looked.filter((id) => !id.startsWith('clinic-a|'))).toEqual([]);
    expect(looked.sort()).toEqual([...ofA].sort());
  });
});

describe('retention of the reminders\' marks', () => {
  it('deletes the marks of sessions over the period (a moved one by its new time), keeps the rest', async () => {
    const marks = await ReminderMarks.open(testTables());
    const claimedAt = new Date('2026-12-01T10:00:00Z');
    await marks.claim('office-hours|2026-12-01T14:00', 'remind', claimedAt);
    await marks.claim('office-hours|2026-12-01T14:00', 'remind|b-123', claimedAt);
    // Moved from 1 December to 20 January: its marks stay until that is over.
    await marks.claim('office-hours|2026-12-08T14:00', 'remind@2027-01-20T12:00:00.000Z', claimedAt);
    await marks.claim('office-hours|2027-01-19T14:00', 'agenda', claimedAt);

    expect(await marks.expireBefore(new Date('2027-01-10T00:00:00Z'), 100)).toBe(2);
    expect(await marks.claimed('office-hours|2026-12-01T14:00')).toEqual(new Set());
    expect(await marks.claimed('office-hours|2026-12-08T14:00')).toEqual(new Set(['remind@2027-01-20T12:00:00.000Z']));
    expect(await marks.claimed('office-hours|2027-01-19T14:00')).toEqual(new Set(['agenda']));
    // At most `limit` a run; the next run takes the rest.
    expect(await marks.expireBefore(new Date('2027-02-10T00:00:00Z'), 1)).toBe(1);
    expect(await marks.expireBefore(new Date('2027-02-10T00:00:00Z'), 100)).toBe(1);
  });
});

describe('notices of a change whose queueing failed or never happened', () => {
  const DEC3 = 'office-hours|2026-12-03T14:00';
  const lead = viewer('aad-lead', { role: 'rolloutTeam' });
  const BOOKED = ['aad-1', 'aad-2', 'aad-3'];
  const notices = (m: readonly OutboundMessage[]) => m.filter((x) => x.key.startsWith('officehours|notice'));
  const told = (m: readonly OutboundMessage[]) => notices(m).map((x) => (x.op === 'send' && x.to.kind === 'user' ? x.to.userKey : '?')).sort();

  /** The instance's outbox refuses the next `times` batches of notices (the queue did not answer); returns what it refused. */
  function refuseNotices(outbox: CapturedOutbox, times: number): OutboundMessage[] {
    const refused: OutboundMessage[] = [];
    const enqueue = outbox.enqueue.bind(outbox);
    outbox.enqueue = async (batch) => {
      if (times > 0 && notices(batch).length) {
        times--;
        refused.push(...batch);
        throw Object.assign(new Error('the queue did not answer'), { statusCode: 503 });
      }
      return enqueue(batch);
    };
    return refused;
  }

  /** The instance stops for good once it has claimed a notice: its enqueue never returns (as if killed there). */
  function stopAtNotices(outbox: CapturedOutbox): { reached: () => boolean } {
    let reached = false;
    const enqueue = outbox.enqueue.bind(outbox);
    outbox.enqueue = (batch) => {
      if (!notices(batch).length) return enqueue(batch);
      reached = true;
      return new Promise<void>(() => {});
    };
    return { reached: () => reached };
  }

  async function bookedInstance() {
    const a = await officeHoursInstance();
    for (const id of BOOKED) await a.service.book(viewer(id), DEC3, '');
    return a;
  }

  /** Stores a change as a file edit would (nobody told yet): the scheduled pass finds it. */
  async function changeUntold(a: Awaited<ReturnType<typeof officeHoursInstance>>, change: { cancelled?: boolean; moveTo?: string }) {
    const o = (await a.service.find(DEC3))!;
    await (await ScheduleChanges.open(a.tables, a.clock)).change(o.session.id, o.key, undefined, change, lead.person.id);
  }

  it('a cancel from Teams whose notices could not be queued is told by the next pass, to each booked person once, under the same keys', async () => {
    const a = await bookedInstance();
    const refused = refuseNotices(a.outbox, 1);
    // The cancel is saved: the rollout team hears so, and that the notice goes out with the next pass.
    expect(await a.service.cancelOccurrence(lead, '2026-12-03 Trainer ill')).toBe(
      'Cancelled: FieldLedger office hours on Thu 3 Dec 2026, 14:00 (Africa/Lusaka). The 3 people booked could not be told just now; the notice goes out with the next scheduled pass, in a few minutes.',
    );
    expect((await a.service.find(DEC3))?.status).toBe('cancelled');
    expect(told(refused)).toEqual(BOOKED);

    await a.reminders.run(a.clock.now());
    expect(told(a.outbox.messages)).toEqual(BOOKED);
    expect(keys(notices(a.outbox.messages))).toEqual(keys(refused));
    expect(keys(refused)[0]).toMatch(new RegExp(`^officehours\\|notice\\|${DEC3.replace('|', '\\|')}\\|cancelled\\|2026-12-03T12:00:00.000Z\\|\\d+\\|aad-1$`));
    expect(text(notices(a.outbox.messages))).toContain('is cancelled (Trainer ill)');

    a.outbox.clear();
    await a.reminders.run(a.clock.now());
    expect(notices(a.outbox.messages)).toEqual([]);
  });

  it('a move from Teams whose notices could not be queued answers that it is saved, and the next pass tells those booked', async () => {
    const a = await bookedInstance();
    const refused = refuseNotices(a.outbox, 1);
    expect(await a.service.moveOccurrence(lead, '2026-12-03 2026-12-04 10:00')).toBe(
      'Moved: FieldLedger office hours of Thu 3 Dec 2026, 14:00 (Africa/Lusaka) is now on Fri 4 Dec 2026, 10:00. The 3 people booked could not be told just now; the notice, with an updated calendar entry, goes out with the next scheduled pass, in a few minutes.',
    );
    expect(told(refused)).toEqual(BOOKED);
    await a.reminders.run(a.clock.now());
    expect(told(a.outbox.messages)).toEqual(BOOKED);
    expect(text(notices(a.outbox.messages))).toContain('it is now **Fri 4 Dec 2026, 10:00–11:30**');
  });

  it('a move the pass could not queue notices for is told by the next pass, once', async () => {
    const a = await bookedInstance();
    await changeUntold(a, { moveTo: '2026-12-04T10:00' });
    const refused = refuseNotices(a.outbox, 1);
    await expect(a.reminders.run(a.clock.now())).rejects.toThrow(/did not answer/);
    expect(told(refused)).toEqual(BOOKED);

    await a.reminders.run(a.clock.now()); // (the failed pass may have told them already, once it was given back)
    expect(told(a.outbox.messages)).toEqual(BOOKED);
    expect(keys(notices(a.outbox.messages))).toEqual(keys(refused));
    expect(text(notices(a.outbox.messages))).toContain('it was Thu 3 Dec 2026, 14:00, it is now **Fri 4 Dec 2026, 10:00–11:30**');

    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(0);
    expect(notices(a.outbox.messages)).toEqual([]);
  });

  it('a move whose notice could not be queued, then moved again: the notice says it was the time they were told, not the one never sent', async () => {
    const a = await bookedInstance();
    const refused = refuseNotices(a.outbox, 1);
    expect(await a.service.moveOccurrence(lead, '2026-12-03 2026-12-04 10:00')).toMatch(/^Moved: .* could not be told just now/);
    expect(told(refused)).toEqual(BOOKED);

    await a.service.moveOccurrence(lead, '2026-12-03 2026-12-05 11:00');
    expect(told(a.outbox.messages)).toEqual(BOOKED);
    expect(text(notices(a.outbox.messages))).toContain('it was Thu 3 Dec 2026, 14:00, it is now **Sat 5 Dec 2026, 11:00');
    expect(text(notices(a.outbox.messages))).not.toContain('Fri 4 Dec');
    // The notice never queued is not told afterwards either.
    a.outbox.clear();
    await a.reminders.run(a.clock.now());
    expect(notices(a.outbox.messages)).toEqual([]);
  });

  it('a cancel whose notice could not be queued, then moved: they hear it moved from the time they knew, not that it is "back on"', async () => {
    const a = await bookedInstance();
    refuseNotices(a.outbox, 1);
    // The cancel is saved: the rollout team hears so, and that the notice goes out with the next pass.
    expect(await a.service.cancelOccurrence(lead, '2026-12-03 Trainer ill')).toBe(
      'Cancelled: FieldLedger office hours on Thu 3 Dec 2026, 14:00 (Africa/Lusaka). The 3 people booked could not be told just now; the notice goes out with the next scheduled pass, in a few minutes.',
    );
    expect((await a.service.find(DEC3))?.status).toBe('cancelled');

    await a.service.moveOccurrence(lead, '2026-12-03 2026-12-05 11:00');
    expect(told(a.outbox.messages)).toEqual(BOOKED);
    expect(text(notices(a.outbox.messages))).toContain('has moved: it was Thu 3 Dec 2026, 14:00, it is now **Sat 5 Dec 2026, 11:00');
    expect(text(notices(a.outbox.messages))).not.toContain('back on');
  });

  it('an instance stopped between claiming the notice and queueing it: another instance\'s pass tells them', async () => {
    const a = await bookedInstance();
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock });
    await changeUntold(a, { cancelled: true });
    const stuck = stopAtNotices(b.outbox);
    void b.reminders.run(a.clock.now());
    await until('b claimed the notice', stuck.reached);

    // While b may still be queueing them, a leaves them to b; once b's hold on the notice is over, a tells them.
    await a.reminders.run(a.clock.now());
    expect(notices(a.outbox.messages)).toEqual([]);
    a.clock.advance(NOTICE_HOLD_MS + 60_000);
    await a.reminders.run(a.clock.now());
    expect(told(a.outbox.messages)).toEqual(BOOKED);
    a.outbox.clear();
    await a.reminders.run(a.clock.now());
    expect(notices(a.outbox.messages)).toEqual([]);
  });

  it('after a failed pass, two passes at once tell each booked person once between them', async () => {
    const a = await bookedInstance();
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock });
    await changeUntold(a, { cancelled: true });
    refuseNotices(a.outbox, 1);
    await expect(a.reminders.run(a.clock.now())).rejects.toThrow(/did not answer/);

    await Promise.all([a.reminders.run(a.clock.now()), b.reminders.run(a.clock.now()), a.reminders.run(a.clock.now())]);
    expect(told([...a.outbox.messages, ...b.outbox.messages])).toEqual(BOOKED);
  });

  it('a notice that cannot be queued does not hold back another session\'s in the same pass; the next pass tells the first', async () => {
    const a = await bookedInstance();
    const DEC8 = 'office-hours|2026-12-08T14:00';
    await a.service.book(viewer('aad-8'), DEC8, '');
    await changeUntold(a, { cancelled: true });
    const o8 = (await a.service.find(DEC8))!;
    await (await ScheduleChanges.open(a.tables, a.clock)).change(o8.session.id, o8.key, undefined, { cancelled: true }, lead.person.id);
    const refused = refuseNotices(a.outbox, 1);
    await expect(a.reminders.run(a.clock.now())).rejects.toThrow(/did not answer/);
    const everyone = [...BOOKED, 'aad-8'].sort();
    expect(told(refused).length).toBeGreaterThan(0);
    expect(told(a.outbox.messages)).toEqual(expect.arrayContaining(everyone.filter((p) => !told(refused).includes(p))));

    await a.reminders.run(a.clock.now());
    expect(told(a.outbox.messages)).toEqual(everyone);
    a.outbox.clear();
    await a.reminders.run(a.clock.now());
    expect(notices(a.outbox.messages)).toEqual([]);
  });

  it('a session taken out of the file whose cancel could not be queued is told by the next pass, once', async () => {
    let file: Schedule = sampleSchedule;
    const a = await officeHoursInstance({ schedule: () => file });
    for (const id of BOOKED) await a.service.book(viewer(id), DEC3, '');
    await a.reminders.run(a.clock.now()); // the pass has seen the file as it was
    file = { ...sampleSchedule, sessions: sampleSchedule.sessions.filter((s) => s.id !== 'office-hours') };
    const refused = refuseNotices(a.outbox, 1);
    await expect(a.reminders.run(a.clock.now())).rejects.toThrow(/did not answer/);
    expect(told(refused)).toEqual(BOOKED);

    await a.reminders.run(a.clock.now());
    expect(told(a.outbox.messages)).toEqual(BOOKED);
    expect(keys(notices(a.outbox.messages))).toEqual(keys(refused));
    expect(text(notices(a.outbox.messages))).toContain('is cancelled (taken off the schedule)');

    a.outbox.clear();
    await a.reminders.run(a.clock.now());
    expect(notices(a.outbox.messages)).toEqual([]);
  });
});
