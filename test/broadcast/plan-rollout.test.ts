import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { until } from '../support/until.js';

/*
 * The plan is checked against the rollout file (its cohorts and user groups): when only the rollout file
 * changes, the plan is checked again, against the real app — the rollout team is told when the plan no
 * longer fits (the last good plan stays), and a plan that now fits is taken into use.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-plan-rollout-'));
const PLAN_FILE = path.join(dir, 'plan.yaml');
const ROLLOUT_FILE = path.join(dir, 'rollout.yaml');
const cohort = (id: string, goLive: string) => `  - { id: ${id}, name: "Wave ${id}", goLive: ${goLive}, zone: Africa/Lusaka }\n`;
const rolloutWith = (...cohorts: string[]) => `cohorts:\n${cohorts.join('')}`;
const message = (id: string, toCohort: string) => `  - id: ${id}
    stage: launch
    title: Title of ${id}
    body: A week to go.
    audience: { cohort: ${toCohort} }
    when: golive-7d 09:00
`;
const planWith = (...messages: string[]) => `timeZone: Africa/Lusaka\nmessages:\n${messages.join('')}`;

writeFileSync(ROLLOUT_FILE, rolloutWith(cohort('wave-a', '2027-03-01'), cohort('wave-b', '2027-04-05')));
writeFileSync(PLAN_FILE, planWith(message('tip-a', 'wave-a'), message('tip-b', 'wave-b')));

let app: App;
let connector: RecordingConnector;
const where = (u: TestUser) => personalChat(connector.url, u);
const toldLead = () => connector.sentTo(`a:chat-${USERS.lead.aadObjectId}`).map((c) => JSON.stringify(c.body)).join('\n');
const planListing = async () => readable(await say(app, USERS.lead, 'plan', where(USERS.lead)));

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp(
    { COMM_PLAN_FILE: PLAN_FILE, ROLLOUT_FILE, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' },
    new ManualClock('2027-01-11T08:00:00Z'),
  ));
  for (const u of Object.values(USERS)) await say(app, u, 'whoami', where(u));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('the plan, when only the rollout file changes', () => {
  it('tells the rollout team when a cohort the plan uses is removed, keeps the last good plan, and takes a plan that fits again', async () => {
    expect(await planListing()).toContain('tip-b');

    // The rollout team removes wave-b from the rollout file; the plan still sends "tip-b" to it.
    writeFileSync(ROLLOUT_FILE, rolloutWith(cohort('wave-a', '2027-03-01')));
    await until('the rollout team is told', async () => {
      await app.settled();
      return toldLead().includes('no cohort \\"wave-b\\" in the rollout file');
    }, 30_000);
    expect(toldLead()).toContain('tip-b');
    expect(app.planFile.current.messages.map((m) => m.id)).toEqual(['tip-a', 'tip-b']);

    // They fix the plan file for a cohort they have not added yet: refused as before...
    writeFileSync(PLAN_FILE, planWith(message('tip-a', 'wave-a'), message('tip-c', 'wave-c')));
    await app.planFile.reload();
    expect(app.planFile.current.messages.map((m) => m.id)).toEqual(['tip-a', 'tip-b']);
    // ...and once wave-c is in the rollout file, that plan is taken without touching the plan file again.
    writeFileSync(ROLLOUT_FILE, rolloutWith(cohort('wave-a', '2027-03-01'), cohort('wave-c', '2027-05-03')));
    await until('the plan naming wave-c is taken', () => app.planFile.current.messages.some((m) => m.id === 'tip-c'), 10_000);
    const listing = await planListing();
    expect(listing).toContain('tip-c');
    expect(listing).not.toContain('tip-b');
    expect(listing).toContain('Wave wave-c: 26 Apr 2027 09:00');

    // Wave C's go-live moves: the message's time moves with it.
    writeFileSync(ROLLOUT_FILE, rolloutWith(cohort('wave-a', '2027-03-01'), cohort('wave-c', '2027-06-07')));
    await until('the new go-live is used', async () => (await planListing()).includes('Wave wave-c: 31 May 2027 09:00'), 10_000);
  });
});
