import { addCounts, addDays, type Counts, type WeekFigures } from './daily.js';
import type { FlowLine, IssueFlow } from './metrics.js';

/**
 * Pure: issues opened and resolved over a range of weeks, by category, site and priority, summed from the
 * roll-up's week rows (which keep both broken down so), never from the issues themselves.
 */

/** Lines shown per dimension; the rest are folded into one "Other" line, so the totals stay whole. */
export const MAX_FLOW_LINES = 10;
const PRIORITY_ORDER = ['P1', 'P2', 'P3', 'P4', 'none'];

function lines(opened: Counts, resolved: Counts, byPriority: boolean, max: number): FlowLine[] {
  const all = [...new Set([...Object.keys(opened), ...Object.keys(resolved)])].map((name) => ({ name, opened: opened[name] ?? 0, resolved: resolved[name] ?? 0 }));
  if (byPriority) {
    // Priorities in their own order (P1 first, unset last): a reader compares them, not their sizes.
    const rank = (n: string) => (PRIORITY_ORDER.includes(n) ? PRIORITY_ORDER.indexOf(n) : PRIORITY_ORDER.length);
    return all.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
  }
  all.sort((a, b) => b.opened + b.resolved - (a.opened + a.resolved) || b.opened - a.opened || a.name.localeCompare(b.name));
  if (all.length <= max) return all;
  const rest = all.slice(max - 1);
  const other = { name: 'Other', opened: 0, resolved: 0, others: rest.length };
  for (const l of rest) {
    other.opened += l.opened;
    other.resolved += l.resolved;
  }
  return [...all.slice(0, max - 1), other];
}

/** `firstWeek`, `lastWeek`: the Mondays of the range's weeks; rows outside it are not counted. */
export function issueFlow(rows: readonly WeekFigures[], firstWeek: string, lastWeek: string, max = MAX_FLOW_LINES): IssueFlow {
  const opened = { category: {} as Counts, site: {} as Counts, priority: {} as Counts };
  const resolved = { category: {} as Counts, site: {} as Counts, priority: {} as Counts };
  let openedTotal = 0;
  let resolvedTotal = 0;
  for (const w of rows) {
    if (w.week < firstWeek || w.week > lastWeek) continue;
    openedTotal += w.issues.opened;
    resolvedTotal += w.issues.resolved;
    for (const k of ['category', 'site', 'priority'] as const) {
      addCounts(opened[k], w.issues.openedBy[k]);
      addCounts(resolved[k], w.issues.resolvedBy[k]);
    }
  }
  return {
    range: { from: firstWeek, to: addDays(lastWeek, 6) },
    opened: openedTotal,
    resolved: resolvedTotal,
    byCategory: lines(opened.category, resolved.category, false, max),
    bySite: lines(opened.site, resolved.site, false, max),
    byPriority: lines(opened.priority, resolved.priority, true, max),
  };
}
