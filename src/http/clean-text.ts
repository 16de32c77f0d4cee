import { DIRECTION_CONTROLS } from '../text/one-line.js';

/**
 * Incoming text is cleaned once, at the edge, before the bot sees it: control characters (all of C0 but
 * tab and line feed, DEL, C1) and direction controls (an override left open in a name or an answer reverses what
 * follows it wherever it is shown: text/one-line.ts) are removed, CR LF and lone CR become LF, and lone UTF-16
 * surrogates (which are not text, break JSON consumers and Table storage round trips) become U+FFFD. Everything the
 * bot stores, shows or exports then holds only printable text and line breaks.
 */

const NEEDS_CLEANING = new RegExp(`[\\x00-\\x08\\x0B-\\x1F\\x7F-\\x9F]|${DIRECTION_CONTROLS.source}|[\\uD800-\\uDFFF]`, 'u');
const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]/g;
const LONE_SURROGATE = /[\uD800-\uDFFF]/gu;

export function cleanText(s: string): string {
  if (!NEEDS_CLEANING.test(s)) return s; // the common case: no copy
  return s.replace(/\r\n?/g, '\n').replace(CONTROL, '').replace(DIRECTION_CONTROLS, '').replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * Cleans every string (values and keys) of a parsed JSON value in place. The walk keeps its own stack, so
 * depth cannot overflow the call stack, and visits each node once (parsed JSON has no cycles).
 */
export function cleanStrings<T>(root: T): T {
  if (typeof root === 'string') return cleanText(root) as T;
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'string') node[i] = cleanText(v);
        else if (v && typeof v === 'object') stack.push(v);
      }
    } else if (node && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        const v = obj[key];
        const cleanKey = cleanText(key);
        const cleanValue = typeof v === 'string' ? cleanText(v) : v;
        if (cleanKey !== key) delete obj[key];
        if (cleanKey !== key || cleanValue !== v) {
          // defineProperty, not assignment: a key such as "__proto__" stays a plain own property.
          Object.defineProperty(obj, cleanKey, { value: cleanValue, writable: true, enumerable: true, configurable: true });
        }
        if (cleanValue && typeof cleanValue === 'object') stack.push(cleanValue);
      }
    }
  }
  return root;
}
