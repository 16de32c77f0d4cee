import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { ManualClock } from '../../src/clock.js';
import { TEXT_LIMITS } from '../../src/broadcast/model.js';
import { execute, personalChat, say, startTestApp, USERS } from '../support/app.js';
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
const page = async (n: number) => {
  const res = await execute(app, USERS.lead, 'broadcast.planPage', { page: n }, { ...where(), replyToId: `card-${++card}` });
  return res.body.value as Record<string, unknown>;
};
const idsOn = (c: unknown) => [...new Set(JSON.stringify(c).match(/msg-\d{3}/g) ?? [])];
/** The page "More" (the next page) asks for, if the card has it. */
const nextOf = (c: unknown) => {
  const actions = ((c as { actions?: { title?: string; data?: { page?: unknown } }[] }).actions ?? []);
  const more = actions.find((a) => a.title === 'More');
  return more ? Number(more.data?.page) : undefined;
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
