import { type AdaptiveCard, CARD_BUDGET_BYTES, escapeText, renderCard, utf16Bytes } from '../cards/template.js';
import { STATUS_LABEL, type Status } from '../issues/model.js';
import { clip, largestFitting } from '../text/fit.js';
import type { OpenLine } from './daily.js';
import type { ImportView } from './figure-imports.js';
import type { Replaced } from './figures.js';
import { BOT_METRIC_NAMES, BOT_METRICS, type FieldErrors, type Measure, type MeasureInput, measureInputOf } from './measures.js';
import { type GapItem, type MeasureStatus, type PulseResult, steppedNote, type WeekPoint } from './metrics.js';
import { STATE_LABEL } from './overview.js';
import { type Answers, answerLabel, PULSE_LIMITS, type Pulse, type PulseErrors, type PulseInput, QUESTION_IDS } from './pulse.js';
import { count, people } from '../text/count.js';

/**
 * Typed data for the adoption cards (`cards/adoption-*.json`) and the builders that fill them. Text a
 * person typed (measure names, pulse questions and answers, issue titles, questions asked) goes through
 * `escapeText` before a TextBlock or FactSet; input values and choice titles stay as typed.
 */

const e = escapeText;

export interface Choice {
  title: string;
  value: string;
}

type Color = 'Good' | 'Warning' | 'Attention' | 'Default';
const STATE_COLOR: Record<MeasureStatus['state'], Color> = { met: 'Good', 'on-track': 'Good', behind: 'Warning', 'no-data': 'Default', level: 'Default' };

/** "5" → "5", 12.345 → "12.3", 0.0456 → "0.046", with the unit: "2 days", "80 %". */
export function formatValue(value: number, unit: string): string {
  // A figure under 1 keeps two significant digits: one decimal would show a defect rate of 0.04 as 0.0.
  // Thousands grouped, as the dashboard shows them: "250000" is hard to read at a glance.
  const n = Number.isInteger(value)
    ? value.toLocaleString('en-US')
    : Math.abs(value) < 1
      ? String(Number(value.toPrecision(2)))
      : value.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  if (!unit) return n;
  return unit === '%' ? `${n} %` : `${n} ${unit}`;
}

function measureLine(m: MeasureStatus): string {
  return `Baseline ${formatValue(m.baseline.value, m.unit)} (${m.baseline.date}) → target ${formatValue(m.target.value, m.unit)} by ${m.target.by}`;
}

function latestLine(m: MeasureStatus): string {
  if (!m.latest) return m.source === 'ims' ? 'No figure entered yet.' : 'Not computed yet.';
  const when = m.source === 'bot' ? `week of ${m.latest.date}` : m.latest.date;
  return `Latest: ${formatValue(m.latest.value, m.unit)} (${when})${m.progress !== null ? ` · ${Math.round(m.progress)} % of the way` : ''}`;
}

function sourceLine(m: MeasureStatus): string {
  return m.source === 'ims' ? 'Entered by the rollout team from the IMS' : `Computed by Rollout Desk: ${BOT_METRICS[m.metric!].toLowerCase()}`;
}

// ---- adoption-measures ---------------------------------------------------------------------------

export interface MeasuresCardData {
  asOf: string;
  notice: string;
  noticeColor: Color;
  errors: string[];
  canEdit: boolean;
  version: string;
  measures: { id: string; name: string; line: string; latest: string; source: string; state: string; stateColor: Color }[];
  imsMeasures: Choice[];
  today: string;
  dashboardUrl: string;
  /** "Measures 1–17 of 30" when they do not all fit; '' when they do. */
  page: string;
  /** Where the paging button starts the next card (-1: no button), and what it says. */
  moreFrom: number;
  moreTitle: string;
}

/**
 * The measures of success, from the `from`-th: as many as one Teams message holds (some 17 of the 30 a file may
 * list), the rest on **More measures**, so every measure keeps its Edit button.
 */
export function measuresCard(opts: {
  statuses: readonly MeasureStatus[];
  asOf: string | null;
  canEdit: boolean;
  version: string;
  today: string;
  dashboardUrl: string;
  notice?: string;
  noticeColor?: Color;
  errors?: readonly string[];
  from?: number;
}): AdaptiveCard {
  const total = opts.statuses.length;
  const from = Math.min(Math.max(0, opts.from ?? 0), Math.max(0, total - 1));
  const withShown = (n: number): AdaptiveCard => {
    const end = from + n;
    const more = end < total;
    return renderCard('adoption-measures', {
      ...data,
      measures: data.measures.slice(from, end),
      page: n < total ? `Measures ${from + 1}–${end} of ${total}.` : '',
      moreFrom: more ? end : from > 0 ? 0 : -1,
      moreTitle: more ? `More measures (${end + 1}–${total})` : 'Back to the first measures',
    });
  };
  const data: MeasuresCardData = {
    asOf: opts.asOf ? `Computed figures as of ${opts.asOf.slice(0, 16).replace('T', ' ')} UTC.` : 'Computed figures appear after the first roll-up.',
    // Notices quote what was typed (a measure's name, an id from the card): text, never markup or links.
    notice: e(opts.notice ?? ''),
    noticeColor: opts.noticeColor ?? 'Default',
    errors: (opts.errors ?? []).map(e),
    canEdit: opts.canEdit,
    version: opts.version,
    measures: opts.statuses.map((m) => ({
      id: m.id,
      name: e(m.name),
      line: e(measureLine(m)),
      // The unit is typed by the rollout team: text, as the name is.
      latest: e(latestLine(m)),
      source: sourceLine(m),
      state: STATE_LABEL[m.state],
      stateColor: STATE_COLOR[m.state],
    })),
    imsMeasures: opts.statuses.filter((m) => m.source === 'ims').map((m) => ({ title: m.name, value: m.id })),
    today: opts.today,
    dashboardUrl: opts.dashboardUrl,
    page: '',
    moreFrom: -1,
    moreTitle: '',
  };
  const all = withShown(total - from);
  if (from === 0 && utf16Bytes(all) <= CARD_BUDGET_BYTES) return all;
  // At least one measure, so the button always moves on.
  return withShown(Math.max(1, largestFitting(total - from, (n) => utf16Bytes(withShown(n)) <= CARD_BUDGET_BYTES)));
}

// ---- adoption-import -----------------------------------------------------------------------------

/**
 * What an import ends with: "Imported 10,000 figures, replaced 12: report-days on 2027-01-04 (3, by Lee Lead); …
 * and 9 more." The first few replaced are named (so whoever replaced a colleague's figure is told whose), the rest counted.
 */
export function importedNotice(saved: number, replacedCount: number, named: readonly Replaced[]): string {
  const head = `Imported ${count(saved)} figure${saved === 1 ? '' : 's'}, replaced ${replacedCount ? count(replacedCount) : 'none'}`;
  if (!replacedCount) return `${head}.`;
  const shown = named.slice(0, 3).map((r) => `${r.measureId} on ${r.date} (${r.value}, by ${r.enteredBy || 'someone'})`);
  const more = replacedCount > shown.length ? ` and ${count(replacedCount - shown.length)} more` : '';
  return `${head}: ${shown.join('; ')}${more}.`;
}

/** "3,000 of 10,000 written so far (30 %)." while it runs; the final notice once done. */
export function importProgressText(v: ImportView): string {
  if (v.state === 'done') return importedNotice(v.written, v.replacedCount, v.replaced);
  return `${count(v.written)} of ${count(v.total)} written so far (${Math.floor((100 * v.written) / v.total)} %).`;
}

export interface ImportCardData {
  title: string;
  text: string;
  color: Color;
  facts: { title: string; value: string }[];
  running: boolean;
  importId: string;
}

/** A large import's card: how far it is (redrawn as batches land), then what it imported and replaced. */
export function importCard(v: ImportView): AdaptiveCard {
  const running = v.state === 'running';
  const data: ImportCardData = {
    title: running ? `Importing ${count(v.total)} figures` : `Imported ${count(v.total)} figures`,
    text: e(importProgressText(v)),
    color: running ? 'Default' : 'Good',
    facts: [
      ...(v.by.name ? [{ title: 'Imported by', value: e(v.by.name) }] : []),
      { title: 'Started', value: `${v.at.slice(0, 16).replace('T', ' ')} UTC` },
    ],
    running,
    importId: v.id,
  };
  return renderCard('adoption-import', data);
}

// ---- adoption-measure-form -------------------------------------------------------------------------

export interface MeasureFormData {
  heading: string;
  mode: 'add' | 'update';
  version: string;
  values: Required<MeasureInput>;
  errors: Record<keyof MeasureInput | 'form', string>;
  sources: Choice[];
}

export function measureFormCard(opts: { measure?: Measure; values?: MeasureInput; errors?: FieldErrors; version: string }): AdaptiveCard {
  const base = opts.measure ? measureInputOf(opts.measure) : {};
  const v = { ...base, ...opts.values };
  const keys = ['id', 'name', 'unit', 'baselineValue', 'baselineDate', 'targetValue', 'targetBy', 'source'] as const;
  const data: MeasureFormData = {
    heading: opts.measure ? `Edit: ${e(opts.measure.name)}` : 'Add a measure of success',
    mode: opts.measure ? 'update' : 'add',
    version: opts.version,
    values: Object.fromEntries(keys.map((k) => [k, String(v[k] ?? (k === 'source' ? 'ims' : ''))])) as Required<MeasureInput>,
    errors: Object.fromEntries([...keys, 'form'].map((k) => [k, e(opts.errors?.[k as keyof FieldErrors] ?? '')])) as MeasureFormData['errors'],
    sources: [
      { title: 'Entered from the IMS by the rollout team', value: 'ims' },
      ...BOT_METRIC_NAMES.map((m) => ({ title: `Computed: ${BOT_METRICS[m]}`, value: `bot.${m}` })),
    ],
  };
  return renderCard('adoption-measure-form', data);
}

// ---- pulse cards ----------------------------------------------------------------------------------

export interface PulseQuestionView {
  id: string;
  text: string;
  kind: 'scale' | 'choice' | 'text';
  choices: Choice[];
  value: string;
}

export interface PulseCardData {
  pulseId: string;
  title: string;
  minAnswers: number;
  closes: string;
  notice: string;
  textLimit: number;
  questions: PulseQuestionView[];
}

const SCALE: Choice[] = [
  { title: '1 (low)', value: '1' },
  { title: '2', value: '2' },
  { title: '3', value: '3' },
  { title: '4', value: '4' },
  { title: '5 (high)', value: '5' },
];

/** The pulse as a recipient gets it: the questions, with their own answer filled in when they change it. */
export function pulseCard(pulse: Pulse, minAnswers: number, answers: Answers = {}, notice = ''): AdaptiveCard {
  const data: PulseCardData = {
    pulseId: pulse.id,
    title: e(pulse.title),
    minAnswers,
    closes: pulse.closesAt.slice(0, 10),
    notice: e(notice),
    textLimit: PULSE_LIMITS.text,
    questions: pulse.questions.map((q) => ({
      id: q.id,
      text: e(q.text),
      kind: q.kind,
      choices: q.kind === 'scale' ? SCALE : q.kind === 'choice' ? q.options.map((o, i) => ({ title: o, value: String(i) })) : [],
      value: answers[q.id] === undefined ? '' : String(answers[q.id]),
    })),
  };
  return renderCard('adoption-pulse', data);
}

export interface PulseAnsweredData {
  pulseId: string;
  title: string;
  headline: string;
  closes: string;
  facts: { title: string; value: string }[];
}

/** What the person sent, shown back on the card they answered. */
export function pulseAnsweredCard(pulse: Pulse, answers: Answers, replaced: boolean): AdaptiveCard {
  const data: PulseAnsweredData = {
    pulseId: pulse.id,
    title: e(pulse.title),
    headline: replaced ? 'Your answer is updated: this one replaces the one you sent before.' : 'Thank you: your answer is in.',
    closes: pulse.closesAt.slice(0, 10),
    facts: pulse.questions.map((q) => ({ title: e(q.text), value: e(answerLabel(q, answers[q.id])) })),
  };
  return renderCard('adoption-pulse-answered', data);
}

export interface PulseClosedData {
  title: string;
  headline: string;
  /** "What you sent:" with the facts, or that they did not answer. */
  answered: boolean;
  facts: { title: string; value: string }[];
}

/** A closed pulse, in place of its form: no answer is taken any more, and the person's own is shown. */
export function pulseClosedCard(pulse: Pulse, answers: Answers | undefined): AdaptiveCard {
  const data: PulseClosedData = {
    title: e(pulse.title),
    headline: `This pulse closed on ${pulse.closesAt.slice(0, 10)}; answers are no longer taken.`,
    answered: answers !== undefined,
    facts: answers ? pulse.questions.map((q) => ({ title: e(q.text), value: e(answerLabel(q, answers[q.id])) })) : [],
  };
  return renderCard('adoption-pulse-closed', data);
}

export interface PulseComposeData {
  /** Sent back with the form: the same card sent twice is one pulse. */
  draftId: string;
  values: Record<string, string>;
  errors: Record<string, string>;
  kinds: Choice[];
  audiences: Choice[];
  /** Said when some user groups and cohorts are not listed (they are typed instead); '' when all are. */
  omitted: string;
  limits: typeof PULSE_LIMITS;
  minAnswers: number;
  slots: { id: string; number: number; kind: string; text: string; options: string; kindError: string; textError: string; optionsError: string }[];
}

/** The rollout's user groups and cohorts a pulse can go to (src/rollout). */
export interface PulseAudienceGroups {
  groups: readonly { id: string; name: string }[];
  cohorts: readonly { id: string; name: string }[];
}

/**
 * How much of the compose card its audience choices may take (characters of JSON, twice that in bytes): the
 * rollout file allows 200 user groups and 200 cohorts (names of 120 characters, ids of 100), some 200 KB in
 * full, five times Teams' 40 KB. Those that do not fit are counted and typed (pulse-service audienceOf).
 */
const COMPOSE_AUDIENCE_CHARS = 10_000;

function composeAudiences(known: PulseAudienceGroups | undefined): { choices: { title: string; value: string }[]; omitted: number } {
  const fixed = [
    { title: 'Everyone who uses Rollout Desk', value: 'everyone' },
    { title: 'Champions', value: 'champions' },
    { title: 'The rollout team', value: 'rolloutTeam' },
    { title: 'These people (Entra object ids below)', value: 'people' },
  ];
  const rest = [
    ...(known?.groups ?? []).map((g) => ({ title: clip(`User group: ${g.name}`, 80), value: `group:${g.id}` })),
    ...(known?.cohorts ?? []).map((c) => ({ title: clip(`Cohort: ${c.name}`, 80), value: `cohort:${c.id}` })),
  ];
  let used = JSON.stringify(fixed).length;
  const listed = [];
  for (const c of rest) {
    used += JSON.stringify(c).length + 2;
    if (used > COMPOSE_AUDIENCE_CHARS) break;
    listed.push(c);
  }
  const omitted = rest.length - listed.length;
  return { choices: [...fixed, ...listed, ...(omitted ? [{ title: 'Another user group or cohort (type its id below)', value: 'typed' }] : [])], omitted };
}

export function pulseComposeCard(opts: {
  draftId: string;
  values?: PulseInput & { audience?: string; people?: string; audienceTyped?: string };
  errors?: PulseErrors;
  minAnswers: number;
  audiences?: PulseAudienceGroups;
}): AdaptiveCard {
  const v = opts.values ?? {};
  const err = (k: string) => e((opts.errors as Record<string, string> | undefined)?.[k] ?? '');
  const audiences = composeAudiences(opts.audiences);
  const data: PulseComposeData = {
    draftId: opts.draftId,
    values: { title: v.title ?? '', audience: v.audience ?? 'everyone', people: v.people ?? '', audienceTyped: clip(v.audienceTyped ?? '', 200) },
    errors: { title: err('title'), audience: err('audience'), form: err('form') },
    kinds: [
      { title: 'A 1–5 scale', value: 'scale' },
      { title: 'A choice', value: 'choice' },
      { title: 'A free text', value: 'text' },
    ],
    audiences: audiences.choices,
    omitted: audiences.omitted
      ? `${audiences.omitted} more user groups and cohorts than fit here: choose "Another user group or cohort" and type its id (or its name).`
      : '',
    limits: PULSE_LIMITS,
    minAnswers: opts.minAnswers,
    slots: QUESTION_IDS.map((id, i) => ({
      id,
      number: i + 1,
      kind: v[`${id}Kind`] ?? (i === 0 ? 'scale' : ''),
      text: v[`${id}Text`] ?? '',
      options: v[`${id}Options`] ?? '',
      kindError: err(`${id}Kind`),
      textError: err(`${id}Text`),
      optionsError: err(`${id}Options`),
    })),
  };
  return renderCard('adoption-pulse-compose', data);
}

export interface PulseResultsData {
  pulseId: string;
  title: string;
  headline: string;
  notice: string;
  shown: boolean;
  waiting: string;
  questions: { text: string; facts: { title: string; value: string }[]; texts: string[]; more: string }[];
  dashboardUrl: string;
}

const MAX_TEXTS_ON_CARD = 15;
/**
 * What the free-text answers of all questions may take on the results card (`utf16Bytes`): three questions of
 * fifteen answers at their full 500 characters are some 45 KB, past the 40 KB Teams accepts, and the card would
 * not arrive at all. The share is split between the free-text questions; the rest are counted and the
 * dashboard pages through them all.
 */
const TEXTS_BUDGET_BYTES = 24 * 1024;

/** The answers that fit in `budget` (in the order given, at most MAX_TEXTS_ON_CARD), escaped for the card. */
function textsThatFit(answers: readonly string[], budget: number): string[] {
  const shown: string[] = [];
  let used = 0;
  for (const a of answers.slice(0, MAX_TEXTS_ON_CARD)) {
    const text = e(a);
    used += utf16Bytes(text);
    if (used > budget) break;
    shown.push(text);
  }
  return shown;
}

/** Results in aggregate; below the minimum, only how many have answered. */
export function pulseResultsCard(r: PulseResult, dashboardUrl: string, notice = ''): AdaptiveCard {
  const textQuestions = r.questions.filter((q) => q.result?.kind === 'text').length;
  const budget = TEXTS_BUDGET_BYTES / Math.max(1, textQuestions);
  const data: PulseResultsData = {
    pulseId: r.id,
    title: e(r.title),
    headline: `Sent to ${people(r.sentTo)}${r.unreachable ? ` (${count(r.unreachable)} could not be reached)` : ''} on ${r.sentAt.slice(0, 10)} · ${r.asOf ? `${count(r.answers)} answered as of ${asOfLabel(r.asOf)}` : 'answers not counted yet'} · open until ${r.closesAt.slice(0, 10)}`,
    notice: e([notice, freshCountNote(r)].filter(Boolean).join(' ')),
    shown: r.shown,
    waiting: r.asOf
      ? `Results appear once ${count(r.minAnswers)} people have answered (${count(r.answers)} so far), so that nobody can be picked out.`
      : 'The answers are being counted: press Refresh results in a minute.',
    questions: r.questions.map((q) => {
      const res = q.result;
      const facts =
        res?.kind === 'scale'
          ? [...res.counts.map((c, i) => ({ title: `${i + 1}`, value: String(c) })), { title: 'Average', value: res.mean.toFixed(2) }]
          : res?.kind === 'choice'
            ? res.options.map((o) => ({ title: e(o.label), value: String(o.count) }))
            : [];
      const texts = res?.kind === 'text' ? textsThatFit(res.answers, budget) : [];
      const rest =
        res?.kind === 'text' && res.answers.length + (res.more ?? 0) > texts.length
          ? `… and ${res.answers.length + (res.more ?? 0) - texts.length} more on the dashboard.`
          : !res && r.shown
            ? fewerAnswered(r.minAnswers, q.answered)
            : '';
      const more = [rest, res && q.shownFrom !== undefined ? steppedNote(r.minAnswers, q.shownFrom) : ''].filter(Boolean).join(' ');
      return { text: e(q.text), facts, texts, more };
    }),
    dashboardUrl,
  };
  return renderCard('adoption-pulse-results', data);
}

/**
 * A press asked for a fresh count: when it can come, as counts asked for are made at most once a minute (the time
 * rounded up to the minute, so "after 09:06" is never before it). Nothing when none was asked or none was made yet.
 */
export function freshCountNote(r: Pick<PulseResult, 'asOf' | 'nextCountAt'>): string {
  if (!r.asOf || !r.nextCountAt) return '';
  const at = new Date(Math.ceil(Date.parse(r.nextCountAt) / 60_000) * 60_000).toISOString();
  return `A fresh count was asked for. Answers are counted at most once a minute, so the next count is made after ${asOfLabel(at)}: press Refresh results again then.`;
}

/** When results were counted, as the card says it ("2027-01-11 09:05 UTC"). */
function asOfLabel(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/** A question fewer people answered than the minimum, on a pulse whose other results are shown. */
export function fewerAnswered(minAnswers: number, answered: number): string {
  return `Fewer than ${count(minAnswers)} people answered this question (${count(answered)} so far): not shown, so that nobody can be picked out.`;
}

// ---- adoption-digest --------------------------------------------------------------------------------

export interface DigestData {
  heading: string;
  asOf: string;
  measures: { title: string; value: string }[];
  moreMeasures: string;
  activity: { legend: string; values: { x: string; y: number }[] }[];
  activityFallback: string;
  issuesBars: { x: string; y: number }[];
  issuesFallback: string;
  openDonut: { legend: string; value: number }[];
  openFallback: string;
  summary: { title: string; value: string }[];
  gaps: { text: string; count: string }[];
  oldest: { line: string; age: string }[];
  dashboardUrl: string;
}

const DIGEST_MEASURES = 10;
const DIGEST_SLICES = 8;
const STATE_ORDER: Record<MeasureStatus['state'], number> = { behind: 0, 'no-data': 1, level: 1, 'on-track': 2, met: 3 };
const shortWeek = (week: string) => new Date(`${week}T00:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
const ageDays = (iso: string, now: Date) => Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 86_400_000));

/** The weekly digest for the rollout team's channel; every chart has a text fallback (other clients don't draw them). */
export function digestCard(opts: {
  week: string;
  now: Date;
  asOf: string | null;
  statuses: readonly MeasureStatus[];
  weeks: readonly WeekPoint[];
  openByCategory: Record<string, number>;
  open: { total: number; untriaged: number; pastSla: number } | null;
  gaps: readonly GapItem[];
  oldest: readonly OpenLine[];
  dashboardUrl: string;
}): AdaptiveCard {
  const recent = opts.weeks.slice(-8);
  const last = recent.at(-1);
  const line = (legend: string, pick: (w: WeekPoint) => number) => ({ legend, values: recent.map((w) => ({ x: shortWeek(w.week), y: pick(w) })) });
  const categories = Object.entries(opts.openByCategory).sort((a, b) => b[1] - a[1]);
  const donut = categories.slice(0, DIGEST_SLICES);
  const rest = categories.slice(DIGEST_SLICES).reduce((n, [, v]) => n + v, 0);
  if (rest) donut.push(['Other', rest]);
  // Those behind first: a digest points at what needs attention; the dashboard lists every measure.
  const measures = [...opts.statuses].sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state]);
  const data: DigestData = {
    heading: `Adoption this week: week of ${shortWeek(opts.week)}`,
    asOf: opts.asOf ? `Figures as of ${opts.asOf.slice(0, 16).replace('T', ' ')} UTC.` : 'No figures have been computed yet.',
    measures: measures.slice(0, DIGEST_MEASURES).map((m) => ({
      title: e(clip(m.name, 80)),
      value: e(`${m.latest ? formatValue(m.latest.value, m.unit) : '—'} → ${formatValue(m.target.value, m.unit)} by ${m.target.by} · ${STATE_LABEL[m.state]}`),
    })),
    moreMeasures: measures.length > DIGEST_MEASURES ? `${measures.length - DIGEST_MEASURES} more measures on the dashboard.` : '',
    activity: [line('Active users', (w) => w.activeUsers), line('Questions asked', (w) => w.questionsAsked)],
    activityFallback: recent.length
      ? `Active users by week: ${recent.map((w) => `${shortWeek(w.week)} ${w.activeUsers}`).join(', ')}. Questions: ${recent.map((w) => w.questionsAsked).join(', ')}.`
      : 'No weekly figures yet.',
    issuesBars: recent.map((w) => ({ x: shortWeek(w.week), y: w.issuesOpened })),
    issuesFallback: recent.length ? `Issues opened by week: ${recent.map((w) => `${shortWeek(w.week)} ${w.issuesOpened}`).join(', ')}.` : 'No issues yet.',
    // Cut between whole characters (clip): a slice through an emoji leaves half of it, shown as a broken character.
    openDonut: donut.map(([legend, value]) => ({ legend: clip(legend, 40), value })),
    openFallback: categories.length ? `Open issues by category: ${categories.map(([c, n]) => `${c} ${n}`).join(', ')}.` : 'No open issues.',
    summary: last
      ? [
          { title: 'Active users', value: String(last.activeUsers) },
          { title: 'Questions answered', value: last.shareAnswered === null ? '—' : `${last.shareAnswered} %` },
          { title: 'Rated helpful', value: last.shareHelpful === null ? '—' : `${last.shareHelpful} %` },
          { title: 'Issues opened / resolved', value: `${last.issuesOpened} / ${last.issuesResolved}` },
          { title: 'Open now', value: opts.open ? `${opts.open.total} (${opts.open.untriaged} untriaged, ${opts.open.pastSla} past the SLA)` : '—' },
          { title: 'Median time to triage', value: last.medianHoursToTriage === null ? '—' : `${last.medianHoursToTriage} h` },
          { title: 'Median time to resolve', value: last.medianDaysToResolve === null ? '—' : `${last.medianDaysToResolve} days` },
        ]
      : [],
    gaps: opts.gaps.slice(0, 5).map((g) => ({ text: e(clip(g.example, 140)), count: `${g.count}×` })),
    oldest: opts.oldest.slice(0, 5).map((o) => ({
      line: `**${o.ref}** ${e(clip(o.title, 100))} · ${STATUS_LABEL[o.status as Status] ?? o.status} · ${e(o.site)}`,
      age: `${ageDays(o.createdAt, opts.now)} d`,
    })),
    dashboardUrl: opts.dashboardUrl,
  };
  return renderCard('adoption-digest', data);
}
