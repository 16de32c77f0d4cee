import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { CARDS_DIR } from '../src/cards/template.js';
import { parseCommand } from '../src/commands.js';
import { COMMANDS, VERBS } from '../src/registry/index.js';
import { PERMISSIONS } from '../src/roles/permissions.js';
import { startTestApp } from './support/app.js';

interface CardAction {
  card: string;
  type: string;
  verb?: string;
  data?: Record<string, unknown>;
}

/** Every Action.Execute / Action.Submit in the card templates, however deeply nested (ShowCard too). */
function cardActions(): CardAction[] {
  const out: CardAction[] = [];
  for (const file of readdirSync(CARDS_DIR).filter((f) => f.endsWith('.json'))) {
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n.type === 'Action.Execute' || n.type === 'Action.Submit') {
        out.push({
          card: file,
          type: String(n.type),
          verb: typeof n.verb === 'string' ? n.verb : undefined,
          data: n.data as Record<string, unknown> | undefined,
        });
      }
      Object.values(n).forEach(walk);
    };
    walk(JSON.parse(readFileSync(path.join(CARDS_DIR, file), 'utf8')));
  }
  return out;
}

let app: App;
beforeAll(async () => {
  ({ app } = await startTestApp());
});
afterAll(async () => {
  await app?.stop();
});

describe('the registry of commands and card verbs', () => {
  const all = cardActions();
  const imBack = (a: CardAction) => (a.data?.msteams as { type?: string; value?: string } | undefined);
  const actions = all.filter((a) => imBack(a)?.type !== 'imBack');
  const cardVerbs = new Set(actions.map((a) => a.verb ?? String(a.data?.action ?? '')));
  const declared = new Set(VERBS.map((v) => v.verb));

  it('declares every verb a card sends, with a permission from the one role table', () => {
    expect([...cardVerbs].filter((v) => !declared.has(v))).toEqual([]);
    for (const v of VERBS) expect(PERMISSIONS[v.permission], v.verb).toBeDefined();
    for (const c of COMMANDS) expect(PERMISSIONS[c.permission], c.name).toBeDefined();
  });

  it('sends only known commands from imBack buttons', () => {
    const typed = all.filter((a) => imBack(a)?.type === 'imBack').map((a) => String(imBack(a)?.value));
    expect(typed.length).toBeGreaterThan(0);
    expect(typed.filter((t) => parseCommand(t) === undefined)).toEqual([]);
  });

  it('has no declared verb that no card sends', () => {
    expect([...declared].filter((v) => !cardVerbs.has(v))).toEqual([]);
  });

  it('gives each Action.Execute the Action.Submit fallback (data.action = verb)', () => {
    const missing = actions
      .filter((a) => a.type === 'Action.Execute' && a.data?.action !== a.verb)
      .map((a) => `${a.card}: ${a.verb}`);
    expect(missing).toEqual([]);
  });

  it('has a handler in the running app for every declared verb and command, and none undeclared', () => {
    const handled = app.bot.handled();
    expect(new Set(handled.verbs)).toEqual(declared);
    expect(new Set(handled.commands)).toEqual(new Set(COMMANDS.map((c) => c.name)));
  });

  it('declares each command and verb once', () => {
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
    expect(declared.size).toBe(VERBS.length);
  });
});
