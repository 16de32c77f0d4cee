import { DateTime } from 'luxon';
import type { AskedQuestion } from '../faq/questions.js';
import { groupGaps, questionTerms, similarity } from '../faq/gaps.js';
import { type IssueSummary, isUrgent, type SlaConfig } from '../issues/model.js';
import { AskerSketch, DistinctCounter } from './distinct.js';
import type { IssueEvent } from './events.js';
import { personHash } from './events.js';

/**
 * The adoption figures as daily and weekly aggregates: pure folds from one day's events and questions to a
 * day's figures, and from a week's days to the week's. The roll-up stores these; every page view and the
 * digest read them, never the rows they were made from. Days are UTC days; weeks start on Monday.
 */

export type Counts = Record<string, number>;

/** One group of questions the guidance did not answer well, as the dashboard and digest list them. */
export interface GapLine {
  example: string;
  /** Questions in the group. */
  count: number;
  /**
   * People who asked (at least 1 on a line rolled up before this was kept). Merged over days through `people`,
   * so one person asking on several days counts once; without a sketch on both sides, the days' figures add up.
   */
  askers?: number;
  /** Who asked, as a sketch that holds no id (`AskerSketch`, hex). */
  people?: string;
  unanswered: number;
  notHelpful: number;
  lastAskedAt: string;
  /** The words that group it (stemmed), to merge groups across days. */
  terms: string[];
}

/** An open issue as the "oldest open" lists show it. */
export interface OpenLine {
  ref: string;
  title: string;
  status: string;
  priority: string;
  category: string;
  site: string;
  assignee: string;
  createdAt: string;
}

/** The open backlog when the roll-up last ran that day. */
export interface OpenSnapshot {
  at: string;
  total: number;
  untriaged: number;
  /** New issues older than the SLA (the escalation SLA for urgent ones). */
  pastSla: number;
  byStatus: Counts;
  byCategory: Counts;
  bySite: Counts;
  byPriority: Counts;
  oldest: OpenLine[];
}

export interface DayFigures {
  day: string;
  questions: { asked: number; answered: number; rated: number; helpful: number };
  issues: {
    opened: number;
    triaged: number;
    resolved: number;
    /** Triaged later than the SLA that day. */
    lateTriage: number;
    openedBy: { category: Counts; site: Counts; priority: Counts };
    resolvedBy: { category: Counts; site: Counts; priority: Counts };
    /** Minutes from logging, one value per issue (capped; see MAX_DURATIONS). */
    triageMinutes: number[];
    resolveMinutes: number[];
  };
  gaps: GapLine[];
  /** Distinct people who asked, logged or acted that day (a sketch, see distinct.ts). */
  active: string;
  open?: OpenSnapshot;
}

export interface WeekFigures {
  /** The Monday that starts the week. */
  week: string;
  days: number;
  activeUsers: number;
  questions: DayFigures['questions'];
  shareAnswered: number | null;
  shareHelpful: number | null;
  issues: {
    opened: number;
    triaged: number;
    resolved: number;
    lateTriage: number;
    openedBy: DayFigures['issues']['openedBy'];
    resolvedBy: DayFigures['issues']['resolvedBy'];
    medianMinutesToTriage: number | null;
    medianMinutesToResolve: number | null;
  };
  gaps: GapLine[];
  /** The latest snapshot of the week. */
  open: OpenSnapshot | null;
}

export const MAX_GAPS_PER_DAY = 30;
export const MAX_DURATIONS = 3000;
const MAX_OLDEST = 10;
const GAP_THRESHOLD = 0.5;

const bump = (c: Counts, key: string, n = 1) => {
  c[key] = (c[key] ?? 0) + n;
};
export const addCounts = (into: Counts, from: Counts) => {
  for (const [k, v] of Object.entries(from)) bump(into, k, v);
};

/** Keeps at most `max` values, evenly spread over the sorted list, so the median stays where it was. */
export function boundedSample(values: number[], max = MAX_DURATIONS): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length <= max) return sorted;
  return Array.from({ length: max }, (_, i) => sorted[Math.floor((i * (sorted.length - 1)) / (max - 1))]!);
}

export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Whether an issue waited longer for triage than the SLA allows. */
export function triagedLate(minutes: number, urgent: boolean, sla: SlaConfig): boolean {
  return minutes > sla.untriagedReminderMinutes || (urgent && minutes > sla.escalationMinutes);
}

/** A day's gap groups, from its questions (the FAQ's own grouping), each with the words that seeded it. */
export function dayGaps(questions: readonly AskedQuestion[]): GapLine[] {
  const byId = new Map(questions.map((q) => [q.id, q]));
  return groupGaps([...questions])
    .slice(0, MAX_GAPS_PER_DAY)
    .map((g) => {
      const people = AskerSketch.empty();
      for (const id of g.questionIds) {
        const asker = byId.get(id)?.asker;
        if (asker) people.add(personHash(asker.aadObjectId ?? asker.id));
      }
      return {
        example: g.example,
        count: g.count,
        askers: g.askers,
        people: people.encode(),
        unanswered: g.unanswered,
        notHelpful: g.notHelpful,
        lastAskedAt: g.lastAskedAt,
        // The seed is the group's oldest question (the last of its ids, newest first).
        terms: [...questionTerms(byId.get(g.questionIds.at(-1) ?? '')?.question ?? g.example)],
      };
    });
}

const askersOf = (line: GapLine) => line.askers ?? 1;

/**
 * Merges several days' gap groups into one list (the same likeness rule as the FAQ's gaps), in the champions'
 * order: those most people asked first, then by times asked — one person asking again and again, on one day or
 * on many, does not push a gap up the list.
 */
export function mergeGaps(days: readonly (readonly GapLine[])[], max = MAX_GAPS_PER_DAY): GapLine[] {
  const merged: (GapLine & { askers: number; set: Set<string>; sketch: AskerSketch | undefined })[] = [];
  for (const lines of days) {
    for (const line of lines) {
      const set = new Set(line.terms);
      const home = merged.find((g) => similarity(g.set, set) >= GAP_THRESHOLD);
      if (!home) {
        merged.push({ ...line, askers: askersOf(line), terms: [...line.terms], set, sketch: AskerSketch.decode(line.people) });
        continue;
      }
      const theirs = AskerSketch.decode(line.people);
      if (home.sketch && theirs) {
        home.sketch.merge(theirs);
        // The sketch's estimate, never below what either side counted exactly.
        home.askers = Math.max(home.sketch.count(), home.askers, askersOf(line));
      } else {
        // A day rolled up before sketches were kept: nothing to tell repeat askers apart with.
        home.sketch = undefined;
        home.askers += askersOf(line);
      }
      home.count += line.count;
      home.unanswered += line.unanswered;
      home.notHelpful += line.notHelpful;
      if (line.lastAskedAt > home.lastAskedAt) {
        home.lastAskedAt = line.lastAskedAt;
        home.example = line.example;
      }
    }
  }
  return merged
    .sort((a, b) => b.askers - a.askers || b.count - a.count || b.lastAskedAt.localeCompare(a.lastAskedAt))
    .slice(0, max)
    .map(({ set: _set, sketch, people: _people, ...line }) => (sketch ? { ...line, people: sketch.encode() } : line));
}

const emptyBy = () => ({ category: {} as Counts, site: {} as Counts, priority: {} as Counts });

/** One day's figures from that day's issue events and questions (and the open backlog, for today). */
export function foldDay(
  day: string,
  events: readonly IssueEvent[],
  questions: readonly AskedQuestion[],
  sla: SlaConfig,
  open?: OpenSnapshot,
): DayFigures {
  const active = DistinctCounter.empty();
  const issues: DayFigures['issues'] = {
    opened: 0,
    triaged: 0,
    resolved: 0,
    lateTriage: 0,
    openedBy: emptyBy(),
    resolvedBy: emptyBy(),
    triageMinutes: [],
    resolveMinutes: [],
  };
  for (const e of events) {
    active.add(e.actor);
    if (e.kind === 'opened') {
      issues.opened++;
      bump(issues.openedBy.category, e.category);
      bump(issues.openedBy.site, e.site);
      bump(issues.openedBy.priority, e.priority);
    } else if (e.kind === 'triaged') {
      issues.triaged++;
      issues.triageMinutes.push(e.minutes ?? 0);
      if (triagedLate(e.minutes ?? 0, e.urgent, sla)) issues.lateTriage++;
    } else if (e.kind === 'resolved') {
      issues.resolved++;
      issues.resolveMinutes.push(e.minutes ?? 0);
      bump(issues.resolvedBy.category, e.category);
      bump(issues.resolvedBy.site, e.site);
      bump(issues.resolvedBy.priority, e.priority);
    }
  }
  issues.triageMinutes = boundedSample(issues.triageMinutes);
  issues.resolveMinutes = boundedSample(issues.resolveMinutes);
  const q = { asked: 0, answered: 0, rated: 0, helpful: 0 };
  for (const question of questions) {
    active.add(personHash(question.asker.aadObjectId ?? question.asker.id));
    q.asked++;
    if (!question.answered) continue;
    q.answered++;
    if (question.helpful + question.notHelpful > 0) {
      q.rated++;
      if (question.helpful > question.notHelpful) q.helpful++;
    }
  }
  const out: DayFigures = { day, questions: q, issues, gaps: dayGaps(questions), active: active.encode() };
  if (open) out.open = open;
  return out;
}

/** The week's figures from its days (any subset of the seven that has data). */
export function foldWeek(week: string, days: readonly DayFigures[]): WeekFigures {
  const sorted = [...days].sort((a, b) => a.day.localeCompare(b.day));
  const active = DistinctCounter.empty();
  const questions = { asked: 0, answered: 0, rated: 0, helpful: 0 };
  const openedBy = emptyBy();
  const resolvedBy = emptyBy();
  const triage: number[] = [];
  const resolve: number[] = [];
  let opened = 0;
  let triaged = 0;
  let resolved = 0;
  let lateTriage = 0;
  let open: OpenSnapshot | null = null;
  for (const d of sorted) {
    active.merge(DistinctCounter.decode(d.active));
    questions.asked += d.questions.asked;
    questions.answered += d.questions.answered;
    questions.rated += d.questions.rated;
    questions.helpful += d.questions.helpful;
    opened += d.issues.opened;
    triaged += d.issues.triaged;
    resolved += d.issues.resolved;
    lateTriage += d.issues.lateTriage;
    for (const k of ['category', 'site', 'priority'] as const) {
      addCounts(openedBy[k], d.issues.openedBy[k]);
      addCounts(resolvedBy[k], d.issues.resolvedBy[k]);
    }
    triage.push(...d.issues.triageMinutes);
    resolve.push(...d.issues.resolveMinutes);
    if (d.open) open = d.open;
  }
  return {
    week,
    days: sorted.length,
    activeUsers: active.count(),
    questions,
    shareAnswered: questions.asked ? round1((100 * questions.answered) / questions.asked) : null,
    shareHelpful: questions.rated ? round1((100 * questions.helpful) / questions.rated) : null,
    issues: {
      opened,
      triaged,
      resolved,
      lateTriage,
      openedBy,
      resolvedBy,
      medianMinutesToTriage: median(triage),
      medianMinutesToResolve: median(resolve),
    },
    gaps: mergeGaps(sorted.map((d) => d.gaps)),
    open,
  };
}

export const round1 = (n: number) => Math.round(n * 10) / 10;

/** The open backlog from the open queue's rows (every open issue, one partition). */
export function openSnapshot(rows: readonly IssueSummary[], now: Date, sla: SlaConfig): OpenSnapshot {
  const snap: OpenSnapshot = {
    at: now.toISOString(),
    total: rows.length,
    untriaged: 0,
    pastSla: 0,
    byStatus: {},
    byCategory: {},
    bySite: {},
    byPriority: {},
    oldest: [],
  };
  for (const r of rows) {
    bump(snap.byStatus, r.status);
    bump(snap.byCategory, r.category);
    bump(snap.bySite, r.site);
    bump(snap.byPriority, r.priority ?? 'none');
    if (r.status !== 'new') continue;
    snap.untriaged++;
    const minutes = (now.getTime() - Date.parse(r.createdAt)) / 60_000;
    if (triagedLate(minutes, isUrgent(r), sla)) snap.pastSla++;
  }
  snap.oldest = [...rows]
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.ref.localeCompare(b.ref))
    .slice(0, MAX_OLDEST)
    .map((r) => ({
      ref: r.ref,
      title: r.title,
      status: r.status,
      priority: r.priority ?? 'none',
      category: r.category,
      site: r.site,
      assignee: r.assignee?.name ?? '',
      createdAt: r.createdAt,
    }));
  return snap;
}

// ---- calendar ------------------------------------------------------------------------------------

/** The Monday (UTC) of the week holding `day`. */
export function weekOf(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const back = (d.getUTCDay() + 6) % 7;
  return new Date(d.getTime() - back * 86_400_000).toISOString().slice(0, 10);
}

/** The calendar day (YYYY-MM-DD) it is at `now` in `zone` (an IANA name; UTC when none is known). */
export function dayIn(now: Date, zone = 'UTC'): string {
  return DateTime.fromJSDate(now, { zone }).toISODate() ?? now.toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}
