/** Numbers and dates in the reader's locale (Teams gives it; the browser's otherwise). */

let locale = navigator.language || 'en-GB';

export function setLocale(value: string | undefined): void {
  if (!value) return;
  try {
    new Intl.NumberFormat(value);
    locale = value;
    document.documentElement.lang = value;
  } catch {
    // An unknown locale keeps the previous one.
  }
}

export const num = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined ? '—' : new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(n);

export const pct = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : `${num(n)} %`);

/**
 * Whether the reader's locale writes decimals with a comma ("2,5"; a phone's decimal keypad then has no point). The
 * tab sends a typed number as typed with this flag, and the API reads it (and refuses "1.234", which could be 1234).
 */
export const decimalComma = (): boolean =>
  new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === 'decimal')?.value === ',';

/**
 * A measure's figure, as the cards and the digest show it (src/adoption/cards.ts formatValue): under 1 it keeps two
 * significant digits, so a defect rate of 0.04 or a quarter day (0.25) is not shown as 0 or 0.3.
 */
export const figure = (n: number): string =>
  Math.abs(n) < 1 && !Number.isInteger(n) ? new Intl.NumberFormat(locale, { maximumSignificantDigits: 2 }).format(n) : num(n);

/** A date-only value ("2027-01-11") is that calendar day everywhere; a moment is shown in the reader's own zone. */
function dateOf(iso: string): { d: Date; timeZone: string | undefined } {
  return iso.length === 10 ? { d: new Date(`${iso}T00:00:00Z`), timeZone: 'UTC' } : { d: new Date(iso), timeZone: undefined };
}

export function day(iso: string): string {
  const { d, timeZone } = dateOf(iso);
  return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone }).format(d);
}

export function shortDay(iso: string): string {
  const { d, timeZone } = dateOf(iso);
  return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone }).format(d);
}

export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
