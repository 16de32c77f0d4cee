import { CSV_COLUMNS } from './fields.js';
import type { Issue } from './model.js';

/**
 * CSV export of issues (RFC 4180: CRLF line ends, quotes doubled). User text must never become a formula
 * on a rollout-team laptop (OWASP "CSV Injection"):
 * - every cell is quoted, so a separator inside it never splits it — Excel in a locale whose list separator
 *   is ";" would otherwise read `Printer;=1+2` as two cells, the second a formula;
 * - a cell whose first non-blank character is = + - @ (or their full-width forms ＝ ＋ － ＠, which
 *   spreadsheets read alike), or that starts with tab, CR or NUL, or has one of those signs after a separator
 *   (, ; tab |) or a line break and any blanks (a reader that splits there sees a formula), gets a leading
 *   apostrophe. "Blank" is any Unicode space (no-break, ideographic, BOM…): spreadsheets skip them.
 * This is the one CSV cell writer: every export goes through csvCell.
 */

const CONTROL_START = /^[\t\r\0]/;
const FORMULA_SIGN = /[=+\-@＝＋－＠]/;
const SEPARATOR = /[,;\t|\r\n]/;
const BLANK = /[\s\uFEFF]/;

/** One pass over the text (linear, whatever it holds): a formula sign at the start of the cell or of a piece a separator begins. */
function startsFormula(s: string): boolean {
  if (CONTROL_START.test(s)) return true;
  let pieceStart = true;
  for (const ch of s) {
    if (SEPARATOR.test(ch)) pieceStart = true;
    else if (BLANK.test(ch)) continue;
    else if (pieceStart && FORMULA_SIGN.test(ch)) return true;
    else pieceStart = false;
  }
  return false;
}

export function csvCell(value: string | number | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (startsFormula(s)) s = `'${s}`;
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
