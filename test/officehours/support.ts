import { readFileSync } from 'node:fs';
import { ManualClock } from '../../src/clock.js';
import { AgendaBuilder } from '../../src/officehours/agenda.js';
import { BookingStore } from '../../src/officehours/bookings.js';
import { agendaCard } from '../../src/officehours/cards.js';
import { ScheduleChanges } from '../../src/officehours/changes.js';
import { CalendarLinks } from '../../src/officehours/links.js';
import { OfficeHoursReminders, ReminderMarks } from '../../src/officehours/reminders.js';
import { buildSchedule, parseScheduleFile } from '../../src/officehours/schedule.js';
import { OfficeHoursService, type Viewer } from '../../src/officehours/service.js';
import { MembershipStore } from '../../src/rollout/members.js';
import { parseRollout } from '../../src/rollout/model.js';
import { RolloutDirectory } from '../../src/rollout/service.js';
import type { Schedule } from '../../src/officehours/model.js';
import type { Tables } from '../../src/storage/tables.js';
import { openStore } from '../issues/fixtures.js';
import { CapturedOutbox } from '../support/outbox.js';
import { testTables } from '../support/storage.js';

export const sampleRollout = parseRollout(readFileSync('sample/rollout.yaml', 'utf8'));
export const sampleSchedule = buildSchedule(parseScheduleFile(readFileSync('sample/office-hours.yaml', 'utf8')), sampleRollout);

/**
 * Drops the schedule entries kept as last served good (ScheduleChanges.keepGood), as in storage written before they
 * were kept: a session whose entry is bad then has no good definition anywhere.
 */
export async function dropKeptEntries(tables: Tables): Promise<void> {
  const table = await tables.table('OfficeHoursSchedule');
  for await (const r of table.listEntities({ queryOptions: { filter: "PartitionKey eq 'good'" } })) await table.deleteEntity('good', String(r.rowKey));
}

export const viewer = (id: string, over: Partial<Viewer> = {}): Viewer => ({
  person: { id, name: `Person ${id}` },
  role: 'staff',
  keys: [id],
  zone: 'Africa/Lusaka',
  zoneKnown: true,
  ...over,
});

/**
 * One app instance's office-hours parts on real Tables (Azurite): the service, agenda and reminders, with a
 * captured outbox (`schedule`: the schedule file as it stands, to edit it). Instances made on the same `tables` share one Storage account, as scaled-out instances do.
 */
export async function officeHoursInstance(
  opts: { tables?: Tables; clock?: ManualClock; reachable?: string[]; schedule?: () => Schedule; warn?: (details: Record<string, unknown>, msg: string) => void } = {},
) {
  const tables = opts.tables ?? testTables();
  const clock = opts.clock ?? new ManualClock('2026-11-30T08:00:00Z');
  const outbox = new CapturedOutbox();
  const issueStore = await openStore({ clock });
  const bookings = await BookingStore.open(tables, clock);
  const directory = new RolloutDirectory(() => sampleRollout, await MembershipStore.open(tables, clock));
  const gapsMarked: string[] = [];
  const service = new OfficeHoursService({
    schedule: opts.schedule ?? (() => sampleSchedule),
    changes: await ScheduleChanges.open(tables, clock),
    bookings,
    directory,
    links: await CalendarLinks.open(tables, clock),
    outbox,
    clock,
    calendarUrl: (token) => `https://rollout-desk.example/calendar/${token}`,
    systemName: 'FieldLedger',
    issues: {
      categories: ['Other'],
      report: async () => {
        throw new Error('not used here');
      },
    },
    markGap: async (question) => {
      gapsMarked.push(question);
    },
    warn: opts.warn,
  });
  const agenda = new AgendaBuilder({ bookings, issues: issueStore.queries, gaps: async () => [], categories: ['Other'], now: () => clock.now() });
  const reminders = new OfficeHoursReminders({
    service,
    bookings,
    agenda,
    agendaCard,
    marks: await ReminderMarks.open(tables),
    outbox,
    reachable: async (key) => (opts.reachable ?? []).includes(key),
    leads: { remind: 60, agenda: 120 },
  });
  return { tables, clock, outbox, service, bookings, directory, agenda, reminders, gapsMarked, issueStore };
}
