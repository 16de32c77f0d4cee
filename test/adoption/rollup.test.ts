import { describe, expect, it } from 'vitest';
import { measureStatus, weekPoint } from '../../src/adoption/overview.js';
import { AdoptionRollup, IssueEventRecorder } from '../../src/adoption/rollup.js';
import { AggregateStore, EventStore, StateStore } from '../../src/adoption/store.js';
import { OpenIssues } from '../../src/issues/board.js';
import { OfferStore } from '../../src/issues/offers.js';
import { type Caller, IssueService } from '../../src/issues/service.js';
import { QuestionStore } from '../../src/faq/questions.js';
import { CapturedOutbox } from '../support/outbox.js';
import { amina, form, openStore } from '../issues/fixtures.js';
import { parseMeasures } from '../../src/adoption/measures.js';
import { FigureStore } from '../../src/adoption/figures.js';
import { AdoptionService } from '../../src/adoption/service.js';
import { reads } from '../support/table-reads.js';

const SLA = { untriagedReminderMinutes: 240, escalationMinutes: 60 };
const staff = (id: string): Caller => ({ person: { id, name: id }, reporter: { id, name: id, conversationKey: id }, role: 'staff' });
const champion: Caller = { person: amina, reporter: amina, role: 'champion' };

/** The issue log, the FAQ's question store and the adoption tables over one fresh set of tables, on a manual clock. */
async function world() {
  const s = await openStore();
  const events = await EventStore.open(s.tables);
  const recorded: string[] = [];
  const recorder = new IssueEventRecorder(events, (_err, ref) => recorded.push(ref));
  const issues = new IssueService({
    repository: s.repo,
    queries: s.queries,
    exporter: s.exporter,
    offers: await OfferStore.open(s.tables, s.clock),
    outbox: new CapturedOutbox(),
    champions: async () => [amina],
    reachable: async () => false,
    rolloutTeamIds: [],
    categories: ['Access / login', 'Reports'],
    observer: recorder,
  });
  const questions = await QuestionStore.open(s.tables, s.clock);
  const aggregates = await AggregateStore.open(s.tables);
  const state = await StateStore.open(s.tables);
  const rollup = new AdoptionRollup({
    events,
    aggregates,
    state,
    sources: {
      questionsBetween: (first, last) => questions.askedBetween(first, last),
      openIssues: () => new OpenIssues(s.issueTables).all(),
      allIssues: () => s.exporter.allIssues(),
    },
    sla: SLA,
    clock: s.clock,
    backfillDays: 30,
  });
  return { ...s, issues, questions, events, aggregates, state, rollup };
}

async function report(w: Awaited<ReturnType<typeof world>>, who: Caller, key: string, over: Record<string, string> = {}) {
  const r = await w.issues.report(who, form(over), { requestKey: key, checkSimilar: false });
  if (r.kind !== 'logged') throw new Error(r.kind);
  return r.issue;
}

describe('the adoption roll-up', () => {
  it('backfills its 30 days from a handful of range reads, with every day that had activity in its week', async () => {
    const w = await world();
    w.clock.set('2027-01-04T08:00:00Z');
    await report(w, staff('aad-sam'), 'req-early', { severity: 'minor' });
    await w.questions.record('how do I print', { id: '29:sam', aadObjectId: 'aad-sam', name: 'Sam' }, { answered: false });
    w.clock.set('2027-01-20T08:00:00Z');
    await report(w, staff('aad-ana'), 'req-late', { severity: 'slows' });
    w.clock.set('2027-01-21T09:00:00Z');

    // 31 days, a week per read: 5 reads each of events and questions, beside the issues, the stored days and
    // the weeks (a day per read made 62 for events and questions alone).
    const run = await reads(() => w.rollup.run());
    expect(run.calls).toBeLessThanOrEqual(25);
    const days = new Map((await w.aggregates.days('2027-01-04', '2027-01-21')).map((d) => [d.day, d]));
    expect(days.get('2027-01-04')).toMatchObject({ questions: { asked: 1 }, issues: { opened: 1 } });
    expect(days.get('2027-01-20')).toMatchObject({ issues: { opened: 1 } });
  });


  it('charts a week with no activity in the backfilled history as 0 for counts and as a gap for shares and medians, not leaves it out', async () => {
    const w = await world();
    w.clock.set('2027-01-05T08:00:00Z');
    await report(w, staff('aad-sam'), 'req-early', { severity: 'minor' });
    await w.questions.record('how do I print', { id: '29:sam', aadObjectId: 'aad-sam', name: 'Sam' }, { answered: true, sectionId: 's1' });
    // Nothing at all in the week of 11 January.
    w.clock.set('2027-01-19T08:00:00Z');
    await report(w, staff('aad-ana'), 'req-late', { severity: 'slows' });
    w.clock.set('2027-01-21T09:00:00Z');
    await w.rollup.run(); // the first run: the backfill writes only the days that had activity

    const adoption = new AdoptionService({
      measures: { current: [], version: 'v', edit: async () => ({ ok: false, errors: {} }) },
      figures: await FigureStore.open(w.tables),
      aggregates: w.aggregates,
      state: w.state,
      clock: w.clock,
      providers: {},
      weeks: 12,
    });
    const weeks = (await adoption.overview()).weeks;
    expect(weeks.map((p) => p.week)).toEqual(['2027-01-04', '2027-01-11', '2027-01-18']);
    // Only the week under way (21 January is in the week of the 18th) is marked as partial.
    expect(weeks.map((p) => p.soFar ?? false)).toEqual([false, false, true]);
    // A count of nothing is 0; a share or a median of nothing is no figure (null, drawn as a gap), not 0 %.
    expect(weeks[1]).toEqual({
      week: '2027-01-11',
      activeUsers: 0,
      questionsAsked: 0,
      issuesOpened: 0,
      issuesResolved: 0,
      slaBreaches: 0,
      shareAnswered: null,
      shareHelpful: null,
      openIssues: null,
      medianHoursToTriage: null,
      medianDaysToResolve: null,
    });
    expect(weeks[0]).toMatchObject({ activeUsers: 1, questionsAsked: 1, issuesOpened: 1, shareAnswered: 100 });
  });

  it('turns issues logged, triaged and resolved, and questions asked, into the week’s figures', async () => {
    const w = await world();
    w.clock.set('2027-01-04T08:00:00Z'); // a Monday
    const a = await report(w, staff('aad-sam'), 'req-a', { category: 'Reports', severity: 'minor' });
    const b = await report(w, staff('aad-ana'), 'req-b', { severity: 'slows' });
    await w.questions.record('how do I print the monthly report', { id: '29:sam', aadObjectId: 'aad-sam', name: 'Sam' }, { answered: false });
    const answered = await w.questions.record('how do I sync', { id: '29:ana', aadObjectId: 'aad-ana', name: 'Ana' }, { answered: true, sectionId: 's1' });
    await w.questions.vote(answered.id, { id: '29:ana', aadObjectId: 'aad-ana', name: 'Ana' }, true);

    w.clock.set('2027-01-04T10:00:00Z');
    await w.issues.triage(champion, 'status', { ref: a.ref, version: 1, status: 'triaged' }, 'inv-1');
    w.clock.set('2027-01-04T14:00:00Z'); // six hours: past the 4-hour SLA
    await w.issues.triage(champion, 'status', { ref: b.ref, version: 1, status: 'in_progress' }, 'inv-2');
    w.clock.set('2027-01-06T08:00:00Z');
    await w.issues.triage(champion, 'status', { ref: a.ref, version: 2, status: 'resolved' }, 'inv-3');

    w.clock.set('2027-01-06T09:00:00Z');
    await w.rollup.run();
    const [week] = await w.aggregates.weeks('2027-01-04', '2027-01-04');
    expect(week).toMatchObject({
      week: '2027-01-04',
      activeUsers: 3, // Sam, Ana and the champion
      questions: { asked: 2, answered: 1, rated: 1, helpful: 1 },
      shareAnswered: 50,
      shareHelpful: 100,
      issues: { opened: 2, triaged: 2, resolved: 1, lateTriage: 1, medianMinutesToTriage: 240, medianMinutesToResolve: 2 * 1440 },
    });
    expect(week!.issues.openedBy.category).toEqual({ Reports: 1, 'Access / login': 1 });
    expect(week!.open).toMatchObject({ total: 1, byStatus: { in_progress: 1 } });
    expect(week!.gaps[0]).toMatchObject({ example: 'how do I print the monthly report', unanswered: 1 });

    // A measure computed by the bot reads its weekly value: half way there, with 43 % of the time gone.
    const [m] = parseMeasures(
      'measures:\n  - { id: answered, name: Answered, unit: "%", baseline: { value: 40, date: 2026-12-15 }, target: { value: 60, by: 2027-01-31 }, source: bot.shareAnswered }\n',
    );
    expect(measureStatus(m!, [], [weekPoint(week!)])).toMatchObject({ latest: { value: 50, date: '2027-01-04' }, progress: 50, expected: 42.6, state: 'on-track' });
  });

  it('records a retried request once, and rebuilds the same events from the issues themselves', async () => {
    const w = await world();
    w.clock.set('2027-01-04T08:00:00Z');
    const a = await report(w, staff('aad-sam'), 'req-a');
    await report(w, staff('aad-sam'), 'req-a'); // Teams' retry of the same submit
    await w.issues.triage(champion, 'status', { ref: a.ref, version: 1, status: 'triaged' }, 'inv-1');
    const atSource = (await w.events.day('2027-01-04')).map((e) => e.key).sort();
    expect(atSource).toEqual([`${a.ref}|v1|opened`, `${a.ref}|v2|triaged`]);

    // Lost at the source (a fault between the issue's write and its event's): the rebuild restores it.
    const fresh = await world();
    fresh.clock.set('2027-01-04T08:00:00Z');
    await fresh.repo.logIssue(form(), { id: 'aad-sam', name: 'Sam' });
    await fresh.repo.act('R-0001', { kind: 'status', status: 'triaged' }, amina, { version: 1 });
    expect(await fresh.events.day('2027-01-04')).toEqual([]);
    fresh.clock.set('2027-01-04T09:00:00Z');
    await fresh.rollup.run();
    expect((await fresh.events.day('2027-01-04')).map((e) => e.kind).sort()).toEqual(['opened', 'triaged']);
    expect((await fresh.aggregates.day('2027-01-04'))?.issues).toMatchObject({ opened: 1, triaged: 1 });
  });

  it('recomputes only the days not yet final: today and yesterday', async () => {
    const w = await world();
    w.clock.set('2027-01-04T08:00:00Z');
    expect((await w.rollup.run()).length).toBe(31); // the first run folds the backfill window
    w.clock.set('2027-01-04T09:00:00Z');
    expect(await w.rollup.run()).toEqual(['2027-01-03', '2027-01-04']);
    w.clock.set('2027-01-07T09:00:00Z'); // down for three days: it catches up from where it was final
    expect(await w.rollup.run()).toEqual(['2027-01-03', '2027-01-04', '2027-01-05', '2027-01-06', '2027-01-07']);
  });
});
