import { DIRECTION_CONTROLS } from './one-line.js';

/**
 * The rule for text a person sent: control characters (all of C0 but tab and line feed, DEL, C1) and direction
 * controls (an override left open in a name or an answer reverses what follows it wherever it is shown: one-line.ts)
 * are removed, CR LF and lone CR become LF, and lone UTF-16 surrogates (which are not text, break JSON consumers and
 * Table storage round trips) become U+FFFD. Applied once at the edge (http/clean-text.ts) and again wherever text is
 * decoded after it (a message's HTML entities: faq/echo.ts), so what the bot stores, shows or exports holds only
 * printable text and line breaks.
 */

const NEEDS_CLEANING = new RegExp(`[\\x00-\\x08\\x0B-\\x1F\\x7F-\\x9F]|${DIRECTION_CONTROLS.source}|[\\uD800-\\uDFFF]`, 'u');
const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]/g;
const LONE_SURROGATE = /[\uD800-\uDFFF]/gu;

export function cleanText(s: string): string {
  if (!NEEDS_CLEANING.test(s)) return s; // the common case: no copy
  return s.replace(/\r\n?/g, '\n').replace(CONTROL, '').replace(DIRECTION_CONTROLS, '').replace(LONE_SURROGATE, '\uFFFD');
}
