import { createHash } from 'node:crypto';
import type { Issue, Priority, Status } from '../issues/model.js';
import { isOpen, isUrgent } from '../issues/model.js';

/**
 * What happened to issues, day by day, as the adoption figures need it: one event per history entry of an
 * issue (opened, first triaged, resolved, or any other action by someone), with only the fields a figure is
 * cut by. Events are a pure function of an issue's history, so recording them again (a retried request,
 * the backfill of an existing store) writes the same keys and changes nothing. People are kept as a
 * one-way hash, only to count distinct active users.
 */

export type IssueEventKind = 'opened' | 'triaged' | 'resolved' | 'acted';

export interface IssueEvent {
  /** Unique and stable: `<ref>|v<version>|<kind>`. */
  key: string;
  kind: IssueEventKind;
  /** UTC day of `at`, YYYY-MM-DD: the partition it is stored in. */
  day: string;
  at: string;
  ref: string;
  category: string;
  site: string;
  /** The priority at the time of the event; 'none' when unset. */
  priority: Priority | 'none';
  /** The escalation SLA applies (isUrgent: P1, or "blocks my work" with no priority set). */
  urgent: boolean;
  /** Minutes since the issue was logged (triaged, resolved). */
  minutes?: number;
  /** Who acted, as a one-way hash. */
  actor: string;
}

/** Statuses that count as "resolved": the problem was fixed (won't fix and duplicates are closed otherwise). */
const RESOLVED: ReadonlySet<Status> = new Set(['resolved', 'closed']);

/** A person's key as a short one-way hash: enough to count distinct people, not to name them. */
export function personHash(id: string): string {
  return createHash('sha256').update(`rollout-desk|${id}`).digest('hex').slice(0, 16);
}

export const dayOf = (iso: string) => iso.slice(0, 10);

/** Every event an issue's history holds, oldest first. */
export function issueEvents(issue: Issue): IssueEvent[] {
  const out: IssueEvent[] = [];
  const created = Date.parse(issue.createdAt);
  let status: Status = 'new';
  let triaged = false;
  const history = [...issue.history].sort((a, b) => a.version - b.version);
  // The priority an issue was logged with (a lost device is P1 from the start) is the one before its first change.
  const firstChange = history.find((e) => e.what === 'priority');
  let priority = ((firstChange ? firstChange.from : issue.priority) ?? 'none') as Priority | 'none';
  for (const entry of history) {
    const before = status;
    if (entry.what === 'priority') priority = (entry.to as Priority | 'none' | undefined) ?? 'none';
    if (entry.what === 'status' && entry.to) status = entry.to as Status;
    if (entry.what === 'duplicate') status = 'duplicate';
    const base = {
      day: dayOf(entry.at),
      at: entry.at,
      ref: issue.ref,
      category: issue.category,
      site: issue.site,
      priority,
      urgent: isUrgent({ priority, severity: issue.severity }),
      actor: personHash(entry.by.id),
    };
    const minutes = Math.max(0, Math.round((Date.parse(entry.at) - created) / 60_000));
    const add = (kind: IssueEventKind, withMinutes = false) =>
      out.push({ key: `${issue.ref}|v${entry.version}|${kind}`, kind, ...base, ...(withMinutes ? { minutes } : {}) });
    if (entry.what === 'created') {
      add('opened');
      continue;
    }
    let counted = false;
    if (!triaged && before === 'new' && status !== 'new') {
      triaged = true;
      counted = true;
      add('triaged', true);
    }
    if (isOpen(before) && RESOLVED.has(status)) {
      counted = true;
      add('resolved', true);
    }
    if (!counted) add('acted');
  }
  return out;
}

/** The events of the issue's latest change only (what the service just did). */
export function latestEvents(issue: Issue): IssueEvent[] {
  return issueEvents(issue).filter((e) => e.key.startsWith(`${issue.ref}|v${issue.version}|`));
}
