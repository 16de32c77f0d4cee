import { describe, expect, it } from 'vitest';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import type { IssueSummary } from '../../src/issues/model.js';
import type { AgendaView } from '../../src/officehours/agenda.js';
import type { Booking } from '../../src/officehours/bookings.js';
import { addFormCard, agendaCard, bookingCard, scheduleCard, trainingCard } from '../../src/officehours/cards.js';
import type { Rollout } from '../../src/rollout/index.js';
import type { Occurrence, Session } from '../../src/officehours/model.js';

const session: Session = {
  id: 'office-hours',
  kind: 'office-hours',
  title: 'FieldLedger office hours',
  start: '2026-12-01T14:00',
  zone: 'Africa/Lusaka',
  minutes: 90,
  capacity: 25,
  joinUrl: 'https://teams.microsoft.com/l/meetup-join/office-hours',
  hosts: [],
  changes: [],
  source: 'file',
};
const occurrence: Occurrence = {
  id: 'office-hours|2026-12-01T14:00',
  key: '2026-12-01T14:00',
  session,
  start: new Date('2026-12-01T12:00:00Z'),
  end: new Date('2026-12-01T13:30:00Z'),
  status: 'scheduled',
  sequence: 0,
};

function fullSession(over: (b: Booking, i: number) => Partial<Booking> = () => ({})): AgendaView {
  return bookedSession(25, over);
}

/** `n` booked, each with a long question and three open issues: the largest agenda a session of `n` gives. */
function bookedSession(n: number, over: (b: Booking, i: number) => Partial<Booking> = () => ({}), issueTitle = 'Sync stops half-way on the district tablet and the report stays in draft'): AgendaView {
  const booked = Array.from({ length: n }, (_, i) => {
    const booking: Booking = {
      id: `B-${String(i).padStart(8, '0')}`,
      occurrenceId: occurrence.id,
      personId: `3f6c2a10-7d41-4b8e-9a55-1c0e6f2b${String(i).padStart(4, '0')}`,
      name: `Booked Person ${i}`,
      question: `Question ${i}: ${'why does the monthly report refuse my totals after sync '.repeat(9)}`.slice(0, 500),
      zone: 'Africa/Lusaka',
      status: 'booked',
      bookedAt: '2026-11-30T08:00:00Z',
      start: occurrence.start.toISOString(),
    };
    const openIssues: IssueSummary[] = Array.from({ length: 3 }, (_, j) => ({
      ref: `R-${String(i * 3 + j).padStart(4, '0')}`,
      title: issueTitle,
      status: 'new',
      priority: null,
      severity: 'slows',
      category: 'Sync and offline',
      site: 'Oskaya',
      assignee: null,
      reporter: { id: booking.personId, name: booking.name },
      affectedCount: 0,
      createdAt: '2026-11-29T08:00:00Z',
    }));
    return { booking: { ...booking, ...over(booking, i) }, openIssues };
  });
  return {
    occurrence,
    seats: { booked: n, attended: 0 },
    booked,
    popular: [],
    gaps: [],
    categories: ['Login and access', 'Data entry', 'Sync and offline', 'Reports', 'Devices', 'Training', 'Other'],
  };
}

const forms = (card: unknown) => (JSON.stringify(card).match(/"verb":"officehours.questionIssue"/g) ?? []).length;

describe('the hosts’ agenda of a full session', () => {
  it('fits in one Teams message when all 25 booked brought a long question, naming every one of them', () => {
    const card = agendaCard(fullSession());
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const text = JSON.stringify(card);
    for (let i = 0; i < 25; i++) expect(text).toContain(`Booked Person ${i}: Question ${i}:`);
    expect(forms(card)).toBeGreaterThan(0);
  });

  it('gives the "Log as an issue" forms to the questions not yet logged', () => {
    const before = forms(agendaCard(fullSession()));
    // The first ones logged: the forms move down to those still open.
    const card = agendaCard(fullSession((b, i) => (i < before ? { issueRef: `R-9${String(i).padStart(3, '0')}` } : {})));
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    expect(JSON.stringify(card)).toContain(`"personId":"${fullSession().booked[before]!.booking.personId}","index":${before},"page":0}`);
  });
});

/** The people a card's "Mark attendance" lists (the toggles' ids) and the ids its Save button says were shown. */
function attendance(card: unknown): { toggles: string[]; shown: unknown } {
  const toggles: string[] = [];
  let shown: unknown;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.type === 'Input.Toggle') toggles.push(String(o.valueOn));
    if (o.type === 'Action.Execute' && o.verb === 'officehours.attendance') shown = (o.data as Record<string, unknown>).shown;
    Object.values(o).forEach(walk);
  };
  walk(card);
  return { toggles, shown };
}

/** The page an Action.Execute titled like `title` (Previous / Next) redraws, or undefined when the card has none. */
function pageButton(card: unknown, title: RegExp): number | undefined {
  const actions = ((card as { actions?: { type: string; verb?: string; title?: string; data?: { page?: number } }[] }).actions ?? []);
  const found = actions.find((a) => a.verb === 'officehours.agenda' && title.test(a.title ?? ''));
  return found?.data?.page;
}

describe('the hosts’ agenda of a large session, a page of people at a time', () => {
  for (const n of [40, 300, 1000]) {
    it(`fits in one Teams message with ${n} booked, each with a long question and open issues, on every page`, () => {
      const view = bookedSession(n);
      const pages = Math.ceil(n / 25);
      // The first, a middle and the last page: each a message Teams takes.
      for (const page of [0, Math.floor(pages / 2), pages - 1]) {
        const card = agendaCard(view, page);
        expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
        expect(attendance(card).toggles.length).toBeGreaterThan(0);
      }
    });
  }

  it('fits with the longest names Teams gives (120 characters) and the longest issue titles, still naming every question of the page', () => {
    const view = bookedSession(300, (_b, i) => ({ name: `Booked Person ${i} ${'Mwansa-Banda '.repeat(10)}`.slice(0, 120) }), 'T'.repeat(120));
    for (const page of [0, 5, 11]) {
      const card = agendaCard(view, page);
      expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
      const text = JSON.stringify(card);
      for (let i = page * 25; i < (page + 1) * 25; i++) expect(text).toContain(`Booked Person ${i} Mwansa`);
      expect(attendance(card).toggles).toHaveLength(25);
      expect(forms(card)).toBeGreaterThan(0);
    }
  });

  it('page 2 of 300 names people 26–50, ticks only theirs, and its Save button sends exactly their ids', () => {
    const view = bookedSession(300, (_b, i) => (i === 30 ? { attended: true } : {}));
    const card = agendaCard(view, 1);
    const text = JSON.stringify(card);
    expect(text).toContain('People 26–50 of 300');
    const ids = view.booked.slice(25, 50).map((b) => b.booking.personId);
    const { toggles, shown } = attendance(card);
    expect(toggles).toEqual(ids);
    expect(shown).toEqual(ids);
    // Their questions are on this page; page 1's are not.
    expect(text).toContain('Booked Person 26: Question 26:');
    expect(text).not.toContain('Booked Person 3: Question 3:');
    // Person 30 was marked present: the toggle shows it.
    expect(text).toContain(`"valueOn":"${ids[5]}","valueOff":"","value":"${ids[5]}"`);
    expect(pageButton(card, /previous/i)).toBe(0);
    expect(pageButton(card, /next/i)).toBe(2);
    // Its question buttons name the page, so the card redraws on it after a question is logged or marked.
    expect(text).toContain(`"action":"officehours.questionGap","occurrenceId":"${occurrence.id}","personId":"${ids[1]}","page":1}`);
  });

  it('the first page has no "Previous", the last no "Next"; a page past the end (a forged number) shows the last', () => {
    const view = bookedSession(60);
    expect(pageButton(agendaCard(view), /previous/i)).toBeUndefined();
    expect(pageButton(agendaCard(view), /next/i)).toBe(1);
    for (const page of [2, 99, 1e9]) {
      const last = agendaCard(view, page);
      expect(JSON.stringify(last)).toContain('People 51–60 of 60');
      expect(attendance(last).toggles).toEqual(view.booked.slice(50).map((b) => b.booking.personId));
      expect(pageButton(last, /next/i)).toBeUndefined();
      expect(pageButton(last, /previous/i)).toBe(1);
    }
  });

  it('a session that fits on one page has no paging and lists everyone', () => {
    const card = agendaCard(bookedSession(25));
    expect(JSON.stringify(card)).not.toMatch(/People \d+–\d+ of/);
    expect(pageButton(card, /./)).toBeUndefined();
    expect(attendance(card).toggles).toHaveLength(25);
  });
});

describe('the "office hours" list', () => {
  const view = { zone: 'Africa/Lusaka', zoneKnown: true };
  const now = new Date('2026-11-30T08:00:00Z');
  const hosts = Array.from({ length: 10 }, (_, i) => ({ id: `host-${i}`, name: `Host ${i} ${'Mwansa-Banda '.repeat(10)}`.slice(0, 120) }));

  it('shows a session whose join link alone is past the 40 KB Teams takes, without that link, so the list still goes on', () => {
    const huge: Occurrence = { ...occurrence, session: { ...session, hosts, topic: 'T'.repeat(300), joinUrl: `https://teams.microsoft.com/l/meetup-join/${'x'.repeat(30_000)}` } };
    const next: Occurrence = { ...occurrence, id: 'office-hours|2026-12-03T14:00', key: '2026-12-03T14:00', start: new Date('2026-12-03T12:00:00Z'), end: new Date('2026-12-03T13:30:00Z') };
    const card = scheduleCard({ offers: [huge, next].map((o) => ({ occurrence: o, seats: { booked: 0, attended: 0 } })), index: 0, total: 2, keep: 'start' }, view, now);
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const text = JSON.stringify(card);
    expect(text).toContain('"occurrenceId":"office-hours|2026-12-01T14:00"');
    expect(text).toContain('The join link is too long to show here');
    expect(text).toContain('Sessions 1–1 of 2');
    expect(text).toContain(`"after":"${huge.start.getTime()}|office-hours|2026-12-01T14:00"`);
  });
});

describe('the "my training" card', () => {
  const view = { zone: 'Africa/Lusaka', zoneKnown: true };
  const now = new Date('2026-11-30T08:00:00Z');
  const training = {
    membership: { groups: [{ id: 'officers', name: 'Field officers' }] },
    items: ['FL-1', 'FL-2', 'FL-3'].map((course) => ({ course, title: `${course} course`, groupId: 'officers', status: 'unscheduled' as const })),
  };

  it('"More courses" from a course no longer on the timeline starts again from the first, saying so', () => {
    const text = JSON.stringify(trainingCard(training, view, now, 'FL-gone'));
    expect(text).toContain('Your timeline changed since that card: here it is from the first course.');
    expect(text).toContain('FL-1 course');
    expect(text).not.toContain('"title":"First courses"');
  });

  it('from a course on the timeline, shows the ones after it, with a way back to the first', () => {
    const text = JSON.stringify(trainingCard(training, view, now, 'FL-1'));
    expect(text).not.toContain('FL-1 course');
    expect(text).toContain('FL-2 course');
    expect(text).toContain('Courses 2–3 of 3');
    expect(text).toContain('"title":"First courses"');
    expect(text).not.toContain('changed since that card');
  });
});

describe('the agenda\'s "Log as an issue" form', () => {
  it('fills the issue title from the question without cutting an emoji in half (it came back as "\uFFFD" in the issue)', () => {
    const view = bookedSession(1, () => ({ question: `${'x'.repeat(119)}😀 and more after the title's 120` }));
    const card = JSON.stringify(agendaCard(view));
    const title = /"id":"title0"[^}]*"value":"([^"]*)"/.exec(card)?.[1] ?? /"value":"([^"]*)"[^}]*"id":"title0"/.exec(card)?.[1];
    expect(title).toBe('x'.repeat(119));
    expect(card).not.toMatch(/\\ud83d(?!\\ude00)/i);
  });
});

describe('the "office hours add" form on a rollout file of the largest size it allows', () => {
  const long = (s: string, n: number) => `${s} ${'x'.repeat(n)}`.slice(0, n);
  const big = {
    cohorts: Array.from({ length: 200 }, (_, i) => ({ id: `c-${i}`, name: long(`Cohort ${i}`, 120), goLive: '2027-03-01', zone: 'Africa/Lusaka' })),
    groups: Array.from({ length: 200 }, (_, i) => ({ id: `g-${i}`, name: long(`Group ${i}`, 120) })),
  } as unknown as Pick<Rollout, 'cohorts' | 'groups'>;

  it('is one card Teams accepts (it was 140 KB): the cohorts and groups that do not fit are typed by id or name, and the form says how many', () => {
    const card = addFormCard(big, 'Africa/Lusaka');
    expect(utf16Bytes(card)).toBeLessThanOrEqual(TEAMS_MESSAGE_LIMIT_BYTES);
    const text = JSON.stringify(card);
    expect(text).toContain('"value":"c-0"');
    expect(text).toMatch(/Another cohort: type its id or name \(\d+ more are not listed\)/);
    expect(text).toMatch(/Another user group: type its id or name \(\d+ more are not listed\)/);
    expect(text).toContain('"id":"cohortTyped"');
    expect(text).toContain('"id":"groupTyped"');
  });

  it('the title and topic inputs stop at the lengths the server accepts, so a long paste is cut where typed, not refused after', async () => {
    const { sessionSchema } = await import('../../src/officehours/schedule.js');
    const inputs = (addFormCard(big, 'Africa/Lusaka') as unknown as { body: { id?: string; maxLength?: number }[] }).body as { id?: string; maxLength?: number }[];
    const limit = (field: 'title' | 'topic') => sessionSchema.shape[field].safeParse('x'.repeat(1000)).error?.issues[0]?.message;
    expect(inputs.find((i) => i.id === 'title')?.maxLength).toBe(120);
    expect(inputs.find((i) => i.id === 'topic')?.maxLength).toBe(300);
    expect(limit('title')).toBe('must be at most 120 characters');
    expect(limit('topic')).toBe('must be at most 300 characters');
  });

  it('a rollout file whose cohorts and groups all fit lists them all, with nothing to type', () => {
    const text = JSON.stringify(addFormCard({ cohorts: big.cohorts.slice(0, 3), groups: big.groups.slice(0, 3) }, 'Africa/Lusaka'));
    expect(text).toContain('"value":"c-2"');
    expect(text).not.toContain('cohortTyped');
    expect(text).not.toContain('groupTyped');
  });
});

describe('the booking card of a session with no join link (the schedule file\'s was set aside as bad)', () => {
  it('offers no Join button, rather than one that opens nothing; with a link it does', () => {
    const joins = (joinUrl: string) => {
      const card = bookingCard({ occurrence: { ...occurrence, session: { ...session, joinUrl } }, seats: { booked: 1, attended: 0 } }, { zone: 'Africa/Lusaka', zoneKnown: true }, new Date('2026-11-30T08:00:00Z'));
      return (card as unknown as { actions: { title: string; url?: string }[] }).actions.filter((a) => a.title === 'Join');
    };
    expect(joins('')).toEqual([]);
    expect(joins(session.joinUrl)).toEqual([expect.objectContaining({ url: session.joinUrl })]);
  });
});
