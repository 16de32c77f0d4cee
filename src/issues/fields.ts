import { randomBytes } from 'node:crypto';
import {
  type Issue,
  type IssueSummary,
  LIMITS,
  type NewIssue,
  SEVERITY_LABEL,
  STATUS_LABEL,
} from './model.js';

/**
 * The issue's fields, declared once. The main row (entity.ts), the index rows and list lines (indexes.ts),
 * the columns a list query selects (queries.ts) and the CSV export (csv.ts) are all derived from here;
 * cards choose what to show from the typed Issue.
 */

/** The fields a reporter types in the form, in the order the form shows them. */
export const FORM_FIELDS = [
  'title',
  'description',
  'location',
  'category',
  'severity',
  'site',
  'faqQuestion',
] as const satisfies readonly (keyof NewIssue)[];
export type FormField = (typeof FORM_FIELDS)[number];

/**
 * A form's own id, carried by its buttons: every press of one form (a double click is two invokes with two
 * activity ids, and Teams may retry with a new one) is one report, logged once. Random, so one form's id
 * says nothing of another's.
 */
export const newFormId = (): string => randomBytes(8).toString('hex');
export const FORM_ID = /^[0-9a-f]{16}$/;

/** Each form field's label (form, validation messages, CSV header) and, for free text, its length limit. */
export const FORM_LABEL: Record<FormField, string> = {
  title: 'Title',
  description: 'What happened',
  location: 'Where',
  category: 'Category',
  severity: 'Severity',
  site: 'Site or department',
  faqQuestion: 'FAQ question',
};

type Scalar = string | number;

interface Column {
  /** Where the value lives in an Issue: a field, or a field of `reporter` / `assignee`. */
  path: string;
  kind?: 'text' | 'number' | 'nullable' | 'optional';
  /** Carried by index rows, so list lines (IssueSummary) can be drawn from them. */
  summary?: boolean;
  /** A column of the CSV export: its header, and how the cell reads when not the stored value. */
  csv?: string | [header: string, cell: (i: Issue) => Scalar];
}

/** The stored columns, by property name in the table rows. */
export const COLUMNS = {
  ref: { path: 'ref', summary: true, csv: 'Reference' },
  number: { path: 'number', kind: 'number' },
  title: { path: 'title', summary: true, csv: 'Title' },
  status: { path: 'status', summary: true, csv: ['Status', (i) => STATUS_LABEL[i.status]] },
  priority: { path: 'priority', kind: 'nullable', summary: true, csv: 'Priority' },
  severity: { path: 'severity', summary: true, csv: ['Severity', (i) => SEVERITY_LABEL[i.severity]] },
  category: { path: 'category', summary: true, csv: 'Category' },
  site: { path: 'site', summary: true, csv: 'Site' },
  location: { path: 'location', csv: FORM_LABEL.location },
  description: { path: 'description', csv: FORM_LABEL.description },
  faqQuestion: { path: 'faqQuestion', kind: 'optional', csv: FORM_LABEL.faqQuestion },
  reporterId: { path: 'reporter.id', summary: true },
  reporterName: { path: 'reporter.name', summary: true, csv: 'Reporter' },
  reporterAad: { path: 'reporter.aadObjectId', kind: 'optional' },
  reporterConv: { path: 'reporter.conversationKey', kind: 'optional' },
  assigneeId: { path: 'assignee.id', summary: true },
  assigneeName: { path: 'assignee.name', summary: true, csv: 'Assignee' },
  /** The reporter counts: a card's "2 people affected" and the CSV's Affected say the same. */
  affectedCount: {
    path: 'affected.length',
    kind: 'number',
    summary: true,
    csv: ['Affected', (i) => i.affected.length + 1],
  },
  duplicateOf: { path: 'duplicateOf', kind: 'nullable', csv: 'Duplicate of' },
  createdAt: { path: 'createdAt', summary: true, csv: 'Created' },
  updatedAt: { path: 'updatedAt', csv: 'Updated' },
  closedAt: { path: 'closedAt', kind: 'nullable', csv: 'Closed' },
  version: { path: 'version', kind: 'number' },
} as const satisfies Record<string, Column>;

type ColumnName = keyof typeof COLUMNS;
const ENTRIES = Object.entries(COLUMNS) as [ColumnName, Column][];

/** Columns that hold no stored value of their own: only counts of the JSON lists (see entity.ts). */
const DERIVED: ReadonlySet<ColumnName> = new Set(['affectedCount']);

/** The property names an index row carries for its list line (what a list query selects). */
export const SUMMARY_COLUMNS: readonly ColumnName[] = ENTRIES.filter(([, c]) => 'summary' in c && c.summary).map(
  ([name]) => name,
);

function read(issue: Issue, path: string): Scalar {
  const [head, tail] = path.split('.') as [string, string | undefined];
  const outer = (issue as unknown as Record<string, unknown>)[head];
  const v = tail ? (outer as Record<string, unknown> | null | undefined)?.[tail] : outer;
  return typeof v === 'number' ? v : v === null || v === undefined ? '' : String(v);
}

/** An issue's columns as a table row (strings and numbers; absent and null values as ''). */
export function issueColumns(
  issue: Issue,
  names: readonly ColumnName[] = ENTRIES.map(([n]) => n),
): Record<string, Scalar> {
  const row: Record<string, Scalar> = {};
  for (const name of names) row[name] = read(issue, COLUMNS[name].path);
  return row;
}

/** The inverse of `issueColumns` for the stored columns (history, comments and affected come separately). */
export function columnsToIssue(row: Record<string, unknown>): Omit<Issue, 'affected' | 'comments' | 'history'> {
  const out: Record<string, unknown> = {};
  const objects: Record<string, Record<string, unknown>> = {};
  for (const [name, col] of ENTRIES) {
    if (DERIVED.has(name)) continue;
    const kind = 'kind' in col ? col.kind : 'text';
    const raw = row[name];
    const text = raw === undefined || raw === null ? '' : String(raw);
    const [head, tail] = col.path.split('.') as [string, string | undefined];
    let value: unknown = kind === 'number' ? Number(raw ?? 0) : text;
    if ((kind === 'nullable' || kind === 'optional') && text === '') value = kind === 'nullable' ? null : undefined;
    if (tail) {
      if (value !== undefined) (objects[head] ??= {})[tail] = value;
    } else if (value !== undefined) {
      out[head] = value;
    }
  }
  // An object column (assignee) is null when its id is empty: "nobody".
  for (const [head, obj] of Object.entries(objects)) out[head] = obj.id ? obj : null;
  return out as Omit<Issue, 'affected' | 'comments' | 'history'>;
}

/** A list line from an index row's properties. */
export function summaryFromColumns(row: Record<string, unknown>): IssueSummary {
  const base = columnsToIssue(row);
  return {
    ref: base.ref,
    title: base.title,
    status: base.status,
    priority: base.priority,
    severity: base.severity,
    category: base.category,
    site: base.site,
    assignee: base.assignee,
    reporter: { id: base.reporter.id, name: base.reporter.name },
    affectedCount: Number(row.affectedCount ?? 0),
    createdAt: base.createdAt,
  };
}

/** The CSV export's columns: every stored column with a header, then counts of the lists. */
export const CSV_COLUMNS: readonly { header: string; cell: (i: Issue) => Scalar }[] = [
  ...ENTRIES.flatMap(([, col]) => {
    if (!('csv' in col)) return [];
    const csv = col.csv as Column['csv'];
    return typeof csv === 'string'
      ? [{ header: csv, cell: (i: Issue) => read(i, col.path) }]
      : csv
        ? [{ header: csv[0], cell: csv[1] }]
        : [];
  }),
  { header: 'Comments', cell: (i) => i.comments.length },
  { header: 'Public comments', cell: (i) => i.comments.filter((c) => c.visibility === 'public').length },
  { header: 'History entries', cell: (i) => i.history.length },
];

/** Free-text form fields and their limits, for the form's maxLength and its "at most N characters" hints. */
export const FORM_LIMITS = {
  title: LIMITS.title,
  description: LIMITS.description,
  location: LIMITS.location,
  site: LIMITS.site,
  faqQuestion: LIMITS.faqQuestion,
} as const;
