import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { h } from './dom.js';
import { num } from './format.js';
import { seriesColors, token } from './theme.js';

/**
 * Charts (Chart.js on a canvas) that every reader can use: each is a figure with a caption, the canvas is
 * an image whose label says what it shows, and the same figures follow in a data table (for screen readers
 * and keyboard users, and for anyone who wants the numbers).
 */

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, DoughnutController, ArcElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface Series {
  label: string;
  values: (number | null)[];
}

const charts = new Map<Chart, 'line' | 'bar' | 'doughnut'>();

/** Redraws every chart in the theme's colours (Teams switched theme). */
export function recolourCharts(): void {
  for (const [c, kind] of charts) {
    const colors = seriesColors();
    c.data.datasets.forEach((d, i) => {
      const col = kind === 'doughnut' ? colors : colors[i % colors.length];
      d.backgroundColor = col as never;
      d.borderColor = (kind === 'doughnut' ? token('colorNeutralBackground1') : col) as never;
    });
    styleScales(c);
    c.update();
  }
}

function styleScales(c: Chart): void {
  const text = token('colorNeutralForeground2');
  const grid = token('colorNeutralStroke2');
  Chart.defaults.color = text;
  for (const scale of Object.values(c.options.scales ?? {})) {
    if (!scale) continue;
    const s = scale as { ticks?: Record<string, unknown>; grid?: { color?: string } };
    s.ticks = { ...s.ticks, color: text };
    s.grid = { color: grid };
  }
}

function dataTable(caption: string, labels: string[], series: Series[]): HTMLElement {
  return h(
    'details',
    { className: 'chart-data' },
    h('summary', {}, 'Show the figures'),
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), ...series.map((s) => h('th', { scope: 'col' }, s.label)))),
      h(
        'tbody',
        {},
        ...labels.map((label, i) => h('tr', {}, h('th', { scope: 'row' }, label), ...series.map((s) => h('td', {}, num(s.values[i] ?? null))))),
      ),
    ),
  );
}

function figure(id: string, title: string, summary: string, kind: 'line' | 'bar' | 'doughnut', labels: string[], series: Series[], counts = false): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': `${title}. ${summary}`, id });
  const colors = seriesColors();
  const chart = new Chart(canvas, {
    type: kind,
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.values,
        backgroundColor: kind === 'doughnut' ? colors : colors[i % colors.length],
        borderColor: kind === 'doughnut' ? token('colorNeutralBackground1') : colors[i % colors.length],
        // A week with no figure (a share of no questions, a median of no issues) is a gap, not bridged by a
        // line as if it had been measured; counts have no such weeks (a dead week counts 0).
        spanGaps: false,
        tension: 0.25,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: series.length > 1 || kind === 'doughnut', position: 'bottom' } },
      ...(kind === 'doughnut' ? {} : { scales: { y: { beginAtZero: true, ...(counts ? { ticks: { precision: 0 } } : {}) } } }),
    },
  });
  styleScales(chart);
  chart.update();
  charts.set(chart, kind);
  return h(
    'figure',
    { className: 'chart', 'data-chart': id },
    h('figcaption', {}, title),
    h('div', { className: 'chart-canvas' }, canvas),
    dataTable(title, labels, series),
  );
}

/** `counts`: whole numbers only on the axis (people, questions, issues). */
export function lineChart(id: string, title: string, labels: string[], series: Series[], counts = false): HTMLElement {
  const last = series.map((s) => `${s.label} ${num(s.values.at(-1) ?? null)}`).join(', ');
  // The label names the week, so a screen reader hears "(so far)" on the week under way as the axis shows it.
  return figure(id, title, `Latest week, ${labels.at(-1) ?? ''}: ${last}.`, 'line', labels, series, counts);
}

export function barChart(id: string, title: string, labels: string[], series: Series[]): HTMLElement {
  return figure(id, title, `${labels.length} weeks; latest, ${labels.at(-1) ?? ''}: ${series.map((s) => `${s.label} ${num(s.values.at(-1) ?? null)}`).join(', ')}.`, 'bar', labels, series, true);
}

/** Counts by the values of one dimension (categories, sites), not by week: the label names each value's counts. */
export function groupedBarChart(id: string, title: string, labels: string[], series: Series[]): HTMLElement {
  const summary = labels.map((l, i) => `${l}: ${series.map((s) => `${s.label.toLowerCase()} ${num(s.values[i] ?? null)}`).join(', ')}`).join('; ');
  return figure(id, title, `${summary}.`, 'bar', labels, series, true);
}

export function donutChart(id: string, title: string, parts: Record<string, number>): HTMLElement {
  const entries = Object.entries(parts).sort((a, b) => b[1] - a[1]);
  const summary = entries.map(([k, v]) => `${k} ${v}`).join(', ');
  return figure(id, title, summary, 'doughnut', entries.map(([k]) => k), [{ label: 'Open issues', values: entries.map(([, v]) => v) }]);
}

/** Charts of a view being replaced: free their canvases. */
export function destroyCharts(within: Element): void {
  for (const c of [...charts.keys()]) {
    if (within.contains(c.canvas)) {
      c.destroy();
      charts.delete(c);
    }
  }
}
