import { STATE_LABEL } from '../../../src/adoption/metrics.js';
import { ApiError, call, problem } from '../api.js';
import { barChart, donutChart, lineChart } from '../charts.js';
import { announce, h, fill } from '../dom.js';
import { day, decimalComma, figure, num, shortDay, when } from '../format.js';
import type { MeasureStatus, Me, Overview } from '../types.js';

/** Overview: the measures against baseline and target, and the weeks' trends as charts. */

function value(v: number, unit: string): string {
  return unit === '%' ? `${figure(v)} %` : unit ? `${figure(v)} ${unit}` : figure(v);
}

function measureCard(m: MeasureStatus): HTMLElement {
  const progress = m.progress === null ? null : Math.max(0, Math.min(100, m.progress));
  return h(
    'article',
    { className: `measure state-${m.state}`, 'aria-labelledby': `m-${m.id}` },
    h('header', {}, h('h3', { id: `m-${m.id}` }, m.name), h('span', { className: 'badge' }, STATE_LABEL[m.state] ?? m.state)),
    h('p', { className: 'line' }, `Baseline ${value(m.baseline.value, m.unit)} (${day(m.baseline.date)}) → target ${value(m.target.value, m.unit)} by ${day(m.target.by)}`),
    h(
      'p',
      { className: 'latest' },
      m.latest
        ? `Latest: ${value(m.latest.value, m.unit)} (${m.source === 'bot' ? `week of ${day(m.latest.date)}` : day(m.latest.date)})`
        : m.source === 'ims'
          ? 'No figure entered yet.'
          : 'Not computed yet.',
    ),
    // A figure entered over another's: what it replaced, where the rollout team checks the figure (the API sends it to them only).
    m.latest?.replaced
      ? h('p', { className: 'replaced' }, `Replaces ${value(m.latest.replaced.value, m.unit)} entered by ${m.latest.replaced.enteredBy || 'someone'}.`)
      : null,
    progress === null
      ? null
      : h(
          'div',
          {
            className: 'progress',
            role: 'progressbar',
            'aria-valuemin': 0,
            'aria-valuemax': 100,
            'aria-valuenow': Math.round(progress),
            'aria-valuetext': `${Math.round(m.progress ?? 0)} % of the way from baseline to target; ${Math.round(m.expected ?? 0)} % expected by now`,
            'aria-label': `Progress of ${m.name}`,
          },
          h('span', { className: 'bar', style: `width:${progress}%` }),
          m.expected === null ? null : h('span', { className: 'expected', style: `left:${m.expected}%`, title: 'Where it should be by now' }),
        ),
    h('p', { className: 'source' }, m.source === 'ims' ? 'Entered from the IMS by the rollout team' : 'Computed by Rollout Desk'),
  );
}

function countTable(caption: string, what: string, counts: Record<string, number>, max = 20): HTMLElement {
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const shown = rows.slice(0, max);
  return h(
    'table',
    { className: 'counts' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, what), h('th', { scope: 'col' }, 'Open'))),
    h('tbody', {}, ...shown.map(([k, v]) => h('tr', {}, h('th', { scope: 'row', className: 'text' }, k === 'none' ? 'None' : k), h('td', {}, num(v))))),
    rows.length > max ? h('tfoot', {}, h('tr', {}, h('td', { colspan: 2 }, `and ${rows.length - max} more`))) : null,
  );
}

/** The import API's body limit (1 MB, src/http/tab-api.ts): a bigger file is refused here, in the same words. */
const MAX_CSV_BYTES = 1024 * 1024;
/** How often a large import's progress is asked for while it is written. */
const POLL_MS = 1_000;

interface ImportAnswer {
  import?: { id: string; state: 'running' | 'done'; total: number; written: number };
  message: string;
}

/** A large import is written in batches on the server: its progress, asked for until it is done, shown as it goes. */
async function followImport(first: ImportAnswer, progress: HTMLElement): Promise<string> {
  let answer = first;
  for (;;) {
    const job = answer.import;
    if (!job || job.state === 'done') return answer.message;
    fill(progress, h('progress', { max: job.total, value: job.written, 'aria-label': 'Figures written' }), ` ${answer.message}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
    answer = await call<ImportAnswer>(`figures/import/${encodeURIComponent(job.id)}`);
  }
}

function figureForms(overview: Overview, reload: () => void): HTMLElement {
  const ims = overview.measures.filter((m) => m.source === 'ims');
  // The reader's own day, as they would write it: UTC's is tomorrow on an evening west of UTC (the figure would be
  // dated a day late) and yesterday after midnight east of it (their today could not be picked).
  const now = new Date();
  const today = new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
  const enter = h(
    'form',
    {
      className: 'figure-form',
      'aria-label': 'Enter a figure from the IMS',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const f = new FormData(ev.target as HTMLFormElement);
        try {
          const res = await call<{ replaced?: { value: number; enteredBy: string }[] }>('figures', { method: 'POST', body: { measure: f.get('measure'), date: f.get('date'), value: String(f.get('value') ?? ''), decimalComma: decimalComma() } });
          const old = res.replaced?.[0];
          announce(old ? `Figure saved. It replaces ${old.value} entered by ${old.enteredBy || 'someone'}.` : 'Figure saved.', 'success');
          reload();
        } catch (err) {
          announce(problem(err, 'The figure could not be saved.'), 'error');
        }
      },
    },
    h('h3', {}, 'Enter a figure'),
    h('label', {}, 'Measure', h('select', { name: 'measure', required: true }, ...ims.map((m) => h('option', { value: m.id }, m.name)))),
    h('label', {}, 'Date', h('input', { type: 'date', name: 'date', required: true, value: today, max: today })),
    h('label', {}, 'Value', h('input', { name: 'value', inputmode: 'decimal', required: true })),
    h('button', { type: 'submit' }, 'Save figure'),
  );
  const errors = h('ul', { className: 'errors', 'aria-live': 'polite' });
  const progress = h('p', { className: 'import-progress', 'aria-live': 'polite' });
  const upload = h(
    'form',
    {
      className: 'figure-form',
      'aria-label': 'Import figures from a CSV file',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const file = ((ev.target as HTMLFormElement).elements.namedItem('csv') as HTMLInputElement).files?.[0];
        if (!file) return announce('Choose a CSV file first.', 'error');
        // The API takes 1 MB at most; a bigger file would only be sent to be refused.
        if (file.size > MAX_CSV_BYTES) {
          return announce(`The file is ${Math.ceil(file.size / 1024).toLocaleString('en-US')} KB; the limit is ${(MAX_CSV_BYTES / 1024).toLocaleString('en-US')} KB: split it into files of at most 10,000 figures, or check that it is the right file.`, 'error');
        }
        fill(errors);
        try {
          const res = await call<ImportAnswer>('figures/import', { method: 'POST', body: { csv: await file.text() } });
          if (res.import) announce(`Importing ${res.import.total.toLocaleString('en-US')} figures…`, 'info');
          const message = await followImport(res, progress);
          fill(progress);
          announce(message, 'success');
          reload();
        } catch (err) {
          fill(progress);
          announce(problem(err, 'The file could not be imported.'), 'error');
          const list = err instanceof ApiError && Array.isArray(err.body.errors) ? (err.body.errors as string[]) : [];
          fill(errors, ...list.map((e) => h('li', {}, e)));
        }
      },
    },
    h('h3', {}, 'Import figures'),
    h('p', { className: 'hint' }, 'A CSV with the columns measure, date, value (at most 10,000 rows). Every row is checked first: one bad row and nothing is imported. A figure for a measure and date that has one replaces it.'),
    h('label', {}, 'CSV file', h('input', { type: 'file', name: 'csv', accept: '.csv,text/csv', required: true })),
    h('button', { type: 'submit' }, 'Import'),
    progress,
    errors,
  );
  return h('section', { className: 'panel', 'aria-labelledby': 'figures-h' }, h('h2', { id: 'figures-h' }, 'Figures from the IMS'), ims.length ? [enter, upload] : h('p', {}, 'No measure takes figures from the IMS.'));
}

export async function overviewView(root: HTMLElement, me: Me): Promise<void> {
  const overview = await call<Overview>('overview');
  const weeks = overview.weeks;
  // The week under way is charted as it stands (see README): its label says it is partial.
  const labels = weeks.map((w) => (w.soFar ? `${shortDay(w.week)} (so far)` : shortDay(w.week)));
  const now = overview.issuesNow;
  fill(root, 
    h('p', { className: 'as-of' }, overview.asOf ? `Figures as of ${when(overview.asOf)}.` : 'No figures have been computed yet: they appear after the first roll-up.'),
    h(
      'section',
      { className: 'panel', 'aria-labelledby': 'measures-h' },
      h('h2', { id: 'measures-h' }, 'Measures of success'),
      overview.measures.length ? h('div', { className: 'measures' }, ...overview.measures.map(measureCard)) : h('p', {}, 'No measures are set for this rollout yet.'),
    ),
    now
      ? h(
          'section',
          { className: 'panel', 'aria-labelledby': 'now-h' },
          h('h2', { id: 'now-h' }, 'Issues now'),
          h(
            'dl',
            { className: 'facts' },
            h('div', {}, h('dt', {}, 'Open'), h('dd', {}, num(now.open))),
            h('div', {}, h('dt', {}, 'Untriaged'), h('dd', {}, num(now.untriaged))),
            h('div', {}, h('dt', {}, 'Past the SLA'), h('dd', {}, num(now.pastSla))),
          ),
          h('div', { className: 'split' }, countTable('Open issues by priority', 'Priority', now.byPriority), countTable('Open issues by site (most first)', 'Site', now.bySite, 10)),
        )
      : null,
    h(
      'section',
      { className: 'panel charts', 'aria-labelledby': 'trends-h' },
      h('h2', { id: 'trends-h' }, 'Trends by week'),
      weeks.length
        ? [
            lineChart('chart-activity', 'Active users and questions asked', labels, [
              { label: 'Active users', values: weeks.map((w) => w.activeUsers) },
              { label: 'Questions asked', values: weeks.map((w) => w.questionsAsked) },
            ], true),
            lineChart('chart-answers', 'Questions answered and rated helpful (%)', labels, [
              { label: 'Answered %', values: weeks.map((w) => w.shareAnswered) },
              { label: 'Helpful %', values: weeks.map((w) => w.shareHelpful) },
            ]),
            barChart('chart-issues', 'Issues opened and resolved, and SLA breaches', labels, [
              { label: 'Opened', values: weeks.map((w) => w.issuesOpened) },
              { label: 'Resolved', values: weeks.map((w) => w.issuesResolved) },
              { label: 'SLA breaches', values: weeks.map((w) => w.slaBreaches) },
            ]),
            lineChart('chart-times', 'Median time to triage (hours) and to resolve (days)', labels, [
              { label: 'Hours to triage', values: weeks.map((w) => w.medianHoursToTriage) },
              { label: 'Days to resolve', values: weeks.map((w) => w.medianDaysToResolve) },
            ]),
            now && Object.keys(now.byCategory).length ? donutChart('chart-open', 'Open issues by category', now.byCategory) : null,
          ]
        : h('p', {}, 'Nothing to chart yet.'),
    ),
    me.can['adoption.measures'] ? figureForms(overview, () => void overviewView(root, me)) : null,
  );
}
