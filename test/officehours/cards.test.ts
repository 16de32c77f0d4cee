import { describe, expect, it } from 'vitest';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import type { IssueSummary } from '../../src/issues/model.js';
import type { AgendaView } from '../../src/officehours/agenda.js';
import type { Booking } from '../../src/officehours/bookings.js';
import { agendaCard } from '../../src/officehours/cards.js';
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
  const booked = Array.from({ length: 25 }, (_, i) => {
    const booking: Booking = {
      id: `B-${String(i).padStart(8, '0')}`,
      occurrenceId: occurrence.id,
      personId: `3f6c2a10-7d41-4b8e-9a55-1c0e6f2b7a${String(i).padStart(2, '0')}`,
      name: `Booked Person ${i}`,
      question: `Question ${i}: ${'why does the monthly report refuse my totals after sync '.repeat(9)}`.slice(0, 500),
      zone: 'Africa/Lusaka',
      status: 'booked',
      bookedAt: '2026-11-30T08:00:00Z',
      start: occurrence.start.toISOString(),
    };
    const openIssues: IssueSummary[] = Array.from({ length: 3 }, (_, j) => ({
      ref: `R-${String(i * 3 + j).padStart(4, '0')}`,
      title: 'Sync stops half-way on the district tablet and the report stays in draft',
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
    seats: { booked: 25, attended: 0 },
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
    expect(JSON.stringify(card)).toContain(`"personId":"${fullSession().booked[before]!.booking.personId}","index":${before}}`);
  });
});
