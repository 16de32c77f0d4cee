import type { GapGroup } from '../faq/gaps.js';
import { type IssueSummary, isOpen } from '../issues/model.js';
import type { IssueQueries } from '../issues/queries.js';
import { mapLimit } from '../map-limit.js';
import type { Booking, BookingStore, Seats } from './bookings.js';
import type { Occurrence } from './model.js';

/**
 * The hosts' agenda for one occurrence: what those booked are bringing, what they are stuck on in the issue
 * log, what many people have +1'd this week, and the questions the guidance could not answer.
 */
export interface AgendaView {
  occurrence: Occurrence;
  seats: Seats;
  booked: { booking: Booking; openIssues: IssueSummary[] }[];
  popular: IssueSummary[];
  gaps: GapGroup[];
  categories: readonly string[];
  notice?: string;
}

export interface AgendaDeps {
  bookings: Pick<BookingStore, 'bookings' | 'seatsOf'>;
  issues: Pick<IssueQueries, 'listByReporter' | 'triageQueue'>;
  gaps: (days: number) => Promise<GapGroup[]>;
  categories: readonly string[];
  now: () => Date;
}

/**
 * People per page of the agenda (their questions and attendance toggles): a page of the largest agenda —
 * each with a long question and open issues — still fits one Teams message, whatever the session's capacity.
 */
export const AGENDA_PAGE = 25;

/** Page `page` of `count` booked people: a number past the end (forged, or people cancelled since) is the last page. */
export function agendaPage(count: number, page: number): { page: number; pages: number; start: number; end: number } {
  const pages = Math.max(1, Math.ceil(count / AGENDA_PAGE));
  const at = Math.min(Math.max(0, Number.isFinite(page) ? Math.trunc(page) : 0), pages - 1);
  return { page: at, pages, start: at * AGENDA_PAGE, end: Math.min(count, (at + 1) * AGENDA_PAGE) };
}

const WEEK_MS = 7 * 24 * 3600_000;
/** The open queue read for "most +1'd this week": a bounded read of the queue partition, never the whole log. */
const POPULAR_SCAN_PAGES = 5;
/** Booked people whose open issues are looked up at once. */
export const LOOKUPS_AT_ONCE = 8;
const PAGE = 50;

/** Open issues created in the last week that others joined (+1), most joined first. */
export function mostJoinedThisWeek(open: readonly IssueSummary[], now: Date, limit = 5): IssueSummary[] {
  const since = now.getTime() - WEEK_MS;
  return open
    .filter((i) => isOpen(i.status) && i.affectedCount > 0 && Date.parse(i.createdAt) >= since)
    .sort((a, b) => b.affectedCount - a.affectedCount || b.createdAt.localeCompare(a.createdAt))
    .slice(0, limit);
}

const byName = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

export class AgendaBuilder {
  constructor(private readonly d: AgendaDeps) {}

  /**
   * The agenda as page `page` of it shows (see `agendaPage`): everyone booked, with the open issues of the people on
   * that page only (a turn looks up 25 people, not the 1,000 a large session may seat).
   */
  async view(o: Occurrence, notice?: string, page = 0): Promise<AgendaView> {
    const [all, seats, open, gaps] = await Promise.all([
      this.d.bookings.bookings(o.id),
      this.d.bookings.seatsOf(o.id),
      this.openQueue(),
      this.d.gaps(7),
    ]);
    const inOrder = all
      .filter((b) => b.status === 'booked')
      // In name order: the agenda is paged, and a host looks a person up by name.
      .sort((a, b) => byName.compare(a.name, b.name) || (a.personId < b.personId ? -1 : a.personId > b.personId ? 1 : 0));
    const { start, end } = agendaPage(inOrder.length, page);
    // A few lookups at a time: a burst of one query per person is one storage answers slowly.
    const booked = await mapLimit(
      inOrder.map((booking, at) => ({ booking, at })),
      LOOKUPS_AT_ONCE,
      async ({ booking, at }) => ({
        booking,
      openIssues:
        at >= start && at < end
          ? (await this.d.issues.listByReporter(booking.personId, { limit: 20 })).items.filter((i) => isOpen(i.status)).slice(0, 3)
          : [],
      }),
    );
    const view: AgendaView = {
      occurrence: o,
      seats,
      booked,
      popular: mostJoinedThisWeek(open, this.d.now()),
      gaps: gaps.slice(0, 5),
      categories: this.d.categories,
    };
    if (notice) view.notice = notice;
    return view;
  }

  private async openQueue(): Promise<IssueSummary[]> {
    const out: IssueSummary[] = [];
    let token: string | null = null;
    for (let i = 0; i < POPULAR_SCAN_PAGES; i++) {
      const page = await this.d.issues.triageQueue({}, { limit: PAGE, token });
      out.push(...page.items);
      token = page.next;
      if (!token) break;
    }
    return out;
  }
}
