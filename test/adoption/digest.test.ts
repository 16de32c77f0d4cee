import { describe, expect, it } from 'vitest';
import { digestCard } from '../../src/adoption/cards.js';
import { foldDay, foldWeek } from '../../src/adoption/daily.js';
import { DigestJob, digestWeekDue } from '../../src/adoption/digest.js';
import { FigureStore } from '../../src/adoption/figures.js';
import type { MeasureStatus, WeekPoint } from '../../src/adoption/metrics.js';
import type { Measure } from '../../src/adoption/measures.js';
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
async function digestWorld(clock: ManualClock, measures: Measure[] = []) {
  const tables = testTables();
  const state = await StateStore.open(tables);
  const aggregates = await AggregateStore.open(tables);
  const adoption = new AdoptionService({
    measures: { current: measures, version: 'v', edit: async () => ({ ok: false, errors: {} }) },
    figures: await FigureStore.open(tables),
    aggregates,
    state,
    clock,
    providers: {},
    weeks: 12,
  });
  return { tables, state, adoption, aggregates };
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

  it('waits for "setup rollout" rather than spend the week on a channel nobody set up: set up later that day, it goes then', async () => {
    const clock = new ManualClock('2027-01-11T06:30:00Z'); // Monday 08:30 in Lusaka
    const { state, adoption } = await digestWorld(clock);
    const outbox = new CapturedOutbox();
    let ready = false;
    const digest = new DigestJob({ adoption, state, outbox, clock, schedule: SCHEDULE, refresh: async () => 0, dashboardUrl: () => 'https://x', channelReady: async () => ready });
    expect(await digest.run()).toBeNull();
    expect(outbox.messages).toEqual([]);
    clock.advance(2 * 3_600_000);
    ready = true;
    expect(await digest.run()).toBe('2027-W02');
    expect(outbox.messages.map((m) => m.key)).toEqual(['adoption-digest|2027-W02']);
  });

  it('when the digest could not be queued, leaves the week to the next tick, which sends it', async () => {
    const clock = new ManualClock('2027-01-11T06:30:00Z');
    const { state, adoption } = await digestWorld(clock);
    const outbox = new CapturedOutbox();
    let fail = true;
    const flaky = {
      enqueue: async (m: Parameters<CapturedOutbox['enqueue']>[0]) => (fail ? Promise.reject(new Error('queue down')) : outbox.enqueue(m)),
      onResult: () => {},
      withdraw: async () => {},
    };
    const digest = new DigestJob({ adoption, state, outbox: flaky, clock, schedule: SCHEDULE, refresh: async () => 0, dashboardUrl: () => 'https://x' });
    await expect(digest.run()).rejects.toThrow('queue down');
    fail = false;
    expect(await digest.run()).toBe('2027-W02');
    expect(outbox.messages).toHaveLength(1);
  });
  it('is not lost when its instance dies while making it: the next tick, on another instance, sends it once', async () => {
    const clock = new ManualClock('2027-01-11T06:30:00Z');
    const { state, adoption } = await digestWorld(clock);
    const outbox = new CapturedOutbox();
    // The first instance dies while the figures are brought up to date (its run never ends).
    const dying = new DigestJob({ adoption, state, outbox, clock, schedule: SCHEDULE, refresh: () => new Promise(() => {}), dashboardUrl: () => 'https://x' });
    void dying.run();
    await new Promise((r) => setTimeout(r, 50));
    clock.advance(60_000);
    const next = new DigestJob({ adoption, state, outbox, clock, schedule: SCHEDULE, refresh: async () => 0, dashboardUrl: () => 'https://x' });
    expect(await next.run()).toBe('2027-W02');
    expect(outbox.messages.map((m) => m.key)).toEqual(['adoption-digest|2027-W02']);
    // Once queued and recorded, no later tick (on either) queues it again.
    clock.advance(60_000);
    expect(await next.run()).toBeNull();
    expect(await new DigestJob({ adoption, state, outbox, clock, schedule: SCHEDULE, refresh: async () => 0, dashboardUrl: () => 'https://x' }).run()).toBeNull();
    expect(outbox.messages).toHaveLength(1);
  });

  it('queued but not yet recorded when its instance died: queued again under the same key, which the outbox sends once', async () => {
    const clock = new ManualClock('2027-01-11T06:30:00Z');
    const { state, adoption } = await digestWorld(clock);
    const outbox = new CapturedOutbox();
    // Dies right after queueing: the record of the week is never written.
    const dying = new DigestJob({
      adoption,
      state: Object.assign(Object.create(state) as StateStore, { claim: () => new Promise<boolean>(() => {}) }),
      outbox,
      clock,
      schedule: SCHEDULE,
      refresh: async () => 0,
      dashboardUrl: () => 'https://x',
    });
    void dying.run();
    await new Promise((r) => setTimeout(r, 200));
    const next = new DigestJob({ adoption, state, outbox, clock, schedule: SCHEDULE, refresh: async () => 0, dashboardUrl: () => 'https://x' });
    expect(await next.run()).toBe('2027-W02');
    const keys = outbox.messages.map((m) => m.key);
    expect(new Set(keys)).toEqual(new Set(['adoption-digest|2027-W02']));
  });
});

describe('what the digest reports', () => {
  const weeklyActive: Measure = {
    id: 'weekly-active',
    name: 'Weekly active users',
    unit: 'people',
    baseline: { value: 0, date: '2026-09-07' },
    target: { value: 150, by: '2027-02-01' },
    source: { kind: 'bot', metric: 'weeklyActiveUsers' },
  };
  const SLA = { untriagedReminderMinutes: 240, escalationMinutes: 60 } as Parameters<typeof foldDay>[3];
  const asked = (day: string, who: string) => ({
    id: `${day}-${who}`,
    question: 'How do I reset my password?',
    asker: { id: who, aadObjectId: who, name: who },
    askedAt: `${day}T10:00:00Z`,
    answered: true,
    helpful: 0,
    notHelpful: 0,
  }) as unknown as Parameters<typeof foldDay>[2][number];

  /** Day and week rows as the roll-up stores them: for each week (its Monday), each day's askers (one question each). */
  const storeWeeks = async (aggregates: AggregateStore, weeks: Record<string, Record<string, string[]>>) => {
    for (const [monday, days] of Object.entries(weeks)) {
      const folded = Object.entries(days).map(([day, askers]) => foldDay(day, [], askers.map((who) => asked(day, who)), SLA));
      for (const d of folded) await aggregates.putDay(d);
      await aggregates.putWeek(foldWeek(monday, folded));
    }
  };
  /** The digest run now: it sends `week`'s card, returned as JSON text. */
  const digestSent = async (w: { adoption: AdoptionService; state: StateStore; clock: ManualClock }, week: string) => {
    const outbox = new CapturedOutbox();
    const digest = new DigestJob({ ...w, outbox, schedule: SCHEDULE, refresh: async () => 0, dashboardUrl: () => 'https://x' });
    expect(await digest.run()).toBe(week);
    return JSON.stringify(outbox.messages[0]!.content);
  };

  it('is the week that just ended, not the hours of the week that began this morning', async () => {
    // Monday 11 Jan, 08:30 in Lusaka: the roll-up has folded last week (three people active) and today so far (one).
    const clock = new ManualClock('2027-01-11T06:30:00Z');
    const { state, adoption, aggregates } = await digestWorld(clock, [weeklyActive]);
    await storeWeeks(aggregates, { '2027-01-04': { '2027-01-05': ['a', 'b'], '2027-01-07': ['c'] }, '2027-01-11': { '2027-01-11': ['a'] } });
    const card = await digestSent({ adoption, state, clock }, '2027-W02');
    expect(card).toContain('week of 4 Jan');
    expect(card).toContain('{"title":"Active users","value":"3"}');
    expect(card).toContain('"value":"3 people → 150 people by 2027-02-01');
    // The measures card and the dashboard: a weekly figure is a whole week's, so the week begun today is not its latest.
    const overview = await adoption.overview();
    expect(overview.measures[0]).toMatchObject({ latest: { date: '2027-01-04', value: 3 } });
    expect(overview.weeks.map((w) => w.week).at(-1)).toBe('2027-01-11');
  });

  it('charts a week with no activity as 0, not skips it: the backfill stored no row for it', async () => {
    // Monday 18 Jan, 08:30 in Lusaka: the digest is on the week of 11 Jan; nothing happened in the week of 4 Jan.
    const clock = new ManualClock('2027-01-18T06:30:00Z');
    const { state, adoption, aggregates } = await digestWorld(clock);
    await storeWeeks(aggregates, { '2026-12-28': { '2026-12-29': ['a', 'b'] }, '2027-01-11': { '2027-01-12': ['c'] } });
    const card = await digestSent({ adoption, state, clock }, '2027-W03');
    expect(card).toContain('Active users by week: 28 Dec 2, 4 Jan 0, 11 Jan 1. Questions: 2, 0, 1.');
    expect(card).toContain('Issues opened by week: 28 Dec 0, 4 Jan 0, 11 Jan 0.');
  });

  it('lists the top unanswered questions of the week it reports, not of the seven days up to this morning', async () => {
    // Monday 11 Jan, 08:30 in Lusaka: the digest is on the week of 4 Jan.
    const clock = new ManualClock('2027-01-11T06:30:00Z');
    const { state, adoption, aggregates } = await digestWorld(clock);
    const unanswered = (day: string, who: string, question: string) => ({ ...asked(day, who), question, answered: false });
    await aggregates.putDay(foldDay('2027-01-04', [], [unanswered('2027-01-04', 'a', 'How do I print the monthly stock report?')], SLA));
    await aggregates.putDay(foldDay('2027-01-11', [], [unanswered('2027-01-11', 'b', 'Where is the offline sync setting?')], SLA));
    const outbox = new CapturedOutbox();
    const digest = new DigestJob({ adoption, state, outbox, clock, schedule: SCHEDULE, refresh: async () => 0, dashboardUrl: () => 'https://x' });
    expect(await digest.run()).toBe('2027-W02');
    const card = JSON.stringify(outbox.messages[0]!.content).replace(/\u200B/g, '');
    expect(card).toContain('week of 4 Jan');
    expect(card).toContain('monthly stock report');
    expect(card).not.toContain('offline sync');
  });

  it('east of UTC, waits for the week to end in UTC (days are UTC days): Sunday evening\'s questions are in it', async () => {
    // Monday 08:30 in Auckland (UTC+13) is Sunday 19:30 UTC: the week reported still has hours to run.
    const auckland = { weekday: 1, hour: 8, timeZone: 'Pacific/Auckland' };
    const clock = new ManualClock('2027-01-10T19:30:00Z');
    const { state, adoption, aggregates } = await digestWorld(clock, [weeklyActive]);
    const questions = [
      { ...asked('2027-01-05', 'a'), askedAt: '2027-01-05T10:00:00Z' },
      { ...asked('2027-01-10', 'b'), askedAt: '2027-01-10T10:00:00Z' },
      { ...asked('2027-01-10', 'c'), askedAt: '2027-01-10T22:00:00Z' }, // Sunday night UTC, after 08:00 Monday in Auckland
    ];
    // The roll-up as the digest's refresh runs it: the days so far, with the questions asked by now.
    const refresh = async () => {
      const now = clock.now().toISOString();
      const days = ['2027-01-05', '2027-01-10'].map((day) => foldDay(day, [], questions.filter((q) => q.askedAt.startsWith(day) && q.askedAt <= now), SLA));
      for (const d of days) await aggregates.putDay(d);
      await aggregates.putWeek(foldWeek('2027-01-04', days));
    };
    const outbox = new CapturedOutbox();
    const digest = new DigestJob({ adoption, state, outbox, clock, schedule: auckland, refresh, dashboardUrl: () => 'https://x' });
    expect(await digest.run()).toBeNull();
    expect(outbox.messages).toEqual([]);
    clock.set('2027-01-11T00:01:00Z'); // 13:01 Monday in Auckland: the week is over in UTC too
    expect(await digest.run()).toBe('2027-W02');
    const card = JSON.stringify(outbox.messages[0]!.content);
    expect(card).toContain('week of 4 Jan');
    expect(card).toContain('{"title":"Active users","value":"3"}');
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

  /** The digest's line for one measure (the first fact), as a reader sees it. */
  const measureLine = (status: Partial<MeasureStatus>): string => {
    const card = digestCard({
      week: '2027-01-04',
      now: new Date('2027-01-11T06:00:00Z'),
      asOf: null,
      statuses: [{ ...statuses[0]!, ...status }],
      weeks: [],
      openByCategory: {},
      open: null,
      gaps: [],
      oldest: [],
      dashboardUrl: 'https://rollout-desk.example.org/tab/index.html',
    });
    return (card.body as { type: string; facts?: { value: string }[] }[]).find((b) => b.type === 'FactSet')?.facts?.[0]?.value.replace(/\u200B/g, '') ?? '';
  };

  it('shows a measure\'s unit as typed, never as markup, and a figure below 0.1 as it is, not as 0.0', () => {
    const value = measureLine({ unit: '<at>Lee</at>**x**', baseline: { value: 1, date: '2026-09-01' }, target: { value: 0.01, by: '2027-03-31' }, latest: { value: 0.04, date: '2027-01-10' } });
    expect(value).toMatch(/^0\.04 .* → 0\.01 /);
    expect(value).not.toContain('<at>');
    expect(value).not.toContain('**');
  });

  it('groups a large figure\'s thousands, as the dashboard does: 250,000 records, not 250000', () => {
    const value = measureLine({ unit: 'records', baseline: { value: 12_000, date: '2026-09-01' }, target: { value: 250_000, by: '2027-03-31' }, latest: { value: 181_234.5, date: '2027-01-10' } });
    expect(value).toMatch(/^181,234\.5 records → 250,000 records /);
  });

  it('cuts a long measure name, question, issue title or category between whole characters, never through an emoji', () => {
    const emoji = '👍'.repeat(200);
    const card = digestCard({
      week: '2027-01-04',
      now: new Date('2027-01-11T06:00:00Z'),
      asOf: null,
      statuses: [{ ...statuses[0]!, name: `a${'👍'.repeat(59)}` }],
      weeks: [],
      openByCategory: { [`a${emoji}`]: 3 },
      open: { total: 3, untriaged: 0, pastSla: 0 },
      gaps: [{ example: `a${emoji}`, count: 3, askers: 3, unanswered: 3, notHelpful: 0, lastAskedAt: '2027-01-10T10:00:00Z' }],
      oldest: [{ ref: 'R-1000', title: `a${emoji}`, status: 'new', priority: 'P2', category: 'Reports', site: 'Marula', assignee: 'Chris', createdAt: '2026-11-01T10:00:00Z' }],
      dashboardUrl: 'https://rollout-desk.example.org/tab/index.html',
    });
    // A lone surrogate (half an emoji) shows as a broken character; well-formed text has none.
    const texts: string[] = [];
    JSON.stringify(card, (_k, v: unknown) => (typeof v === 'string' && texts.push(v), v));
    const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    expect(texts.filter((t) => lone.test(t)).map((t) => t.slice(0, 20))).toEqual([]);
    expect(texts.some((t) => t.includes('👍'.repeat(30)))).toBe(true);
  });

  it('stays under 40 KB with the largest content it can hold, and every chart has a fallback with its figures', () => {
    const card = digestCard({
      week: '2027-01-04',
      now: new Date('2027-01-11T06:00:00Z'),
      asOf: '2027-01-11T05:55:00Z',
      statuses,
      weeks,
      openByCategory: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`${long(8, 'category')} ${i}`, 10 + i])),
      open: { total: 300, untriaged: 20, pastSla: 4 },
      gaps: Array.from({ length: 10 }, (_, i) => ({ example: `${long(100, 'question')} ${i}`, count: 30 - i, askers: 12 - i, unanswered: 20, notHelpful: 10, lastAskedAt: '2027-01-10T10:00:00Z' })),
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
