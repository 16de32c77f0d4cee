import type { Clock } from '../clock.js';
import { allows } from '../roles/permissions.js';
import { addDays, mergeGaps, round1, weekOf } from './daily.js';
import type { FigureImports, ImportView } from './figure-imports.js';
import { BATCH_ROWS, checkFigure, type Figure, type FigureStore, parseFiguresCsv, type Replaced } from './figures.js';
import type { DecimalMark } from './numbers.js';
import type { FieldErrors, Measure, MeasureEdit } from './measures.js';
import type { MeasuresWrite } from './measures-file.js';
import {
  type AdoptionProviders,
  type DayRange,
  type IssueFlow,
  type Overview,
  panelFlags,
  type QuestionsPanel,
} from './metrics.js';
import { issueFlow } from './issue-flow.js';
import { measureStatus, weekPoint, withEmptyWeeks } from './overview.js';
import type { AdoptionCaller } from './pulse-service.js';
import type { AggregateStore, StateStore } from './store.js';

/**
 * The adoption figures as the dashboard, the cards and the digest ask for them, read from the roll-up's
 * aggregates (a dozen week rows, a month of day rows at most), never from the rows they were made from;
 * and the rollout team's changes: measures edited, IMS figures entered or imported. Each operation checks
 * the caller's role again (card data and API calls can be forged).
 */

export interface AdoptionServiceDeps {
  measures: {
    readonly current: Measure[];
    readonly version: string;
    edit(edit: MeasureEdit, version: string): Promise<MeasuresWrite>;
  };
  figures: FigureStore;
  /** Imports larger than one transaction, written off the turn (absent: such a file is refused). */
  imports?: Pick<FigureImports, 'stage' | 'start' | 'status'>;
  aggregates: AggregateStore;
  state: StateStore;
  clock: Clock;
  providers: AdoptionProviders;
  /** How many weeks the Overview's trends cover. */
  weeks: number;
}

/** `replaced`: earlier figures, entered by someone else or with another value, that this save replaced. */
export type FigureOutcome = { ok: true; saved: number; replaced: Replaced[] } | { ok: false; message: string; errors?: string[] };
/** An import: saved at once (one transaction's worth), or staged and being written off the turn (`staged`). */
export type ImportOutcome = FigureOutcome | { ok: true; staged: ImportView };

const REFUSED = 'That is for the rollout team only. If you need it, ask your rollout team.';

export class AdoptionService {
  constructor(private readonly d: AdoptionServiceDeps) {}

  get providers(): AdoptionProviders {
    return this.d.providers;
  }

  get measures(): Measure[] {
    return this.d.measures.current;
  }

  get measuresVersion(): string {
    return this.d.measures.version;
  }

  private today(): string {
    return this.d.clock.now().toISOString().slice(0, 10);
  }

  /**
   * The latest date a figure may carry: today somewhere on Earth (UTC+14). The rollout team types the date of
   * their own day, which east of UTC begins hours before UTC's: "today" there is not "in the future".
   */
  private latestDay(): string {
    return new Date(this.d.clock.now().getTime() + 14 * 3600_000).toISOString().slice(0, 10);
  }

  /** Which of the other features' panels have data (their providers are registered). */
  overviewPanels() {
    return panelFlags(this.d.providers);
  }

  /** The last `days` days, today included. */
  dayRange(days: number): DayRange {
    const to = this.today();
    return { from: addDays(to, -(days - 1)), to };
  }

  /** The last `weeks` weeks, the current one included. */
  weekRange(weeks = this.d.weeks): DayRange {
    const thisWeek = weekOf(this.today());
    return { from: addDays(thisWeek, -7 * (weeks - 1)), to: thisWeek };
  }

  /**
   * The days the Communications and Office hours panels cover: the charted weeks (days, both ends included)
   * and the week ahead, so the coming sessions' bookings show.
   */
  panelRange(): DayRange {
    return { from: this.weekRange().from, to: addDays(this.today(), 7) };
  }

  /**
   * `through`: the last week shown (its Monday), taken as complete — the digest's week. By default the week
   * under way is charted but is no bot measure's latest figure: a weekly figure of a week begun this morning
   * (a few hours' active users) is not the week's, and would read as a collapse every Monday.
   */
  async overview(weeks = this.d.weeks, through?: string): Promise<Overview> {
    const thisWeek = weekOf(this.today());
    const last = through ?? thisWeek;
    const from = addDays(last, -7 * (weeks - 1));
    const ims = this.d.measures.current.filter((m) => m.source.kind === 'ims').map((m) => m.id);
    const [rows, figures, state] = await Promise.all([
      this.d.aggregates.weeks(from, thisWeek),
      // The charted weeks' figures (and each measure's latest, if older): not every figure ever entered.
      this.d.figures.since(ims, from),
      this.d.state.rollup(),
    ]);
    const points = withEmptyWeeks(rows)
      .filter((w) => w.week <= last)
      .map((w) => (w.week === thisWeek && !through ? { ...weekPoint(w), soFar: true as const } : weekPoint(w)));
    const whole = through ? points : points.filter((p) => p.week < thisWeek);
    // The backlog as last seen, whichever week is shown.
    const latestOpen = [...rows].reverse().find((w) => w.open)?.open ?? null;
    return {
      asOf: state.lastRunAt ?? null,
      measures: this.d.measures.current.map((m) => measureStatus(m, figures, whole)),
      weeks: points,
      issuesNow: latestOpen
        ? {
            at: latestOpen.at,
            open: latestOpen.total,
            untriaged: latestOpen.untriaged,
            pastSla: latestOpen.pastSla,
            byCategory: latestOpen.byCategory,
            bySite: latestOpen.bySite,
            byPriority: latestOpen.byPriority,
            byStatus: latestOpen.byStatus,
          }
        : null,
      panels: panelFlags(this.d.providers),
    };
  }

  /** Issues opened and resolved over the charted weeks (the week under way so far), by category, site and priority. */
  async issueFlow(): Promise<IssueFlow> {
    const range = this.weekRange();
    return issueFlow(await this.d.aggregates.weeks(range.from, range.to), range.from, range.to);
  }

  /** The oldest open issues, as the last roll-up saw them (the digest lists them). */
  async oldestOpen(): Promise<NonNullable<import('./daily.js').OpenSnapshot>['oldest']> {
    const range = this.weekRange(2);
    const days = await this.d.aggregates.days(range.from, addDays(range.to, 6), ['open']);
    return [...days].reverse().find((d) => d.open)?.open?.oldest ?? [];
  }

  /** Questions over the `days` days up to `to` (by default the last days, today included): counts and the top gaps. */
  async questions(days: number, to = this.today()): Promise<QuestionsPanel> {
    const from = addDays(to, -(days - 1));
    const rows = await this.d.aggregates.days(from, to, ['counts', 'gaps']);
    const q = { asked: 0, answered: 0, rated: 0, helpful: 0 };
    for (const r of rows) {
      q.asked += r.questions.asked;
      q.answered += r.questions.answered;
      q.rated += r.questions.rated;
      q.helpful += r.questions.helpful;
    }
    return {
      range: { from, to },
      asked: q.asked,
      answered: q.answered,
      shareAnswered: q.asked ? round1((100 * q.answered) / q.asked) : null,
      shareHelpful: q.rated ? round1((100 * q.helpful) / q.rated) : null,
      gaps: mergeGaps(rows.map((r) => r.gaps), 10).map(({ terms: _terms, people: _people, askers, ...g }) => ({ ...g, askers: askers ?? 1 })),
    };
  }

  async figures(): Promise<Figure[]> {
    return this.d.figures.all();
  }

  // ---- the rollout team's changes ------------------------------------------------------------------

  async editMeasure(caller: AdoptionCaller, edit: MeasureEdit, version: string): Promise<MeasuresWrite> {
    if (!allows(caller.role, 'adoption.measures')) return { ok: false, errors: { form: REFUSED } as FieldErrors };
    return this.d.measures.edit(edit, version);
  }

  async enterFigure(
    caller: AdoptionCaller,
    input: { measure: string; date: string; value: string },
    via: Figure['via'],
    decimals: DecimalMark = 'point',
  ): Promise<FigureOutcome> {
    if (!allows(caller.role, 'adoption.measures')) return { ok: false, message: REFUSED };
    const checked = checkFigure(input, this.d.measures.current, this.latestDay(), decimals);
    if (!checked.ok) return { ok: false, message: `Not saved: ${checked.message}.` };
    const replaced = await this.d.figures.save([checked.figure], { id: caller.person.id, name: caller.person.name, via, at: this.d.clock.now() });
    return { ok: true, saved: 1, replaced };
  }

  /**
   * A CSV of figures: every row checked first; one bad row and nothing is imported. One transaction's worth is saved
   * within the call, whole or not at all; a larger file is staged and written in batches off the turn (the caller
   * starts it with `startImport`), each batch whole, a fault part-way resumed from the batch it stopped at.
   */
  async importFigures(caller: AdoptionCaller, csv: string, via: Figure['via'], localeComma = false): Promise<ImportOutcome> {
    if (!allows(caller.role, 'adoption.measures')) return { ok: false, message: REFUSED };
    const parsed = parseFiguresCsv(csv, this.d.measures.current, this.latestDay(), localeComma);
    if (!parsed.ok) return { ok: false, message: 'Nothing was imported: fix these rows and import the file again.', errors: parsed.errors };
    const by = { id: caller.person.id, name: caller.person.name, via };
    if (parsed.figures.length > BATCH_ROWS && this.d.imports) return { ok: true, staged: await this.d.imports.stage(parsed.figures, by) };
    if (parsed.figures.length > BATCH_ROWS) return { ok: false, message: `Nothing was imported: import at most ${BATCH_ROWS} figures at a time.` };
    const replaced = await this.d.figures.save(parsed.figures, { ...by, at: this.d.clock.now() });
    return { ok: true, saved: parsed.figures.length, replaced };
  }

  /** Starts writing a staged import after the turn has answered (not awaited). */
  startImport(id: string): void {
    this.d.imports?.start(id);
  }

  /** How an import stands, for the rollout team (the tab's progress, the card's Refresh). */
  async importStatus(caller: AdoptionCaller, id: string): Promise<ImportView | undefined> {
    if (!allows(caller.role, 'adoption.measures')) return undefined;
    return this.d.imports?.status(id);
  }
}
