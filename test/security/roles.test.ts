import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { COMMANDS, VERBS } from '../../src/registry/index.js';
import { PERMISSIONS, refusalFor } from '../../src/roles/permissions.js';
import { execute, invokeText, readable, say, startTestApp, USERS } from '../support/app.js';

/*
 * Who may do what, from the app's own registry: every command and card verb that needs more than the
 * staff role is sent by a staff member — typed, as a forged Action.Execute and as a forged Action.Submit —
 * and is refused with the permission's own message, before any handler runs. A new verb or command that
 * needs a role is covered here the day it is declared.
 */

let app: App;
beforeAll(async () => {
  ({ app } = await startTestApp());
});
afterAll(async () => {
  await app?.stop();
});

const guardedVerbs = VERBS.filter((v) => PERMISSIONS[v.permission] !== 'staff');
const guardedCommands = COMMANDS.filter((c) => PERMISSIONS[c.permission] !== 'staff' && !c.localOnly);

/** Data a real card of this verb could carry: every field a plausible value, so only the role can refuse it. */
const forged = {
  ref: 'R-0001', version: 1, status: 'resolved', priority: 'P1', comment: 'x', assignee: 'aad-staff', duplicateOf: 'R-0002',
  groupId: 'g', curatedId: '0123456789abcdef', answer: 'x', days: 7, page: 1, list: 'triage',
  occurrenceId: 'o-1', personId: 'aad-staff', index: 0, title: 'x', date: '2026-03-02', time: '09:00',
  // The communication plan's cards: a plan message of the sample plan, a send of it, a celebration.
  id: 'golive-day', sendId: 'golive-day.m0000', body: 'x', audience: 'everyone', timing: 'now', who: 'aad-champ', what: 'x',
  // Adoption's and privacy's cards: a measure edit, a pulse, a figure import's progress, a forget confirmation.
  mode: 'update', measureId: 'weekly-active', pulseId: 'p-1', keys: 'aad-staff', token: 'x', importId: '0123456789abcdef',
};
/** Where one verb's field means something else. */
const forgedFor = (verb: string) => ({
  ...forged,
  ...(verb === 'faq.curated.page' ? { status: 'active' } : {}),
  // A measure card's version is the file's (a string), an issue card's a number.
  ...(verb.startsWith('adoption.') ? { version: '1' } : {}),
});

describe('a staff member is refused everything that needs a higher role', () => {
  it('has guarded verbs and commands to test (the registry is read)', () => {
    expect(guardedVerbs.length).toBeGreaterThan(5);
    expect(guardedCommands.length).toBeGreaterThan(3);
  });

  it.each(guardedVerbs.map((v) => [v.verb, v] as const))('%s as a forged Action.Execute', async (_name, def) => {
    // The forged data is what the verb's card sends, so nothing but the role check can refuse it.
    expect(def.data.safeParse(forgedFor(def.verb)).success).toBe(true);
    const res = await execute(app, USERS.staff, def.verb, forgedFor(def.verb));
    expect(res.status).toBe(200);
    expect(invokeText(res.body)).toBe(refusalFor(def.permission));
  });

  it.each(guardedVerbs.map((v) => [v.verb, v] as const))('%s as a forged Action.Submit', async (_name, def) => {
    const replies = await say(app, USERS.staff, '', { value: { action: def.verb, ...forgedFor(def.verb) } });
    expect(replies).toHaveLength(1);
    expect(readable(replies)).toBe(refusalFor(def.permission));
  });

  it.each(guardedCommands.map((c) => [c.name, c] as const))('"%s" typed', async (_name, def) => {
    // A command that takes no words (or only an id or a number) is typed as its own arguments allow.
    const typed = !def.args || def.args.test('x') ? `${def.name} x` : def.args.test('2') ? `${def.name} 2` : def.name;
    const replies = await say(app, USERS.staff, typed);
    expect(readable(replies)).toBe(refusalFor(def.permission));
  });

  it('leaves the issue log and the communication plan untouched after all of it', async () => {
    expect((await app.queries.triageQueue({}, { limit: 50 })).items).toEqual([]);
    expect(await app.broadcast.sends.all()).toEqual([]);
  });
});
