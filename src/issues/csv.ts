import { CSV_COLUMNS } from './fields.js';
import type { Issue } from './model.js';

/**
 * CSV export of issues (RFC 4180: CRLF line ends, fields with comma, quote or line break quoted, quotes
 * doubled). Spreadsheet apps run a cell that starts with = + - @ (or tab / CR) as a formula, so such
 * cells get a leading apostrophe: user text must never become a formula on a rollout-team laptop.
 */

export function csvCell(value: string | number | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
