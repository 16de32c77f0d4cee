import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { ManualClock } from '../../src/clock.js';
import { TEXT_LIMITS } from '../../src/broadcast/model.js';
import { execute, invokeText, personalChat, say, startTestApp, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * `plan` at the sizes the files allow: the rollout file's 200 cohorts with names of 120 characters, and a plan
 * whose messages go to every cohort on its own go-live (each message's times list every cohort), with titles at
 * their limit. Every page must be one card Teams accepts, and paging must reach every message once.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-plan-scale-'));
const PLAN_FILE = path.join(dir, 'plan.yaml');
const ROLLOUT_FILE = path.join(dir, 'rollout.yaml');
const COHORTS = 200;
const MESSAGES = 40;
const ids = Array.from({ length: MESSAGES }, (_, i) => `msg-${String(i).padStart(3, '0')}`);

const cohortName = (i: number) => `Cohort ${String(i).padStart(3, '0')} ${'n'.repeat(120)}`.slice(0, 120);
writeFileSync(
  ROLLOUT_FILE,
  `cohorts:\n${Array.from({ length: COHORTS }, (_, i) => `  - { id: c-${i}, name: "${cohortName(i)}", goLive: 2027-0${(i % 9) + 1}-1${i % 10}, zone: ${i % 2 ? 'Asia/Tokyo' : 'Africa/Lusaka'} }`).join('\n')}\n`,
);
const plan = (list: readonly string[]) =>
  `timeZone: Africa/Lusaka\nmessages:\n${list
    .map((id) => `  - id: ${id}\n    stage: launch\n    title: "${`${id} ${'t'.repeat(TEXT_LIMITS.title)}`.slice(0, TEXT_LIMITS.title)}"\n    body: Get ready.\n    audience: { cohort: all }\n    when: golive-7d 09:00\n`)
    .join('')}`;
writeFileSync(PLAN_FILE, plan(ids));

let app: App;
let connector: RecordingConnector;
let card = 0;
const where = () => personalChat(connector.url, USERS.lead);
const page = async (data: Record<string, unknown>) => {
  const res = await execute(app, USERS.lead, 'broadcast.planPage', data, { ...where(), replyToId: `card-${++card}` });
  return res.body.value as Record<string, unknown>;
};
/** The ids a card lists (its items' headings; the cursor of More and Previous names them too). */
const idsOn = (c: unknown) => [...new Set(JSON.stringify((c as { body?: unknown }).body).match(/msg-\d{3}/g) ?? [])];
/** What "More" (the next page) sends, if the card has it. */
const nextOf = (c: unknown) => {
  const actions = ((c as { actions?: { title?: string; data?: Record<string, unknown> }[] }).actions ?? []);
  return actions.find((a) => a.title === 'More')?.data;
};

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp(
    { COMM_PLAN_FILE: PLAN_FILE, ROLLOUT_FILE, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' },
    new ManualClock('2026-12-01T09:00:00Z'),
  ));
  await say(app, USERS.lead, 'whoami', where());
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('plan, with every cohort the rollout file allows', () => {
  it('answers each page with one card under 40 KB, and its pages list every message once', async () => {
    const replies = await say(app, USERS.lead, 'plan', where());
    const first = replies.flatMap((r) => r.attachments ?? []).map((a) => a.content)[0];
    expect(first).toBeDefined();
    const seen: string[] = [];
    let current: unknown = first;
    for (let guard = 0; guard < MESSAGES + 1; guard++) {
      expect(utf16Bytes(current)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
      seen.push(...idsOn(current));
      const next = nextOf(current);
      if (next === undefined) break;
      current = await page(next);
    }
    expect(seen).toEqual(ids);
  });
});

describe('plan, paged while the plan file changes', () => {
  const firstCard = async () => (await say(app, USERS.lead, 'plan', where())).flatMap((r) => r.attachments ?? []).map((a) => a.content)[0];
  /** Presses a button of the card as Teams would: its verb with the data the card carries. */
  const press = async (c: unknown, title: string) => {
    const action = ((c as { actions?: { title?: string; verb?: string; data?: Record<string, unknown> }[] }).actions ?? []).find((a) => a.title === title);
    expect(action, `the card has ${title}`).toBeDefined();
    const res = await execute(app, USERS.lead, action!.verb!, action!.data!, { ...where(), replyToId: `card-${++card}` });
    expect(res.status).toBe(200);
    return res.body.value as Record<string, unknown>;
  };
  const useFile = async (list: readonly string[]) => {
    writeFileSync(PLAN_FILE, plan(list));
    await app.planFile.reload();
  };
  afterAll(async () => useFile(ids));

  it('a message removed from the page already seen skips nothing: More shows the message after the last one shown', async () => {
    await useFile(ids);
    const first = await firstCard();
    expect(idsOn(first)).toEqual(ids.slice(0, 6));
    await useFile(ids.filter((id) => id !== 'msg-002'));
    expect(idsOn(await press(first, 'More'))).toEqual(ids.slice(6, 12));
  });

  it('a message added before the page shown repeats nothing: More shows the message after the last one shown', async () => {
    await useFile(ids);
    const first = await firstCard();
    await useFile(['msg-900', ...ids]);
    const second = await press(first, 'More');
    expect(idsOn(second)).toEqual(ids.slice(6, 12));
    // Back from there: the six before it as the plan now is, then the added message.
    const back = await press(second, 'Previous');
    expect(idsOn(back)).toEqual(ids.slice(0, 6));
    expect(idsOn(await press(back, 'Previous'))[0]).toBe('msg-900');
  });

  it('the last message shown removed too: More still starts after it', async () => {
    await useFile(ids);
    const first = await firstCard();
    await useFile(ids.filter((id) => id !== 'msg-005' && id !== 'msg-004'));
    expect(idsOn(await press(first, 'More'))).toEqual(ids.slice(6, 12));
  });

  it('a card from before paging by message (it asks for a page number) gets the plan from its start, and says why', async () => {
    await useFile(ids);
    const res = await execute(app, USERS.lead, 'broadcast.planPage', { action: 'broadcast.planPage', page: 3 }, { ...where(), replyToId: `card-${++card}` });
    expect(res.status).toBe(200);
    expect(idsOn(res.body.value)).toEqual(ids.slice(0, 6));
    expect(invokeText(res.body)).toContain('This card was made by an earlier version');
  });
});
