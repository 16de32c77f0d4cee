import { type Issue, SEVERITY_LABEL, STATUS_LABEL } from './model.js';

/**
 * CSV export of issues (RFC 4180: CRLF line ends, quotes doubled). User text must never become a formula
 * on a rollout-team laptop (OWASP "CSV Injection"):
 * - every cell is quoted, so a separator inside it never splits it — Excel in a locale whose list separator
 *   is ";" would otherwise read `Printer;=1+2` as two cells, the second a formula;
 * - a cell that starts with = + - @ tab CR or NUL, or has one of = + - @ right after a separator (, ; tab |)
 *   or a line break (a reader that splits there sees a formula), gets a leading apostrophe.
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

const FORMULA_START = /^[=+\-@\t\r\0]/;
const FORMULA_AFTER_SEPARATOR = /[,;\t|\r\n][ \t]*[=+\-@]/;

export function csvCell(value: string | number | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (FORMULA_START.test(s) || FORMULA_AFTER_SEPARATOR.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
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
