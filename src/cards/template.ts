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
 * Text a user typed, made safe for a TextBlock: Teams renders markdown and <at> mentions in card text,
 * so markdown punctuation is backslash-escaped and angle brackets become ‹ ›.
 */
export function escapeText(text: string): string {
  return text
    .replace(/[\\`*_{}[\]()#+\-.!|~]/g, (c) => `\\${c}`)
    .replace(/</g, '\u2039')
    .replace(/>/g, '\u203A');
}

/** Teams refuses bot messages over 40 KB (UTF-16). */
export const TEAMS_MESSAGE_LIMIT_BYTES = 40 * 1024;

export function utf16Bytes(value: unknown): number {
  return JSON.stringify(value).length * 2;
}
