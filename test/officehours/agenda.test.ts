import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { AGENDA_PAGE, AgendaBuilder, LOOKUPS_AT_ONCE } from '../../src/officehours/agenda.js';
import { BookingStore } from '../../src/officehours/bookings.js';
import type { Occurrence } from '../../src/officehours/model.js';
import { summaryLine } from '../issues/fixtures.js';
import { testTables } from '../support/storage.js';
import { sampleSchedule } from './support.js';

describe('the agenda of a large session', () => {
  it('names the open issues of the people on the page shown, looking them up a few at a time (not a query for each of the 120 booked)', async () => {
    const clock = new ManualClock('2027-01-01T08:00:00Z');
    const bookings = await BookingStore.open(testTables(), clock);
    const session = sampleSchedule.sessions[0]!;
    const o: Occurrence = {
      id: 'office-hours|2027-01-05T14:00',
      key: '2027-01-05T14:00',
      session: { ...session, capacity: 120 },
      start: new Date('2027-01-05T12:00:00Z'),
      end: new Date('2027-01-05T13:00:00Z'),
      status: 'scheduled',
      sequence: 0,
    };
    const details = { question: '', zone: 'Africa/Lusaka', start: o.start.toISOString() };
    for (let i = 0; i < 120; i += 4) {
      await Promise.all(Array.from({ length: 4 }, (_, j) => bookings.book(o.id, 120, { id: `aad-${i + j}`, name: `Person ${i + j}` }, details)));
    }
    let inFlight = 0;
    let most = 0;
    const looked: string[] = [];
    const agenda = new AgendaBuilder({
      bookings,
      issues: {
        listByReporter: async (reporterId) => {
          most = Math.max(most, ++inFlight);
          looked.push(reporterId);
          await new Promise((r) => setTimeout(r, 2));
          inFlight--;
          return { items: [summaryLine(`R-${reporterId.slice(4)}`, '2027-01-02T08:00:00Z', { reporter: { id: reporterId, name: reporterId } })], next: null };
        },
        triageQueue: async () => ({ items: [], next: null }),
      },
      gaps: async () => [],
      categories: ['Other'],
      now: () => clock.now(),
    });
    const view = await agenda.view(o, undefined, 2);
    expect(view.booked).toHaveLength(120);
    const onPage = view.booked.slice(2 * AGENDA_PAGE, 3 * AGENDA_PAGE);
    expect(onPage.every((b) => b.openIssues.length === 1 && b.openIssues[0]!.ref === `R-${b.booking.personId.slice(4)}`)).toBe(true);
    expect(view.booked.filter((b) => b.openIssues.length > 0)).toHaveLength(AGENDA_PAGE);
    expect(looked.sort()).toEqual(onPage.map((b) => b.booking.personId).sort());
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(LOOKUPS_AT_ONCE);
  });
});
