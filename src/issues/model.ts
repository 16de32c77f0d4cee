/**
 * The issue log's domain model: plain data, no storage or Teams types.
 * Ids below (status, severity, priority) are what is stored; labels are what people read.
 */

export const STATUSES = [
  'new',
  'triaged',
  'in_progress',
  'waiting',
  'resolved',
  'closed',
  'wont_fix',
  'duplicate',
] as const;
export type Status = (typeof STATUSES)[number];

export const STATUS_LABEL: Record<Status, string> = {
  new: 'New',
  triaged: 'Triaged',
  in_progress: 'In progress',
  waiting: 'Waiting on reporter',
  resolved: 'Resolved',
  closed: 'Closed',
  wont_fix: "Won't fix",
  duplicate: 'Duplicate',
};

/** Statuses that take an issue out of the triage queue (it moves to the archive index). */
export const DONE_STATUSES: ReadonlySet<Status> = new Set(['resolved', 'closed', 'wont_fix', 'duplicate']);
export const isOpen = (status: Status) => !DONE_STATUSES.has(status);

export const SEVERITIES = ['blocks', 'slows', 'minor'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const SEVERITY_LABEL: Record<Severity, string> = {
  blocks: 'Blocks my work',
  slows: 'Slows me down',
  minor: 'Minor',
};

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const DEFAULT_CATEGORIES = [
  'Access / login',
  'Data entry',
  'Reports',
  'Sync / offline',
  'Performance',
  'Training',
  'Other',
] as const;

/** Field limits, shared by validation, cards (maxLength) and docs. */
export const LIMITS = {
  title: 120,
  description: 2000,
  location: 200,
  site: 80,
  faqQuestion: 500,
  comment: 2000,
  personName: 120,
  personId: 200,
} as const;

import type { Person } from '../roles/roles.js';

export type { Person };

export interface Reporter extends Person {
  aadObjectId?: string;
  /** Key of the stored conversation reference the lead uses for 1:1 notifications. */
  conversationKey?: string;
}

export type Visibility = 'internal' | 'public';

export interface Comment {
  id: string;
  at: string;
  by: Person;
  text: string;
  visibility: Visibility;
}

export type HistoryWhat =
  | 'created'
  | 'status'
  | 'priority'
  | 'assigned'
  | 'comment'
  | 'duplicate'
  | 'affected';

/** One line of an issue's history. `version` is the issue's version after the change. */
export interface HistoryEntry {
  at: string;
  by: Person;
  what: HistoryWhat;
  from?: string;
  to?: string;
  /** For assignments: the assignee's id (`to` holds the name people read). */
  toId?: string;
  /** For comments: which comment, and whether the reporter may see it. */
  commentId?: string;
  visibility?: Visibility;
  version: number;
}

/** What a reporter types in the form (after validation). */
export interface NewIssue {
  title: string;
  description: string;
  location: string;
  category: string;
  severity: Severity;
  site: string;
  faqQuestion?: string;
}

export interface Issue extends NewIssue {
  ref: string;
  number: number;
  reporter: Reporter;
  status: Status;
  priority: Priority | null;
  assignee: Person | null;
  duplicateOf: string | null;
  /** Users who said "me too" (+1), the reporter not included. */
  affected: Person[];
  comments: Comment[];
  history: HistoryEntry[];
  createdAt: string;
  updatedAt: string;
  /** When it last entered a done status (resolved, closed, won't fix, duplicate); null while open. */
  closedAt: string | null;
  /** Bumped on every change; cards carry it so a stale card is detectable. */
  version: number;
}

/**
 * The slim copy of an issue that index rows hold, enough to render a list line. It leaves out what
 * changes often and no list shows (version, updatedAt), so a comment does not rewrite every index row.
 */
export interface IssueSummary {
  ref: string;
  title: string;
  status: Status;
  priority: Priority | null;
  severity: Severity;
  category: string;
  site: string;
  assignee: Person | null;
  reporter: Person;
  affectedCount: number;
  createdAt: string;
}

/**
 * How an issue logged on the reporter's behalf (an office-hours host logging a brought question) names who logged
 * it at the end of its description; `forget` of that person puts their pseudonym there (replacePersonIn).
 */
export const loggedByClause = (name: string): string => `logged by ${name}.`;

/** Where an issue logged from an office-hours agenda says it happened. */
export const OFFICE_HOURS_LOCATION = 'Office hours';

/**
 * Whether the escalation SLA applies: a priority a champion set is their judgement and outranks the reporter's
 * "blocks my work" (P1 is urgent, P2–P4 are not); with none set, blocking is urgent. The SLA check, the
 * dashboard's "past SLA" and the adoption events all ask this.
 */
export function isUrgent(issue: { priority: Priority | 'none' | null; severity: Severity }): boolean {
  return issue.priority && issue.priority !== 'none' ? issue.priority === 'P1' : issue.severity === 'blocks';
}

export interface SlaConfig {
  /** A New issue older than this gets a reminder in the triage channel. */
  untriagedReminderMinutes: number;
  /** A New issue that is P1 (or, with no priority set, "blocks my work") and older than this is escalated to the rollout team. */
  escalationMinutes: number;
}

export interface IssuesConfig {
  /** Reference prefix, e.g. `R-` gives `R-0042`. */
  refPrefix: string;
  categories: readonly string[];
  sla: SlaConfig;
}

export const DEFAULT_ISSUES_CONFIG: IssuesConfig = {
  refPrefix: 'R-',
  categories: DEFAULT_CATEGORIES,
  sla: { untriagedReminderMinutes: 240, escalationMinutes: 60 },
};

export function summaryOf(issue: Issue): IssueSummary {
  return {
    ref: issue.ref,
    title: issue.title,
    status: issue.status,
    priority: issue.priority,
    severity: issue.severity,
    category: issue.category,
    site: issue.site,
    assignee: issue.assignee,
    reporter: { id: issue.reporter.id, name: issue.reporter.name },
    affectedCount: issue.affected.length,
    createdAt: issue.createdAt,
  };
}
