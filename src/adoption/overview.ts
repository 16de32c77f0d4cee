import { addDays, foldWeek, round1, type WeekFigures } from './daily.js';
import type { Figure } from './figures.js';
import { type BotMetric, lowerIsBetter, type Measure } from './measures.js';
import type { MeasureState, MeasureStatus, WeekPoint } from './metrics.js';
export { STATE_LABEL } from './metrics.js';

/** Pure: the Overview's figures from stored week rows and entered figures. */

export function weekPoint(w: WeekFigures): WeekPoint {
  const triage = w.issues.medianMinutesToTriage;
  const resolve = w.issues.medianMinutesToResolve;
  return {
    week: w.week,
    activeUsers: w.activeUsers,
    questionsAsked: w.questions.asked,
    shareAnswered: w.shareAnswered,
    shareHelpful: w.shareHelpful,
    issuesOpened: w.issues.opened,
    issuesResolved: w.issues.resolved,
    openIssues: w.open ? w.open.total : null,
    medianHoursToTriage: triage === null ? null : round1(triage / 60),
    medianDaysToResolve: resolve === null ? null : round1(resolve / 1440),
    slaBreaches: w.issues.lateTriage + (w.open?.pastSla ?? 0),
  };
}

/**
 * The stored weeks with every week between the first and the last put back: the roll-up writes a week only
 * when one of its days has a row, and its first run (the backfill) writes only days with activity, so a dead
 * week of that history has no row and would drop off the charts' x-axis. A week without a row is folded from no
 * days: its counts are 0 (nobody was active, nothing was asked or logged), while its shares and medians, and the
 * backlog, are null, drawn as a gap: a share of no questions or a median of no issues is no figure, and 0 % would
 * read as a collapse that did not happen. Weeks before the first row are not added: nothing says the rollout had
 * begun.
 */
export function withEmptyWeeks(rows: readonly WeekFigures[]): WeekFigures[] {
  const byWeek = new Map(rows.map((w) => [w.week, w]));
  const first = rows[0];
  const last = rows.at(-1);
  if (!first || !last) return [];
  const out: WeekFigures[] = [];
  for (let week = first.week; week <= last.week; week = addDays(week, 7)) out.push(byWeek.get(week) ?? foldWeek(week, []));
  return out;
}

/** A bot metric's value in one week (null: nothing to compute it from). */
export function metricValue(p: WeekPoint, metric: BotMetric): number | null {
  switch (metric) {
    case 'weeklyActiveUsers':
      return p.activeUsers;
    case 'questionsAsked':
      return p.questionsAsked;
    case 'shareAnswered':
      return p.shareAnswered;
    case 'shareHelpful':
      return p.shareHelpful;
    case 'issuesOpened':
      return p.issuesOpened;
    case 'issuesResolved':
      return p.issuesResolved;
    case 'openIssues':
      return p.openIssues;
    case 'medianHoursToTriage':
      return p.medianHoursToTriage;
    case 'medianDaysToResolve':
      return p.medianDaysToResolve;
    case 'slaBreaches':
      return p.slaBreaches;
  }
}

const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / 86_400_000;

/** Where a measure stands: its latest figure against the straight line from baseline to target. */
export function measureStatus(m: Measure, figures: readonly Figure[], weeks: readonly WeekPoint[]): MeasureStatus {
  const series =
    m.source.kind === 'ims'
      ? figures.filter((f) => f.measureId === m.id).map((f) => ({ date: f.date, value: f.value }))
      : weeks.flatMap((w) => {
          const value = metricValue(w, (m.source as { metric: BotMetric }).metric);
          return value === null ? [] : [{ date: w.week, value }];
        });
  series.sort((a, b) => a.date.localeCompare(b.date));
  const last = series.at(-1);
  const replaced = last && m.source.kind === 'ims' ? figures.find((f) => f.measureId === m.id && f.date === last.date)?.replaced : undefined;
  const latest: MeasureStatus['latest'] = last ? { ...last, ...(replaced ? { replaced: { value: replaced.value, enteredBy: replaced.enteredBy } } : {}) } : null;
  const lower = lowerIsBetter(m);
  let progress: number | null = null;
  let expected: number | null = null;
  let state: MeasureState = 'no-data';
  if (latest) {
    const span = m.target.value - m.baseline.value;
    const days = dayNumber(m.target.by) - dayNumber(m.baseline.date);
    expected = days <= 0 ? 100 : round1(100 * Math.min(1, Math.max(0, (dayNumber(latest.date) - dayNumber(m.baseline.date)) / days)));
    if (span === 0) {
      // A target level with its baseline (the card refuses it; a hand-written file may hold it) says neither which
      // way is better nor how far there is to go: the target itself meets it, no progress is claimed, and any other
      // figure is not judged — "Behind" would be a false alarm for a figure on the better side, unknown here.
      state = latest.value === m.target.value ? 'met' : 'level';
    } else {
      progress = round1((100 * (latest.value - m.baseline.value)) / span);
      const met = lower ? latest.value <= m.target.value : latest.value >= m.target.value;
      state = met ? 'met' : progress >= expected ? 'on-track' : 'behind';
    }
  }
  return {
    id: m.id,
    name: m.name,
    unit: m.unit,
    source: m.source.kind,
    ...(m.source.kind === 'bot' ? { metric: m.source.metric } : {}),
    baseline: m.baseline,
    target: m.target,
    lowerIsBetter: lower,
    latest,
    progress,
    expected,
    state,
    series,
  };
}
