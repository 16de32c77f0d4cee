import { describe, expect, it } from 'vitest';
import { digestCard } from '../../src/adoption/cards.js';
import { DigestJob, digestWeekDue } from '../../src/adoption/digest.js';
import { FigureStore } from '../../src/adoption/figures.js';
import type { MeasureStatus, WeekPoint } from '../../src/adoption/metrics.js';
import { AdoptionService } from '../../src/adoption/service.js';
import { AggregateStore, StateStore } from '../../src/adoption/store.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { ManualClock } from '../../src/clock.js';
import { LeaseStore } from '../../src/scheduler/lease.js';
import { Scheduler } from '../../src/scheduler/runner.js';
import { validationErrors } from '../support/cards.js';
import { CapturedOutbox } from '../support/outbox.js';
import { testTables } from '../support/storage.js';

const SCHEDULE = { weekday: 1, hour: 8, timeZone: 'Africa/Lusaka' }; // Monday 08:00, UTC+2

describe('when the digest is due', () => {
  it('is due on the configured weekday from the configured hour, in the configured time zone', () => {
    expect(digestWeekDue(new Date('2027-01-11T05:59:00Z'), SCHEDULE)).toBeNull(); // 07:59 in Lusaka
    expect(digestWeekDue(new Date('2027-01-11T06:00:00Z'), SCHEDULE)).toBe('2027-W02');
    expect(digestWeekDue(new Date('2027-01-11T21:59:00Z'), SCHEDULE)).toBe('2027-W02');
    expect(digestWeekDue(new Date('2027-01-11T22:00:00Z'), SCHEDULE)).toBeNull(); // Tuesday already in Lusaka
    expect(digestWeekDue(new Date('2027-01-15T06:00:00Z'), { ...SCHEDULE, weekday: 5 })).toBe('2027-W02');
  });
});

/** The adoption service and the state table over fresh tables, as the digest reads them. */
async function digestWorld(clock: ManualClock) {
  const tables = testTables();
  const state = await StateStore.open(tables);
  const adoption = new AdoptionService({
    measures: { current: [], version: 'v', edit: async () => ({ ok: false, errors: {} }) },
    figures: await FigureStore.open(tables),
    aggregates: await AggregateStore.open(tables),
    state,
    clock,
    providers: {},
    weeks: 12,
  });
  return { tables, state, adoption };
}

describe('the weekly digest job', () => {
  it('sends once per week to the rollout channel, with two instances ticking, and again the next week', async () => {
    const clock = new ManualClock('2027-01-10T23:00:00Z');
    const { tables, state, adoption } = await digestWorld(clock);
    const outbox = new CapturedOutbox();
    let refreshed = 0;
    const job = () =>
      new DigestJob({ adoption, state, outbox, clock, schedule: SCHEDULE, refresh: async () => refreshed++, dashboardUrl: () => 'https://desk.example.org/tab/index.html' });
    // Two instances, each with its scheduler on the shared lease table.
    const leases = await LeaseStore.open(tables);
    const log = { info: () => {}, error: () => {} };
    const instances = [new Scheduler(leases, clock, log), new Scheduler(leases, clock, log)];
    const jobs = [job(), job()];
    instances.forEach((s, i) => s.add({ name: 'adoption.digest', everyMs: 60_000, run: async () => void (await jobs[i]!.run()) }));
    const tickAll = async () => {
      for (const s of instances) await s.tick();
      // The lease holder may be either: each job also claims the week itself.
      for (const j of jobs) await j.run();
    };

    await tickAll(); // Sunday night
    expect(outbox.messages).toEqual([]);
    clock.set('2027-01-11T06:01:00Z'); // Monday 08:01 in Lusaka
    await tickAll();
    clock.advance(3_600_000);
    await tickAll();
    expect(outbox.messages.map((m) => m.key)).toEqual(['adoption-digest|2027-W02']);
    expect(outbox.messages[0]).toMatchObject({ op: 'send', to: { kind: 'channel', role: 'rollout' } });
    expect(refreshed).toBe(1);

    clock.set('2027-01-18T06:30:00Z');
    await tickAll();
    expect(outbox.messages.map((m) => m.key)).toEqual(['adoption-digest|2027-W02', 'adoption-digest|2027-W03']);
  });

  it('gives the week back when the digest could not be queued, so the next tick sends it', async () => {
    const clock = new ManualClock('2027-01-11T06:30:00Z');
    const { state, adoption } = await digestWorld(clock);
    const outbox = new CapturedOutbox();
    let fail = true;
    const flaky = {
      enqueue: async (m: Parameters<CapturedOutbox['enqueue']>[0]) => (fail ? Promise.reject(new Error('queue down')) : outbox.enqueue(m)),
      onResult: () => {},
    };
    const digest = new DigestJob({ adoption, state, outbox: flaky, clock, schedule: SCHEDULE, refresh: async () => 0, dashboardUrl: () => 'https://x' });
    await expect(digest.run()).rejects.toThrow('queue down');
    fail = false;
    expect(await digest.run()).toBe('2027-W02');
    expect(outbox.messages).toHaveLength(1);
  });
});

describe('the digest card', () => {
  const long = (n: number, word: string) => Array.from({ length: n }, () => word).join(' ');
  const weeks: WeekPoint[] = Array.from({ length: 12 }, (_, i) => ({
    week: new Date(Date.UTC(2026, 9, 19 + 7 * i)).toISOString().slice(0, 10),
    activeUsers: 100 + i,
    questionsAsked: 400 + i,
    shareAnswered: 71.5,
    shareHelpful: 80.2,
    issuesOpened: 50 + i,
    issuesResolved: 45 + i,
    openIssues: 300,
    medianHoursToTriage: 3.2,
    medianDaysToResolve: 2.5,
    slaBreaches: 4,
  }));
  const statuses: MeasureStatus[] = Array.from({ length: 30 }, (_, i) => ({
    id: `m-${i}`,
    name: `${long(18, 'measure')} ${i}`.slice(0, 120),
    unit: 'days',
    source: 'ims',
    baseline: { value: 5, date: '2026-09-01' },
    target: { value: 2, by: '2027-03-31' },
    lowerIsBetter: true,
    latest: { value: 3.5, date: '2027-01-10' },
    progress: 50,
    expected: 60,
    state: 'behind',
    series: [],
  }));

  it('stays under 40 KB with the largest content it can hold, and every chart has a fallback with its figures', () => {
    const card = digestCard({
      week: '2027-01-04',
      now: new Date('2027-01-11T06:00:00Z'),
      asOf: '2027-01-11T05:55:00Z',
      statuses,
      weeks,
      openByCategory: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`${long(8, 'category')} ${i}`, 10 + i])),
      open: { total: 300, untriaged: 20, pastSla: 4 },
      gaps: Array.from({ length: 10 }, (_, i) => ({ example: `${long(100, 'question')} ${i}`, count: 30 - i, unanswered: 20, notHelpful: 10, lastAskedAt: '2027-01-10T10:00:00Z' })),
      oldest: Array.from({ length: 10 }, (_, i) => ({ ref: `R-${1000 + i}`, title: long(20, 'title'), status: 'in_progress', priority: 'P2', category: 'Reports', site: 'Marula', assignee: 'Chris', createdAt: '2026-11-01T10:00:00Z' })),
      dashboardUrl: 'https://rollout-desk.example.org/tab/index.html',
    });
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    expect(validationErrors(card)).toEqual([]);
    const charts = (card.body as { type: string; fallback?: { text: string } }[]).filter((b) => b.type.startsWith('Chart.'));
    expect(charts.map((c) => c.type)).toEqual(['Chart.Line', 'Chart.VerticalBar', 'Chart.Donut']);
    for (const chart of charts) expect(chart.fallback?.text, chart.type).toMatch(/\d/);
    expect(charts[0]!.fallback!.text).toContain('111');
    expect(JSON.stringify(card)).toContain('R-1004');
  });
});
