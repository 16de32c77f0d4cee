import { describe, expect, it } from 'vitest';
import { ScheduleChanges } from '../../src/officehours/changes.js';
import { bookedTold, bookedToldLater } from '../../src/officehours/display.js';
import { officeHoursInstance, sampleSchedule, viewer } from './support.js';

/** Changes the rollout team makes to sessions (add, move, cancel), and what they do to reminders and lookups. */

const lead = viewer('aad-lead', { role: 'rolloutTeam' });

describe('a session moved after its reminder went out', () => {
  it('those booked are reminded again, and the hosts get the agenda again, before the new time', async () => {
    const a = await officeHoursInstance();
    const OCC = 'office-hours|2026-12-01T14:00'; // 12:00 UTC
    await a.service.book(viewer('aad-1'), OCC, 'Where did my drafts go?');
    a.clock.set('2026-12-01T11:05:00Z'); // 55 minutes before: reminder and agenda go out
    await a.reminders.run(a.clock.now());
    expect(a.outbox.messages.map((m) => m.key)).toContain(`officehours|remind|${OCC}|aad-1`);

    a.outbox.clear();
    expect(await a.service.moveOccurrence(lead, '2026-12-01 2026-12-02 14:00')).toMatch(/^Moved: /);
    a.clock.set('2026-12-02T11:05:00Z'); // 55 minutes before the new time
    await a.reminders.run(a.clock.now());
    const sent = a.outbox.messages.filter((m) => !m.key.startsWith('officehours|notice'));
    const personal = sent.filter((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey === 'aad-1');
    expect(personal).toHaveLength(1);
    expect(JSON.stringify(personal[0]?.content)).toContain('Wed 2 Dec 2026');
    expect(sent.some((m) => m.key.startsWith('officehours|agenda'))).toBe(true);

    // And once only: another pass sends nothing more.
    a.outbox.clear();
    await a.reminders.run(a.clock.now());
    expect(a.outbox.messages).toEqual([]);
  });
});

describe('the rollout team cancelling a session by the day it now meets on', () => {
  it('after a move onto a day with another session, "cancel <day>" asks which one; with the new time it cancels the moved one', async () => {
    const a = await officeHoursInstance();
    await a.service.book(viewer('aad-moved'), 'office-hours|2026-12-08T14:00', '');
    await a.service.book(viewer('aad-thursday'), 'office-hours|2026-12-10T14:00', '');
    expect(await a.service.moveOccurrence(lead, '2026-12-08 2026-12-10 16:00')).toMatch(/^Moved: /);
    a.outbox.clear();

    const which = await a.service.cancelOccurrence(lead, '2026-12-10');
    expect(which).toMatch(/^Several sessions meet on 2026-12-10: /);
    expect(which).toContain('office-hours at 14:00, office-hours at 16:00');
    expect((await a.service.find('office-hours|2026-12-10T14:00'))?.status).toBe('scheduled');
    expect(a.outbox.messages).toEqual([]);

    expect(await a.service.cancelOccurrence(lead, '2026-12-10 16:00 Trainer ill')).toBe(
      'Cancelled: FieldLedger office hours on Thu 10 Dec 2026, 16:00 (Africa/Lusaka). 1 person booked was told.',
    );
    expect((await a.service.find('office-hours|2026-12-08T14:00'))?.status).toBe('cancelled');
    expect((await a.service.find('office-hours|2026-12-10T14:00'))?.status).toBe('scheduled');
    expect(a.outbox.messages.map((m) => (m.op === 'send' ? m.to : m.op))).toEqual([{ kind: 'user', userKey: 'aad-moved' }]);
  });
});

describe('the rollout team adding a session dated in the past', () => {
  it('is told the date is past and nothing is added (staff would never see it)', async () => {
    const a = await officeHoursInstance(); // now: Mon 30 Nov 2026
    const form = { title: 'Sync clinic', date: '2025-12-01', time: '10:00', capacity: '10', joinUrl: 'https://teams.microsoft.com/l/x' };
    const once = await a.service.addSession(lead, form);
    expect(once).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/^Date and time: .*past/) });
    const weekly = await a.service.addSession(lead, { ...form, repeat: 'weekly', until: '2026-01-31' });
    expect(weekly).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/^Until: .*past/) });
    expect((await a.service.current()).sessions.filter((s) => s.title === 'Sync clinic')).toEqual([]);

    // A series begun in the past that still meets is fine, and so is one more than a year ahead.
    expect((await a.service.addSession(lead, { ...form, repeat: 'weekly', until: '2027-01-31' })).kind).toBe('added');
    expect((await a.service.addSession(lead, { ...form, title: 'Far ahead', date: '2028-06-01' })).kind).toBe('added');
  });
});

describe('the rollout team adding a session for a cohort or group the form could not list', () => {
  it('is given by its id or name typed on the form; one the rollout file does not have is named, and nothing is added', async () => {
    const a = await officeHoursInstance();
    const form = { title: 'Typed cohort clinic', date: '2026-12-09', time: '10:00', capacity: '10', joinUrl: 'https://teams.microsoft.com/l/x' };
    const byName = await a.service.addSession(lead, { ...form, cohort: 'typed', cohortTyped: 'wave b: sefara, lumbe, dhoro' });
    expect(byName).toMatchObject({ kind: 'added', session: { cohort: 'wave-b' } });
    const training = await a.service.addSession(lead, { ...form, title: 'Typed group training', kind: 'training', group: 'typed', groupTyped: 'supervisors' });
    expect(training).toMatchObject({ kind: 'added', session: { group: 'supervisors' } });
    const unknown = await a.service.addSession(lead, { ...form, title: 'Nowhere clinic', cohort: 'typed', cohortTyped: 'wave-z' });
    expect(unknown).toMatchObject({ kind: 'invalid', error: 'Cohort: no cohort "wave-z" in the rollout file' });
    const empty = await a.service.addSession(lead, { ...form, title: 'Nowhere clinic', cohort: 'typed', cohortTyped: ' ' });
    expect(empty).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/^Cohort: type/) });
    expect((await a.service.current()).sessions.filter((s) => s.title === 'Nowhere clinic')).toEqual([]);
  });
});

describe('what the rollout team reads of those booked on a session they cancelled or moved', () => {
  it('counts them with thousands separated, and one as "1 person"', () => {
    expect(bookedTold(1_204)).toBe('1,204 people booked were told');
    expect(bookedTold(1)).toBe('1 person booked was told');
    expect(bookedTold(0)).toBe('0 people booked were told');
    expect(bookedToldLater(2_003, false)).toBe(
      'The 2,003 people booked could not be told just now; the notice goes out with the next scheduled pass, in a few minutes.',
    );
    expect(bookedToldLater(1, true)).toBe(
      'The 1 person booked could not be told just now; the notice, with an updated calendar entry, goes out with the next scheduled pass, in a few minutes.',
    );
    expect(bookedToldLater(undefined, false)).toMatch(/^Those booked could not be told just now/);
  });
});

describe('the schedule file\'s sessions kept as last served good', () => {
  it('forgetting a host puts their stand-in in the kept copy too: a held session no longer names them', async () => {
    const a = await officeHoursInstance();
    await a.service.keepServed();
    const changes = await ScheduleChanges.open(a.tables, a.clock);
    const kwame = '8d4c6e1a-2b7f-4a3e-9c5d-1e2f3a4b5c61';
    expect((await changes.lastGood(['office-hours'])).get('office-hours')?.hosts.map((h) => h.id)).toContain(kwame);
    await changes.replacePerson((id) => id === kwame, { id: 'former-3f9a', name: 'Former member 3f9a' });
    const hosts = (await changes.lastGood(['office-hours'])).get('office-hours')?.hosts;
    expect(hosts?.map((h) => h.name)).toEqual(['Former member 3f9a', 'Grace Mwansa']);
    expect(JSON.stringify(hosts)).not.toContain(kwame);
  });

  it('forgetting a host whose kept copy took two columns, now one: no old column keeps their name', async () => {
    const a = await officeHoursInstance();
    const changes = await ScheduleChanges.open(a.tables, a.clock);
    const { hosts: sampleHosts, title: _title, ...rest } = sampleSchedule.sessions.find((s) => s.id === 'office-hours') ?? sampleSchedule.sessions[0]!;
    const long = { id: 'aad-long-name', name: `Abena ${'Boateng-'.repeat(15)}` };
    const shaped = (title: string) => ({ ...rest, title, hosts: [...sampleHosts.slice(0, 1), long] });
    // Just past one column (30,000 characters): the last 60, in the second, are the end of her name.
    const session = shaped('x'.repeat(30_060 - JSON.stringify(shaped('')).length));
    expect(JSON.stringify(session)).toHaveLength(30_060);
    await changes.keepGood([{ session, digest: 'd1', since: a.clock.now().toISOString() }]);
    await changes.replacePerson((id) => id === long.id, { id: 'former-3f9a', name: 'Former member 3f9a' });
    const row = await (await a.tables.table('OfficeHoursSchedule')).getEntity<Record<string, unknown>>('good', session.id);
    expect(Object.values(row).filter((v) => typeof v === 'string' && v.includes('Boateng-Boateng'))).toEqual([]);
    expect((await changes.lastGood([session.id])).get(session.id)?.hosts.map((h) => h.name)).toEqual([sampleHosts[0]?.name, 'Former member 3f9a']);
    expect(row).toMatchObject({ digest: 'd1' });
  });
});
