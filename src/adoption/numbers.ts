/** Numbers as people type them, on cards and in CSV cells (figures.ts, measures.ts). */

/**
 * Card inputs and CSV cells are text: "80", "80%", "1,234.5" read as numbers. A comma is a thousands
 * separator only where it groups three digits after a leading 1–999 ("1,234"), so a decimal comma typed
 * by habit ("2,5", "0,125") is refused rather than read as 25 or 125. With `decimalComma` (a file whose
 * cells are separated by semicolons, as spreadsheets write them where the comma is the decimal mark)
 * one comma is the decimal mark: "3,500" is 3.5, and a point grouping thousands ("1.234") is refused. An exponent ("1e10") reads, so a figure too large is named as such.
 * A leading "+" and a bare fraction (".5", ",5" where the comma is the decimal mark) read as people mean them.
 */
/** "1.234", "12.345.678": digits grouped by threes with points (thousands, where the comma is the decimal mark). */
const DOT_GROUPED = /^[-+]?[1-9]\d{0,2}(\.\d{3})+$/;
/** "1,234", "12,345,678": grouped by threes with commas (thousands to an English reader whose locale writes "2,5"). */
const COMMA_GROUPED = /^[-+]?[1-9]\d{0,2}(,\d{3})+$/;

/**
 * How a figure's text writes its decimals: with a point; with a comma, as a file separated by semicolons says; or
 * with a comma as the reader's locale suggests, a guess about their habit (en-ZA writes "2,5" and often "1,234" for
 * thousands, German "1.234"), so a number grouped by threes either way is refused there (`twoWays`).
 */
export type DecimalMark = 'point' | 'comma' | 'comma-locale';

/** Whether `locale` (a BCP 47 tag, as Teams gives it) writes decimals with a comma; an unknown one does not. */
export function writesDecimalComma(locale: string | undefined): boolean {
  try {
    return new Intl.NumberFormat(locale ?? 'en-US').formatToParts(1.5).find((p) => p.type === 'decimal')?.value === ',';
  } catch {
    return false;
  }
}

/** "1.234" or "1,234" (a "%" after it aside): 1234 or 1.234, depending on who wrote it. */
export function twoWays(text: string): boolean {
  const clean = text.trim().replace(/%$/, '').trim();
  return DOT_GROUPED.test(clean) || COMMA_GROUPED.test(clean);
}

export function readDecimal(text: string, decimalComma = false): number | undefined {
  let clean = text.trim().replace(/%$/, '').trim();
  if (decimalComma) {
    // Where the comma is the decimal mark, the point groups thousands: "1.234" is as likely 1234 as 1.234, so a
    // number grouped that way is refused rather than read a thousand times too small.
    if (DOT_GROUPED.test(clean)) return undefined;
    if (!/^[-+]?(\d+(,\d+)?|,\d+)$/.test(clean) && !/^[-+]?(\d+(\.\d+)?|\.\d+)(e[+-]?\d+)?$/i.test(clean)) return undefined;
    clean = clean.replace(',', '.');
  } else {
    if (!/^[-+]?((\d+|[1-9]\d{0,2}(,\d{3})+)(\.\d+)?|\.\d+)(e[+-]?\d+)?$/i.test(clean)) return undefined;
    clean = clean.replace(/,/g, '');
  }
  // Written as a number, however large ("1e309" is ±Infinity): the caller names it as too large, not as "not a number".
  return Number(clean);
}

/** The bound of a figure, a baseline and a target (the measures file's own), as messages say it. */
export const FIGURE_BOUND = 1e9;
export const FIGURE_BOUND_TEXT = 'must be between -1,000,000,000 and 1,000,000,000';

/** A figure as stored: `readDecimal` within ±FIGURE_BOUND. */
export function readNumber(text: string, decimalComma = false): number | undefined {
  const n = readDecimal(text, decimalComma);
  return n !== undefined && Math.abs(n) <= FIGURE_BOUND ? n : undefined;
}
