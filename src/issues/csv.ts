import { CSV_COLUMNS } from './fields.js';
import type { Issue } from './model.js';

/**
 * CSV export of issues (RFC 4180: CRLF line ends, quotes doubled). User text must never become a formula
 * on a rollout-team laptop (OWASP "CSV Injection"):
 * - every cell is quoted, so a separator inside it never splits it — Excel in a locale whose list separator
 *   is ";" would otherwise read `Printer;=1+2` as two cells, the second a formula;
 * - a cell that starts with = + - @ tab CR or NUL, or has one of = + - @ right after a separator (, ; tab |)
 *   or a line break (a reader that splits there sees a formula), gets a leading apostrophe.
 */

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

export const csvHeader = (): string => csvLine(CSV_COLUMNS.map((c) => c.header));

export function issueCsvLine(i: Issue): string {
  return csvLine(CSV_COLUMNS.map((c) => c.cell(i)));
}

export function issuesToCsv(issues: Iterable<Issue>): string {
  let out = csvHeader();
  for (const i of issues) out += issueCsvLine(i);
  return out;
}
