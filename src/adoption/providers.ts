import type { Clock } from '../clock.js';
import type { Tally } from '../broadcast/deliveries.js';
import type { Send } from '../broadcast/model.js';
import { reportOf } from '../broadcast/progress.js';
import type { GroupTrained, OccurrenceCount } from '../officehours/measures.js';
import type {
  CommunicationsMetrics,
  CommunicationsProvider,
  DayRange,
  MessageDelivery,
  OfficeHoursMetrics,
  OfficeHoursProvider,
  SessionAttendance,
  SessionState,
} from './metrics.js';

/**
 * The dashboard's Communications and Office hours panels, filled from what the communication plan
 * (src/broadcast) and office hours (src/officehours) already keep: their sends, delivery rows and
 * acknowledgements; their occurrences, bookings and the rollout's user groups. Read on a page view, but
 * bounded: a rollout has hundreds of sends and sessions, and each send's rows are one partition.
 */

const percent = (part: number, whole: number): number | null => (whole > 0 ? Math.round((1000 * part) / whole) / 10 : null);
const inRange = (iso: string, range: DayRange): boolean => {
  const day = iso.slice(0, 10);
  return day >= range.from && day <= range.to;
};

export interface BroadcastFacts {
  /** Every send (a rollout has hundreds). */
  sends(): Promise<Send[]>;
  tally(sendId: string): Promise<Tally>;
  /** User keys a send reached 1:1. */
  reachedUsers(sendId: string): Promise<string[]>;
  /** User keys (lower case) that pressed "Got it" toward a send. */
  acknowledged(sendId: string): Promise<Set<string>>;
}

/**
 * Each message sent in the range (a reminder or a resend counts toward its original, as the delivery report
 * does): recipients, delivered, acknowledged, failed. The delivered share is over everyone a message was
 * for; the acknowledged share is over the people reached 1:1 (a channel post has no base to divide by).
 */
export class BroadcastCommunications implements CommunicationsProvider {
  constructor(private readonly facts: BroadcastFacts) {}

  async communications(range: DayRange): Promise<CommunicationsMetrics> {
    const sends = (await this.facts.sends()).filter((s) => s.startedAt && s.ackFor === s.id && inRange(s.startedAt, range));
    const rows = await Promise.all(
      sends.map(async (send) => {
        const [tally, reached, acked] = await Promise.all([
          this.facts.tally(send.id),
          this.facts.reachedUsers(send.id),
          this.facts.acknowledged(send.id),
        ]);
        const r = reportOf(send, tally, { reached, acked });
        const message: MessageDelivery = {
          id: send.id,
          title: send.content.title,
          sentAt: send.startedAt,
          audience: send.audienceLabel,
          recipients: r.total,
          delivered: r.counts.sent,
          acknowledged: r.toChannel ? r.channelAcknowledged : r.acknowledged,
          failed: r.counts.failed + r.counts.blocked + r.counts.notInstalled,
        };
        return { message, reached: r.reached, acknowledged: r.acknowledged };
      }),
    );
    const sum = (f: (x: (typeof rows)[number]) => number) => rows.reduce((n, x) => n + f(x), 0);
    return {
      messages: rows.map((x) => x.message).sort((a, b) => b.sentAt.localeCompare(a.sentAt)),
      deliveredShare: percent(sum((x) => x.message.delivered), sum((x) => x.message.recipients)),
      acknowledgedShare: percent(sum((x) => x.acknowledged), sum((x) => x.reached)),
    };
  }
}

export interface OfficeHoursFacts {
  /** Bookings and attendance of each occurrence starting in [from, to) (src/officehours/measures.ts). */
  occurrences(from: Date, to: Date): Promise<OccurrenceCount[]>;
  /** Each user group (in each cohort) with a training series: members and those trained before go-live. */
  trainedBeforeGoLive(): Promise<GroupTrained[]>;
}

/**
 * Office hours and training in the range: each session's bookings and attendance, and each user group's share
 * trained before its go-live. A session counts as held once it has ended: before then nobody is marked present
 * yet, so its "0 attended" would read as a no-show and its bookings would drag the attended share down. For the
 * same reason a session held whose host has not marked attendance yet has no attended figure and stays out of
 * the share until they do.
 */
export class OfficeHoursFigures implements OfficeHoursProvider {
  constructor(
    private readonly facts: OfficeHoursFacts,
    private readonly clock: Clock,
  ) {}

  async officeHours(range: DayRange): Promise<OfficeHoursMetrics> {
    const from = new Date(`${range.from}T00:00:00Z`);
    const to = new Date(Date.parse(`${range.to}T00:00:00Z`) + 86_400_000);
    const [occurrences, groups] = await Promise.all([this.facts.occurrences(from, to), this.facts.trainedBeforeGoLive()]);
    const now = this.clock.now().getTime();
    const stateOf = (o: OccurrenceCount): SessionState => (Date.parse(o.end) <= now ? 'held' : Date.parse(o.start) <= now ? 'underway' : 'upcoming');
    const sessions: SessionAttendance[] = occurrences
      .filter((o) => o.status === 'scheduled')
      .map((o) => {
        const state = stateOf(o);
        // Held with people booked but nobody marked yet: the host has yet to mark it, which is not "0 attended".
        const known = state === 'held' && (o.attendanceTaken || o.booked === 0);
        return { id: o.occurrenceId, title: o.title, startsAt: o.start, capacity: o.capacity, state, booked: o.booked, attended: known ? o.attended : null };
      });
    const held = sessions.filter((s) => s.state === 'held');
    const marked = held.filter((s) => s.attended !== null);
    const sum = (list: SessionAttendance[], f: (s: SessionAttendance) => number) => list.reduce((n, s) => n + f(s), 0);
    const heldBookings = sum(marked, (s) => s.booked);
    const attended = sum(marked, (s) => s.attended ?? 0);
    return {
      sessions,
      bookings: sum(sessions, (s) => s.booked),
      upcomingBookings: sum(sessions.filter((s) => s.state !== 'held'), (s) => s.booked),
      heldBookings,
      attended,
      attendedShare: percent(attended, heldBookings),
      unmarkedSessions: held.length - marked.length,
      groups: groups.map((g) => ({
        group: `${g.groupName} in ${g.cohortName}`,
        goLive: g.goLive,
        people: g.members,
        trainedBeforeGoLive: g.trainedBeforeGoLive,
        share: percent(g.trainedBeforeGoLive, g.members),
      })),
    };
  }
}
