import { call } from '../api.js';
import { h, fill } from '../dom.js';
import { day, num, pct, when } from '../format.js';
import type { CommunicationsMetrics, OfficeHoursMetrics, SessionAttendance } from '../types.js';

/** The panels other features fill: shown only when the server has their provider (see /api/tab/me). */

export async function communicationsView(root: HTMLElement): Promise<void> {
  const c = await call<CommunicationsMetrics>('communications');
  fill(root, 
    h(
      'section',
      { className: 'panel', 'aria-labelledby': 'comms-h' },
      h('h2', { id: 'comms-h' }, 'Communications'),
      h('dl', { className: 'facts' }, h('div', {}, h('dt', {}, 'Delivered'), h('dd', {}, pct(c.deliveredShare))), h('div', {}, h('dt', {}, 'Acknowledged'), h('dd', {}, pct(c.acknowledgedShare)))),
      c.messages.length
        ? h(
            'table',
            {},
            h('caption', {}, 'Messages of the communication plan'),
            h('thead', {}, h('tr', {}, ...['Message', 'Sent', 'Audience', 'Recipients', 'Delivered', 'Acknowledged', 'Failed'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, ...c.messages.map((m) => h('tr', {}, h('th', { scope: 'row', className: 'text' }, m.title), h('td', {}, when(m.sentAt)), h('td', { className: 'text' }, m.audience), h('td', {}, num(m.recipients)), h('td', {}, num(m.delivered)), h('td', {}, num(m.acknowledged)), h('td', {}, num(m.failed))))),
          )
        : h('p', { className: 'empty' }, 'No message sent in this period.'),
    ),
  );
}

/** A session not yet held, or held but not marked by its host yet, has no attended figure: it says why, not "0". */
const attendedCell = (s: SessionAttendance): string =>
  s.state === 'underway' ? 'Under way' : s.state === 'upcoming' ? 'Upcoming' : s.attended === null ? 'Not marked yet' : num(s.attended);

export async function officeHoursView(root: HTMLElement): Promise<void> {
  const o = await call<OfficeHoursMetrics>('officehours');
  fill(root, 
    h(
      'section',
      { className: 'panel', 'aria-labelledby': 'oh-h' },
      h('h2', { id: 'oh-h' }, 'Office hours'),
      h(
        'dl',
        { className: 'facts' },
        h('div', {}, h('dt', {}, 'Bookings'), h('dd', {}, num(o.bookings))),
        // Over the sessions held only: a session still to come has nobody marked present yet, and is no no-show.
        h('div', {}, h('dt', {}, 'Attended, of sessions held'), h('dd', {}, o.heldBookings ? `${num(o.attended)} of ${num(o.heldBookings)} booked (${pct(o.attendedShare)})` : 'No session held yet')),
        h('div', {}, h('dt', {}, 'Booked on sessions to come'), h('dd', {}, num(o.upcomingBookings))),
        o.unmarkedSessions ? h('div', {}, h('dt', {}, 'Attendance not marked yet'), h('dd', {}, `${num(o.unmarkedSessions)} ${o.unmarkedSessions === 1 ? 'session' : 'sessions'} held`)) : null,
      ),
      o.sessions.length
        ? h(
            'table',
            {},
            h('caption', {}, 'Sessions'),
            h('thead', {}, h('tr', {}, ...['Session', 'When', 'Capacity', 'Booked', 'Attended'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, ...o.sessions.map((s) => h('tr', {}, h('th', { scope: 'row', className: 'text' }, s.title), h('td', {}, when(s.startsAt)), h('td', {}, s.capacity === null ? '—' : num(s.capacity)), h('td', {}, num(s.booked)), h('td', {}, attendedCell(s))))),
          )
        : h('p', { className: 'empty' }, 'No office hours session in this period.'),
      o.groups.length
        ? h(
            'table',
            {},
            h('caption', {}, 'Trained before go-live, by group'),
            h('thead', {}, h('tr', {}, ...['Group', 'Go-live', 'People', 'Trained before go-live'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, ...o.groups.map((g) => h('tr', {}, h('th', { scope: 'row', className: 'text' }, g.group), h('td', {}, day(g.goLive)), h('td', {}, num(g.people)), h('td', {}, `${num(g.trainedBeforeGoLive)} (${pct(g.share)})`)))),
          )
        : h('p', { className: 'empty' }, 'No groups with a go-live date are set up.'),
    ),
  );
}
