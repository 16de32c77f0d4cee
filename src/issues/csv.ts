import { type Issue, SEVERITY_LABEL, STATUS_LABEL } from './model.js';

/**
 * CSV export of issues (RFC 4180: CRLF line ends, fields with comma, quote or line break quoted, quotes
 * doubled). Spreadsheet apps run a cell that starts with = + - @ (or tab / CR) as a formula, so such
 * cells get a leading apostrophe: user text must never become a formula on a rollout-team laptop.
 */

const COLUMNS = [
  'Reference',
  'Title',
  'Status',
  'Priority',
  'Severity',
  'Category',
  'Site',
  'Where',
  'What happened',
  'FAQ question',
  'Reporter',
  'Assignee',
  'Affected',
  'Duplicate of',
  'Created',
  'Updated',
  'Closed',
  'Comments',
  'Public comments',
  'History entries',
] as const;

export function csvCell(value: string | number | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(cells: readonly (string | number | null | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export const csvHeader = (): string => csvLine(COLUMNS);

export function issueCsvLine(i: Issue): string {
  return csvLine([
    i.ref,
    i.title,
    STATUS_LABEL[i.status],
    i.priority ?? '',
    SEVERITY_LABEL[i.severity],
    i.category,
    i.site,
    i.location,
    i.description,
    i.faqQuestion ?? '',
    i.reporter.name,
    i.assignee?.name ?? '',
    i.affected.length,
    i.duplicateOf ?? '',
    i.createdAt,
    i.updatedAt,
    i.closedAt ?? '',
    i.comments.length,
    i.comments.filter((c) => c.visibility === 'public').length,
    i.history.length,
  ]);
}

export function issuesToCsv(issues: Iterable<Issue>): string {
  let out = csvHeader();
  for (const i of issues) out += issueCsvLine(i);
  return out;
}
