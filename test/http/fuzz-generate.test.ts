import { describe, expect, it } from 'vitest';
import { type FuzzCase, fuzzCase } from '../../scripts/fuzz/generate.js';
import { KNOWN_COMMANDS } from '../../src/commands.js';
import { VERBS } from '../../src/registry/index.js';
import { USERS } from '../support/app.js';

/**
 * The fuzzer's cases are generated from the app's registry: every declared card verb is sent with data its
 * own schema accepts (so its handler runs, not only the "out of date" reply), and every command is typed.
 * A verb declared tomorrow is covered without touching the generator; this fails if it is not.
 */
const ctx = { serviceUrl: 'http://127.0.0.1:9', users: USERS };
const CASES = 4000;

/** The activity of a case sent as plain JSON (compressed and broken bodies are not read here). */
function activityOf(c: FuzzCase): Record<string, unknown> | undefined {
  if (c.headers['content-encoding']) return undefined;
  try {
    const a: unknown = JSON.parse(c.body.toString('utf8'));
    return a && typeof a === 'object' && !Array.isArray(a) ? (a as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The verb a card action names and the data it carries: Action.Execute or its Action.Submit fallback. */
function cardAction(a: Record<string, unknown>): { verb: string; data: unknown } | undefined {
  const value = a.value as Record<string, unknown> | undefined;
  if (a.type === 'invoke' && a.name === 'adaptiveCard/action') {
    const action = value?.action as { verb?: unknown; data?: unknown } | undefined;
    return typeof action?.verb === 'string' ? { verb: action.verb, data: action.data } : undefined;
  }
  if (a.type === 'message' && typeof value?.action === 'string') {
    const { action, ...data } = value;
    return { verb: action as string, data };
  }
  return undefined;
}

describe('the fuzz generator', () => {
  const activities = Array.from({ length: CASES }, (_, i) => activityOf(fuzzCase(1, i, ctx))).filter(
    (a): a is Record<string, unknown> => a !== undefined,
  );

  it('sends every declared card verb with data its schema accepts', () => {
    const accepted = new Set<string>();
    for (const a of activities) {
      const action = cardAction(a);
      const def = action && VERBS.find((v) => v.verb === action.verb);
      if (def && def.data.safeParse(action.data).success) accepted.add(def.verb);
    }
    expect(VERBS.map((v) => v.verb).filter((v) => !accepted.has(v))).toEqual([]);
    expect(VERBS.some((v) => v.verb.startsWith('broadcast.'))).toBe(true);
  });

  it('types every command the app knows', () => {
    const typed = new Set<string>();
    for (const a of activities) {
      if (a.type !== 'message' || typeof a.text !== 'string') continue;
      const words = a.text.replace(/^<at>[^<]*<\/at>\s*/, '');
      for (const name of KNOWN_COMMANDS) if (words === name || words.startsWith(`${name} `)) typed.add(name);
    }
    expect(KNOWN_COMMANDS.filter((c) => !typed.has(c))).toEqual([]);
  });

  it('makes the same case from the same seed and index', () => {
    expect(fuzzCase(7, 123, ctx)).toEqual(fuzzCase(7, 123, ctx));
  });
});
