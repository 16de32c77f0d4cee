import type { Clock } from '../clock.js';
import type { AskedQuestion } from '../faq/questions.js';
import type { Issue, IssueSummary, SlaConfig } from '../issues/model.js';
import { addDays, type DayFigures, daysBetween, foldDay, foldWeek, openSnapshot, weekOf } from './daily.js';
import { dayOf, type IssueEvent, issueEvents, latestEvents } from './events.js';
import type { AggregateStore, EventStore, StateStore } from './store.js';

/**
 * The roll-up: turns what happened (issue events recorded at the source, the FAQ's questions, which its
 * store already keeps by day) into daily and weekly figures, incrementally. Each run recomputes only the
 * days not yet final — today and yesterday in steady state, since votes and late writes land a little
 * after the fact — from those days' partitions, then the weeks holding them. A day's figures are a pure
 * function of its partitions, so a run repeated (or overlapping on two instances) writes the same rows.
 * The first run backfills events from the issues already stored and the last `backfillDays` of questions;
 * that rebuild is repeated weekly.
 */

export interface RollupSources {
  /** The questions asked from `first` to `last` (UTC days, inclusive), by day: a range of the FAQ's day partitions. */
  questionsBetween(first: string, last: string): Promise<Map<string, AskedQuestion[]>>;
  /** Every open issue now (the open queue partition). */
  openIssues(): Promise<IssueSummary[]>;
  /** Every issue, a page at a time (only for the one-time backfill). */
  allIssues(): AsyncIterable<Issue[]>;
}

export interface RollupDeps {
  events: EventStore;
  aggregates: AggregateStore;
  state: StateStore;
  sources: RollupSources;
  sla: SlaConfig;
  clock: Clock;
  /** How far back the first run reads questions and folds days. */
  backfillDays: number;
}

/** Days younger than this are recomputed on every run: a vote or a late write may still change them. */
const OPEN_DAYS = 2;
const REBUILD_EVERY_MS = 7 * 86_400_000;
/** Days read at once. */
const READ_DAYS = 7;

export class AdoptionRollup {
  constructor(private readonly d: RollupDeps) {}

  /** One run: returns the days it recomputed. */
  async run(): Promise<string[]> {
    const now = this.d.clock.now();
    const today = dayOf(now.toISOString());
    const state = await this.d.state.rollup();
    // Weekly, events are rebuilt from the issues themselves and recent days folded again: an event lost
    // to a fault at the source (the issue was saved, its event was not) is mended within a week.
    const rebuildDue = !state.backfilledAt || now.getTime() - Date.parse(state.backfilledAt) >= REBUILD_EVERY_MS;
    if (rebuildDue) {
      await this.backfillEvents();
      state.backfilledAt = now.toISOString();
      state.finalThrough = undefined;
    }
    const earliest = addDays(today, -this.d.backfillDays);
    let from = state.finalThrough ? addDays(state.finalThrough, 1) : earliest;
    if (from < earliest) from = earliest;
    if (from > addDays(today, -(OPEN_DAYS - 1))) from = addDays(today, -(OPEN_DAYS - 1));
    const snapshot = openSnapshot(await this.d.sources.openIssues(), now, this.d.sla);
    const days = daysBetween(from, today);
    const previous = new Map((await this.d.aggregates.days(from, today, ['open'])).map((d) => [d.day, d.open]));
    // A week of days per read (one range query each for events and questions): the first run's backfill
    // of 120 days made 240 round trips a day at a time, and a week's rows stay a bounded read.
    for (let i = 0; i < days.length; i += READ_DAYS) {
      const chunk = days.slice(i, i + READ_DAYS);
      const first = chunk[0]!;
      const last = chunk[chunk.length - 1]!;
      const [events, questions] = await Promise.all([this.d.events.between(first, last), this.d.sources.questionsBetween(first, last)]);
      for (const day of chunk) {
        // A past day keeps the backlog as it was last seen that day; today takes the one just read.
        const open = day === today ? snapshot : previous.get(day);
        const figures = foldDay(day, events.get(day) ?? [], questions.get(day) ?? [], this.d.sla, open);
        if (!isEmptyDay(figures) || day >= addDays(today, -(OPEN_DAYS - 1))) await this.d.aggregates.putDay(figures);
      }
    }
    for (const week of [...new Set(days.map(weekOf))]) {
      const weekDays = await this.d.aggregates.days(week, addDays(week, 6));
      if (weekDays.length) await this.d.aggregates.putWeek(foldWeek(week, weekDays));
    }
    await this.d.state.saveRollup({ ...state, finalThrough: addDays(today, -OPEN_DAYS), lastRunAt: now.toISOString() });
    return days;
  }

  /** Every stored issue's history as events (idempotent: the same keys as at the source). */
  async backfillEvents(): Promise<number> {
    let n = 0;
    let batch: IssueEvent[] = [];
    for await (const page of this.d.sources.allIssues()) {
      for (const issue of page) batch.push(...issueEvents(issue));
      if (batch.length >= 2000) {
        await this.d.events.recordMany(batch);
        n += batch.length;
        batch = [];
      }
    }
    await this.d.events.recordMany(batch);
    return n + batch.length;
  }
}

function isEmptyDay(d: DayFigures): boolean {
  return !d.questions.asked && !d.issues.opened && !d.issues.triaged && !d.issues.resolved && !d.open;
}

/**
 * Records each change the issue service makes as events, at the source (see IssueService's observer). A
 * failure is logged and never fails the user's action; the weekly rebuild restores the event from the issue.
 */
export class IssueEventRecorder {
  constructor(
    private readonly events: EventStore,
    private readonly warn: (err: unknown, ref: string) => void,
  ) {}

  async issueChanged(issue: Issue): Promise<void> {
    try {
      await this.events.record(latestEvents(issue));
    } catch (err) {
      this.warn(err, issue.ref);
    }
  }
}
