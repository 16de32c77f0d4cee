import type { QueueFilters } from './queries.js';
import { isOpen, STATUSES } from './model.js';
import { LIST_SORTS } from './order.js';

/**
 * The `triage` filter grammar: `status:new category:"Sync / offline" site:Marula assignee:me`, and for a done
 * list `sort:oldest|newest|priority` (the tab's orders for done issues).
 * Parsed in one left-to-right pass (no backtracking regex: a long string must not stall the bot).
 */

/** Longer than any real filter line; anything past it is refused before it is read. */
export const MAX_FILTER_LENGTH = 300;

export type ParsedFilters = { ok: true; value: QueueFilters } | { ok: false; message: string };

const USAGE = `Usage: triage [status:new] [category:"Sync / offline"] [site:Marula] [assignee:me] [sort:${LIST_SORTS.join('|')}] (sort with a done status: resolved, closed, wont_fix, duplicate)`;
const fail = (problem: string): ParsedFilters => ({ ok: false, message: `${problem} ${USAGE}` });
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isKeyChar = (c: string) => /[A-Za-z0-9_]/.test(c);

/** `me` is the caller's id, for `assignee:me`. Text in messages is quoted as typed (the caller renders it). */
export function parseTriageFilters(args: string, me: string): ParsedFilters {
  if (args.length > MAX_FILTER_LENGTH) {
    return fail(`That filter is too long (at most ${MAX_FILTER_LENGTH} characters).`);
  }
  const value: QueueFilters = {};
  let i = 0;
  while (i < args.length) {
    while (i < args.length && isSpace(args[i]!)) i++;
    if (i >= args.length) break;
    const keyStart = i;
    while (i < args.length && isKeyChar(args[i]!)) i++;
    const key = args.slice(keyStart, i).toLowerCase();
    if (!key || args[i] !== ':') {
      let end = i;
      while (end < args.length && !isSpace(args[end]!)) end++;
      return fail(`I don't understand "${args.slice(keyStart, Math.max(end, keyStart + 1)).slice(0, 40)}".`);
    }
    i++; // the colon
    let raw: string;
    if (args[i] === '"') {
      const close = args.indexOf('"', i + 1);
      if (close < 0) return fail(`The quote after "${key}:" is not closed.`);
      raw = args.slice(i + 1, close);
      i = close + 1;
    } else {
      const start = i;
      while (i < args.length && !isSpace(args[i]!)) i++;
      raw = args.slice(start, i);
    }
    const val = raw.trim();
    if (!val) return fail(`"${key}" needs a value.`);
    if (key === 'status') {
      const status = STATUSES.find((s) => s === val.toLowerCase().replace(/[\s-]+/g, '_'));
      if (!status) return fail(`Status is one of: ${STATUSES.join(', ')}.`);
      value.status = status;
    } else if (key === 'category') value.category = val;
    else if (key === 'site') value.site = val;
    else if (key === 'assignee') value.assigneeId = val.toLowerCase() === 'me' ? me : val;
    else if (key === 'sort') {
      const sort = LIST_SORTS.find((s) => s === val.toLowerCase());
      if (!sort) return fail(`Sort is one of: ${LIST_SORTS.join(', ')}.`);
      value.sort = sort;
    } else return fail(`Unknown filter "${key.slice(0, 40)}".`);
  }
  // The open queue's order is its stored one (New first, then priority and age); a sort there is refused, not ignored.
  if (value.sort && (!value.status || isOpen(value.status))) {
    return fail('"sort" orders a done list: add status:resolved, closed, wont_fix or duplicate.');
  }
  return { ok: true, value };
}
