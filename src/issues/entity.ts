import type { Comment, HistoryEntry, Issue, Person, Priority, Severity, Status } from './model.js';
import { refBucket } from './refs.js';

/**
 * An issue's main row in the `Issues` table: PartitionKey = bucket of a hundred refs (`R-00xx`),
 * RowKey = ref. It is the single source of truth. History, comments and affected users live inside it
 * as JSON, so they change together with the fields under one ETag: two concurrent appends cannot
 * overwrite each other (the second gets 412, reloads, and appends to the fresh list).
 */

/** Azure caps a string property at 64 KiB (32K UTF-16 units): long JSON is split over numbered properties. */
const CHUNK = 30_000;
/** Azure caps an entity at 1 MiB (strings count twice); this leaves room for the plain fields. */
export const MAX_JSON_CHARS = 400_000;

export class IssueTooLargeError extends Error {
  constructor(ref: string) {
    super(`${ref} has too much history to store more; start a new issue and link it.`);
  }
}

export interface IssueEntity {
  partitionKey: string;
  rowKey: string;
  kind: 'issue';
  number: number;
  title: string;
  description: string;
  location: string;
  category: string;
  severity: string;
  site: string;
  faqQuestion: string;
  reporterId: string;
  reporterName: string;
  reporterAad: string;
  reporterConv: string;
  status: string;
  priority: string;
  assigneeId: string;
  assigneeName: string;
  duplicateOf: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string;
  version: number;
  historyCount: number;
  commentCount: number;
  affectedCount: number;
  [chunk: string]: string | number;
}

function putChunks(target: Record<string, string | number>, name: string, value: unknown): number {
  const json = JSON.stringify(value);
  let parts = 0;
  for (let i = 0; i < json.length || parts === 0; i += CHUNK) {
    target[`${name}${parts}`] = json.slice(i, i + CHUNK);
    parts++;
  }
  target[`${name}Parts`] = parts;
  return json.length;
}

function getChunks<T>(source: Record<string, unknown>, name: string, fallback: T): T {
  const parts = Number(source[`${name}Parts`] ?? 0);
  if (!parts) return fallback;
  let json = '';
  for (let i = 0; i < parts; i++) json += String(source[`${name}${i}`] ?? '');
  return JSON.parse(json) as T;
}

export function issueToEntity(issue: Issue, prefix: string): IssueEntity {
  const e: IssueEntity = {
    partitionKey: refBucket(prefix, issue.number),
    rowKey: issue.ref,
    kind: 'issue',
    number: issue.number,
    title: issue.title,
    description: issue.description,
    location: issue.location,
    category: issue.category,
    severity: issue.severity,
    site: issue.site,
    faqQuestion: issue.faqQuestion ?? '',
    reporterId: issue.reporter.id,
    reporterName: issue.reporter.name,
    reporterAad: issue.reporter.aadObjectId ?? '',
    reporterConv: issue.reporter.conversationKey ?? '',
    status: issue.status,
    priority: issue.priority ?? '',
    assigneeId: issue.assignee?.id ?? '',
    assigneeName: issue.assignee?.name ?? '',
    duplicateOf: issue.duplicateOf ?? '',
    createdAt: issue.createdAt,
    updatedAt: issue.updatedAt,
    closedAt: issue.closedAt ?? '',
    version: issue.version,
    historyCount: issue.history.length,
    commentCount: issue.comments.length,
    affectedCount: issue.affected.length,
  };
  // History, comments and affected only ever grow, so a Merge never leaves a stale chunk behind;
  // readers also stop at the recorded part count.
  const size =
    putChunks(e, 'history', issue.history) +
    putChunks(e, 'comments', issue.comments) +
    putChunks(e, 'affected', issue.affected);
  if (size > MAX_JSON_CHARS) throw new IssueTooLargeError(issue.ref);
  return e;
}

export function entityToIssue(e: Record<string, unknown>): Issue {
  const s = (k: string) => String(e[k] ?? '');
  const reporter: Issue['reporter'] = { id: s('reporterId'), name: s('reporterName') };
  if (s('reporterAad')) reporter.aadObjectId = s('reporterAad');
  if (s('reporterConv')) reporter.conversationKey = s('reporterConv');
  const assignee: Person | null = s('assigneeId') ? { id: s('assigneeId'), name: s('assigneeName') } : null;
  const issue: Issue = {
    ref: s('rowKey'),
    number: Number(e.number),
    title: s('title'),
    description: s('description'),
    location: s('location'),
    category: s('category'),
    severity: s('severity') as Severity,
    site: s('site'),
    reporter,
    status: s('status') as Status,
    priority: (s('priority') || null) as Priority | null,
    assignee,
    duplicateOf: s('duplicateOf') || null,
    affected: getChunks<Person[]>(e, 'affected', []),
    comments: getChunks<Comment[]>(e, 'comments', []),
    history: getChunks<HistoryEntry[]>(e, 'history', []),
    createdAt: s('createdAt'),
    updatedAt: s('updatedAt'),
    closedAt: s('closedAt') || null,
    version: Number(e.version),
  };
  if (s('faqQuestion')) issue.faqQuestion = s('faqQuestion');
  return issue;
}
