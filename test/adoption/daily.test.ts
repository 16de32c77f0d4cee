import { describe, expect, it } from 'vitest';
import { foldDay, foldWeek, mergeGaps, openSnapshot, weekOf } from '../../src/adoption/daily.js';
import { DistinctCounter } from '../../src/adoption/distinct.js';
import { issueEvents, latestEvents, personHash } from '../../src/adoption/events.js';
import type { AskedQuestion } from '../../src/faq/questions.js';
import { applyTriageAction, createIssue } from '../../src/issues/rules.js';
import { summaryLine } from '../issues/fixtures.js';

const SLA = { untriagedReminderMinutes: 240, escalationMinutes: 60 };
const champion = { id: 'aad-champ', name: 'Chris Champion' };
const reporter = { id: 'aad-staff', name: 'Sam Staff' };
const form = { title: 'Sync fails', description: 'The tablet will not sync.', location: 'Sync', category: 'Sync / offline', severity: 'slows' as const, site: 'Marula' };

function issueAt(created: string, ...steps: [string, Parameters<typeof applyTriageAction>[1]][]) {
  let issue = createIssue(form, reporter, 'R-0001', 1, new Date(created));
  for (const [at, action] of steps) {
    const out = applyTriageAction(issue, action, champion, new Date(at));
    if (!out.ok) throw new Error(out.message);
    issue = out.issue;
  }
  return issue;
}

function question(id: string, at: string, asker: string, answered: boolean, votes: { helpful?: number; notHelpful?: number } = {}, text = 'how do I sync'): AskedQuestion {
  return { id, question: text, asker: { id: `29:${asker}`, aadObjectId: asker, name: asker }, askedAt: at, answered, helpful: votes.helpful ?? 0, notHelpful: votes.notHelpful ?? 0 };
}

describe('issue events', () => {
  it('reads an issue’s history as opened, first triaged (with the wait), resolved (with the time taken) and other actions', () => {
    const issue = issueAt(
      '2027-01-04T09:00:00Z',
      ['2027-01-04T12:00:00Z', { kind: 'assignMe' }],
      ['2027-01-04T15:00:00Z', { kind: 'status', status: 'in_progress' }],
      ['2027-01-05T09:00:00Z', { kind: 'priority', priority: 'P2' }],
      ['2027-01-06T09:00:00Z', { kind: 'status', status: 'resolved' }],
      ['2027-01-07T09:00:00Z', { kind: 'status', status: 'closed' }],
    );
    const events = issueEvents(issue);
    expect(events.map((e) => [e.kind, e.day, e.minutes])).toEqual([
      ['opened', '2027-01-04', undefined],
      ['acted', '2027-01-04', undefined],
      ['triaged', '2027-01-04', 360],
      ['acted', '2027-01-05', undefined],
      ['resolved', '2027-01-06', 2 * 1440],
      ['acted', '2027-01-07', undefined],
    ]);
    expect(events[4]!.priority).toBe('P2');
    expect(events[0]!.actor).toBe(personHash('aad-staff'));
    expect(events[0]!.actor).not.toContain('aad-staff');
    // The service records only what its last change added; the keys are the same as the full history's.
    expect(latestEvents(issue).map((e) => e.key)).toEqual(['R-0001|v6|acted']);
  });
});

describe('a day’s and a week’s figures', () => {
  const slowIssue = issueAt('2027-01-04T08:00:00Z', ['2027-01-04T14:00:00Z', { kind: 'status', status: 'triaged' }]);
  const quickIssue = { ...issueAt('2027-01-04T08:00:00Z', ['2027-01-04T09:00:00Z', { kind: 'status', status: 'triaged' }]), ref: 'R-0002' };
  const events = [...issueEvents(slowIssue), ...issueEvents(quickIssue).map((e) => ({ ...e, key: e.key.replace('R-0001', 'R-0002'), ref: 'R-0002' }))];

  it('counts questions, answers, helpful ratings, issues and late triage for one day', () => {
    const questions = [
      question('a', '2027-01-04T10:00:00Z', 'aad-staff', true, { helpful: 1 }),
      question('b', '2027-01-04T11:00:00Z', 'aad-staff', true, { notHelpful: 1 }),
      question('c', '2027-01-04T12:00:00Z', 'aad-other', false, {}, 'can I print the K-05 report'),
      question('d', '2027-01-04T13:00:00Z', 'aad-other', true),
    ];
    const day = foldDay('2027-01-04', events, questions, SLA);
    expect(day.questions).toEqual({ asked: 4, answered: 3, rated: 2, helpful: 1 });
    expect(day.issues.opened).toBe(2);
    expect(day.issues.triaged).toBe(2);
    expect(day.issues.triageMinutes).toEqual([60, 360]);
    // 360 minutes is past the 240-minute SLA; 60 is not.
    expect(day.issues.lateTriage).toBe(1);
    expect(day.issues.openedBy.category).toEqual({ 'Sync / offline': 2 });
    // Sam reported both and asked twice; the champion triaged; Other asked twice: three people.
    expect(DistinctCounter.decode(day.active).count()).toBe(3);
    // Gaps: the unanswered question and the answer marked not helpful; the same count, most recent first.
    expect(day.gaps.map((g) => [g.example, g.count, g.unanswered, g.notHelpful])).toEqual([
      ['can I print the K-05 report', 1, 1, 0],
      ['how do I sync', 1, 0, 1],
    ]);
  });

  it('folds days into a week: shares, medians, distinct people across days, merged gaps, the latest backlog', () => {
    const monday = foldDay('2027-01-04', events, [question('a', '2027-01-04T10:00:00Z', 'aad-staff', false, {}, 'how to print the monthly report')], SLA);
    const snapshot = openSnapshot([], new Date('2027-01-05T18:00:00Z'), SLA);
    const tuesday = foldDay(
      '2027-01-05',
      [],
      [question('b', '2027-01-05T10:00:00Z', 'aad-staff', false, {}, 'print the monthly report'), question('c', '2027-01-05T11:00:00Z', 'aad-new', true, { helpful: 2 })],
      SLA,
      snapshot,
    );
    const week = foldWeek('2027-01-04', [tuesday, monday]);
    expect(week.questions).toEqual({ asked: 3, answered: 1, rated: 1, helpful: 1 });
    expect(week.shareAnswered).toBe(33.3);
    expect(week.shareHelpful).toBe(100);
    expect(week.issues.medianMinutesToTriage).toBe(210);
    expect(week.activeUsers).toBe(3);
    expect(week.gaps).toEqual([expect.objectContaining({ example: 'print the monthly report', count: 2, unanswered: 2 })]);
    expect(week.open).toEqual(snapshot);
  });

  it('lists the gaps most people asked first, then by times asked, as the champions’ gaps list does', () => {
    // One person asking the same thing five times; two people asking another thing once each.
    const monday = foldDay(
      '2027-01-04',
      [],
      [
        ...Array.from({ length: 5 }, (_, i) => question(`m${i}`, `2027-01-04T0${i}:00:00Z`, 'aad-one', false, {}, 'reset the district code')),
        question('p1', '2027-01-04T10:00:00Z', 'aad-a', false, {}, 'printer offline at the health post'),
        question('p2', '2027-01-04T11:00:00Z', 'aad-b', false, {}, 'printer offline at the health post'),
      ],
      SLA,
    );
    expect(monday.gaps.map((g) => [g.example, g.count, g.askers])).toEqual([
      ['printer offline at the health post', 2, 2],
      ['reset the district code', 5, 1],
    ]);
    // Across days (the dashboard's period, the week's row), the same order: people first, and the person who
    // asked again the next day still counts once.
    const tuesday = foldDay('2027-01-05', [], [question('m9', '2027-01-05T09:00:00Z', 'aad-one', false, {}, 'reset the district code')], SLA);
    expect(mergeGaps([monday.gaps, tuesday.gaps]).map((g) => [g.example, g.count, g.askers])).toEqual([
      ['printer offline at the health post', 2, 2],
      ['reset the district code', 6, 1],
    ]);
    expect(foldWeek('2027-01-04', [monday, tuesday]).gaps.map((g) => g.example)).toEqual(['printer offline at the health post', 'reset the district code']);
  });

  it('lists a gap by people also over days rolled up before people were counted (each such day counts one at least)', () => {
    const old = (example: string, count: number, terms: string[]) => ({ example, count, unanswered: count, notHelpful: 0, lastAskedAt: '2027-01-04T10:00:00Z', terms });
    const merged = mergeGaps([
      [old('reset the district code', 9, ['reset', 'district', 'code'])],
      [{ ...old('printer offline', 1, ['printer', 'offlin']), askers: 2, count: 2 }],
    ]);
    expect(merged.map((g) => [g.example, g.askers])).toEqual([
      ['printer offline', 2],
      ['reset the district code', 1],
    ]);
  });

  it('keeps a gap group’s most recent wording when merging days', () => {
    const merged = mergeGaps([
      [{ example: 'offline sync stuck', count: 2, unanswered: 2, notHelpful: 0, lastAskedAt: '2027-01-04T10:00:00Z', terms: ['offlin', 'sync', 'stuck'] }],
      [{ example: 'sync stuck offline again', count: 1, unanswered: 1, notHelpful: 0, lastAskedAt: '2027-01-05T10:00:00Z', terms: ['sync', 'stuck', 'offlin', 'again'] }],
    ]);
    expect(merged).toEqual([expect.objectContaining({ example: 'sync stuck offline again', count: 3 })]);
  });
});

describe('the open backlog', () => {
  const line = summaryLine;

  it('counts open issues by status, category, site and priority, those past the SLA, and lists the oldest first', () => {
    const now = new Date('2027-01-04T12:00:00Z');
    const snap = openSnapshot(
      [
        line('R-0003', '2027-01-04T11:30:00Z'),
        line('R-0002', '2027-01-04T10:30:00Z', { severity: 'blocks' }),
        line('R-0001', '2027-01-03T10:00:00Z', { status: 'in_progress', priority: 'P2', category: 'Access / login' }),
      ],
      now,
      SLA,
    );
    expect(snap).toMatchObject({
      total: 3,
      untriaged: 2,
      pastSla: 1,
      byStatus: { new: 2, in_progress: 1 },
      byCategory: { Reports: 2, 'Access / login': 1 },
      byPriority: { none: 2, P2: 1 },
    });
    expect(snap.oldest.map((o) => o.ref)).toEqual(['R-0001', 'R-0002', 'R-0003']);
  });

  it('counts past the SLA what the SLA check escalates: a priority a champion set outranks "blocks my work"', () => {
    const now = new Date('2027-01-04T12:00:00Z');
    const snap = openSnapshot(
      [
        line('R-0002', '2027-01-04T10:30:00Z', { severity: 'blocks', priority: 'P3' }),
        line('R-0001', '2027-01-04T10:30:00Z', { severity: 'minor', priority: 'P1' }),
      ],
      now,
      SLA,
    );
    expect(snap).toMatchObject({ untriaged: 2, pastSla: 1 });
  });

  it('puts a day in the week that starts on its Monday', () => {
    expect(weekOf('2027-01-04')).toBe('2027-01-04');
    expect(weekOf('2027-01-10')).toBe('2027-01-04');
    expect(weekOf('2027-01-11')).toBe('2027-01-11');
  });
});

describe('distinct people', () => {
  it('counts small numbers exactly and large ones within a few percent, with no id kept', () => {
    const small = DistinctCounter.empty();
    for (const id of ['a', 'b', 'c', 'a', 'b']) small.add(id);
    expect(small.count()).toBe(3);
    const big = DistinctCounter.empty();
    for (let i = 0; i < 20_000; i++) big.add(`user-${i}`);
    expect(Math.abs(big.count() - 20_000) / 20_000).toBeLessThan(0.05);
    const merged = DistinctCounter.decode(small.encode()).merge(DistinctCounter.empty().add('c').add('d'));
    expect(merged.count()).toBe(4);
    expect(small.encode()).not.toContain('user');
  });
});
