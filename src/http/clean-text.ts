import { cleanText } from '../text/clean.js';

/** Incoming text is cleaned once, at the edge, before the bot sees it (the rule: text/clean.ts). */

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
