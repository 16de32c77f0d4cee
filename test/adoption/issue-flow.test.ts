import { describe, expect, it } from 'vitest';
import { foldDay, foldWeek } from '../../src/adoption/daily.js';
import { issueEvents } from '../../src/adoption/events.js';
import { issueFlow } from '../../src/adoption/issue-flow.js';
import type { Priority } from '../../src/issues/model.js';
import { applyTriageAction, createIssue } from '../../src/issues/rules.js';

const SLA = { untriagedReminderMinutes: 240, escalationMinutes: 60 };
const champion = { id: 'aad-champ', name: 'Chris Champion' };
const reporter = { id: 'aad-staff', name: 'Sam Staff' };
let seq = 0;

/** An issue logged on `day` 09:00, given a priority, and resolved the next day when `resolved`. */
function issue(day: string, category: string, site: string, priority: Priority | null, resolved = false) {
  seq += 1;
  let i = createIssue({ title: 'Stuck', description: 'Cannot go on.', location: 'Home', category, severity: 'slows', site }, reporter, `R-${String(seq).padStart(4, '0')}`, seq, new Date(`${day}T09:00:00Z`));
  const steps: Parameters<typeof applyTriageAction>[1][] = [];
  if (priority) steps.push({ kind: 'priority', priority });
  if (resolved) steps.push({ kind: 'status', status: 'resolved' });
  let at = Date.parse(`${day}T10:00:00Z`);
  for (const step of steps) {
    const out = applyTriageAction(i, step, champion, new Date(at));
    if (!out.ok) throw new Error(out.message);
    i = out.issue;
    at += 86_400_000;
  }
  return i;
}

/** The week rows the roll-up would store for these issues (their events folded by day, the days by week). */
function weekRows(issues: ReturnType<typeof issue>[]) {
  const events = issues.flatMap(issueEvents);
  const days = [...new Set(events.map((e) => e.day))].sort().map((d) => foldDay(d, events.filter((e) => e.day === d), [], SLA));
  const mondays = [...new Set(days.map((d) => { const t = new Date(`${d.day}T00:00:00Z`); t.setUTCDate(t.getUTCDate() - ((t.getUTCDay() + 6) % 7)); return t.toISOString().slice(0, 10); }))].sort();
  return mondays.map((m) => foldWeek(m, days.filter((d) => d.day >= m && d.day < new Date(Date.parse(`${m}T00:00:00Z`) + 7 * 86_400_000).toISOString().slice(0, 10))));
}

describe('issues opened and resolved by category, site and priority', () => {
  const rows = weekRows([
    issue('2027-01-04', 'Access / login', 'Marula', 'P2', true), // resolved the day after its priority: 2027-01-06
    issue('2027-01-05', 'Access / login', 'Marula', null),
    issue('2027-01-12', 'Access / login', 'Tembe', 'P1'),
    issue('2027-01-12', 'Sync / offline', 'Tembe', 'P2', true),
    issue('2026-12-21', 'Sync / offline', 'Marula', null, true), // before the range: not counted
  ]);

  it('sums the weeks in range from the stored week rows: opened and resolved per category, site and priority', () => {
    const flow = issueFlow(rows, '2027-01-04', '2027-01-11');
    expect(flow.range).toEqual({ from: '2027-01-04', to: '2027-01-17' });
    expect([flow.opened, flow.resolved]).toEqual([4, 2]);
    expect(flow.byCategory).toEqual([
      { name: 'Access / login', opened: 3, resolved: 1 },
      { name: 'Sync / offline', opened: 1, resolved: 1 },
    ]);
    expect(flow.bySite).toEqual([
      { name: 'Marula', opened: 2, resolved: 1 },
      { name: 'Tembe', opened: 2, resolved: 1 },
    ]);
    // Opened under the priority it was logged with (none: set later), resolved under the one it had then; unset last.
    expect(flow.byPriority).toEqual([
      { name: 'P2', opened: 0, resolved: 2 },
      { name: 'none', opened: 4, resolved: 0 },
    ]);
  });

  it('folds the values past the list’s length into one "Other" line, so the totals stay whole', () => {
    const many = weekRows(Array.from({ length: 5 }, (_, i) => issue('2027-02-01', 'Reports', `Site ${i}`, null, i === 4)));
    const flow = issueFlow(many, '2027-02-01', '2027-02-01', 3);
    expect(flow.bySite).toEqual([
      { name: 'Site 4', opened: 1, resolved: 1 },
      { name: 'Site 0', opened: 1, resolved: 0 },
      { name: 'Other', opened: 3, resolved: 0, others: 3 },
    ]);
    expect(flow.bySite.reduce((n, l) => n + l.opened, 0)).toBe(flow.opened);
  });
});
