import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { CARDS_DIR } from '../paths.js';

/** The folder of card templates (schema 1.5 JSON), one file per card. */
export { CARDS_DIR };

export type AdaptiveCard = { type: 'AdaptiveCard'; version: string; body?: unknown[]; [k: string]: unknown };

const cache = new Map<string, ACData.Template>();

function template(name: string): ACData.Template {
  let t = cache.get(name);
  if (!t) {
    const json = JSON.parse(readFileSync(path.join(CARDS_DIR, `${name}.json`), 'utf8'));
    t = new ACData.Template(json);
    cache.set(name, t);
  }
  return t;
}

/**
 * Fills card template `cards/<name>.json` with typed data. Callers define an interface for `T`
 * next to the code that builds it; the template is the only place the card's shape lives.
 */
export function renderCard<T extends object>(name: string, data: T): AdaptiveCard {
  const card = template(name).expand({ $root: data }) as AdaptiveCard;
  return card;
}

/**
 * The one rule for text a person typed (or a model wrote) shown in a card's TextBlock or FactSet, or in a
 * markdown chat message: it is shown as typed, never as formatting. Teams clients treat backslash escapes
 * differently (some show the backslash), so markdown is neutralised with look-alike or invisible
 * characters instead: `*` → `∗`, an underscore that could open emphasis → `ˍ`, a line that would start a
 * list or heading gets a zero-width space in front, `](` of a link and `${` get one in between, and `<` `>` (which
 * could form an `<at>` mention) become `‹` `›`. Input values, choice titles and banner messages are plain
 * text: they take the text as it is.
 */
export function escapeText(text: string): string {
  return text
    .replace(/</g, '\u2039')
    .replace(/>/g, '\u203A')
    .replace(/\*/g, '\u2217')
    .replace(/(^|[^\p{L}\p{N}])_|_(?=[^\p{L}\p{N}]|$)/gu, (m) => m.replace('_', '\u02CD'))
    .replace(/\]\(/g, ']\u200B(')
    // `${` would read as an unfilled template placeholder (and be flagged as one by the card tests).
    .replace(/\$\{/g, '$\u200B{')
    .replace(/^([ \t]*)(?=[-+#]|\d+[.)])/gm, '$1\u200B');
}

/**
 * A URL as a markdown link's target (`[text](target)`): "(", ")", "<", ">" and white space percent-encoded, so a ")"
 * in the address does not end the link early and leave the rest of it as text. The address opened is the same.
 */
export function linkTarget(url: string): string {
  return url.replace(/[()<>\s]/gu, (c) => (c === '(' ? '%28' : c === ')' ? '%29' : encodeURIComponent(c)));
}

/**
 * A markdown link to `url` (through `linkTarget`) labelled `label`, as written (escape text that comes from users):
 * the one place bot text and cards build links, so every address gets the same encoding.
 */
export function markdownLink(label: string, url: string): string {
  return `[${label}](${linkTarget(url)})`;
}

/** Teams refuses bot messages over 40 KB (UTF-16). */
export const TEAMS_MESSAGE_LIMIT_BYTES = 40 * 1024;

/** What a card fitted to the limit may use: the activity that carries it (ids, addresses, text) takes the rest. */
export const CARD_BUDGET_BYTES = TEAMS_MESSAGE_LIMIT_BYTES - 2048;

export function utf16Bytes(value: unknown): number {
  return JSON.stringify(value).length * 2;
}
