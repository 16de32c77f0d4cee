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

export function day(iso: string): string {
  const d = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(d);
}

export function shortDay(iso: string): string {
  const d = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(d);
}

export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
