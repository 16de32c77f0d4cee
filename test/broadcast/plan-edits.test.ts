import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * Editing the plan file around a message's time, against the real app: what recipients receive when the
 * rollout team moves a message that already went out.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-plan-edits-'));
const PLAN_FILE = path.join(dir, 'plan.yaml');
const ROLLOUT_FILE = path.join(dir, 'rollout.yaml');
const planWith = (when: string, zone = 'UTC') => `timeZone: ${zone}
messages:
  - id: kickoff
    stage: launch
    title: Kick-off today
    body: The rollout starts today.
    audience: { users: [aad-staff] }
    when: ${when}
`;
writeFileSync(ROLLOUT_FILE, `cohorts:\n  - { id: wave-b, name: "Wave B", goLive: 2027-02-01, zone: Africa/Lusaka }\n`);
writeFileSync(PLAN_FILE, planWith('2027-01-11 09:00'));

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;
const where = (u: TestUser) => personalChat(connector.url, u);
const received = () => connector.sentTo(`a:chat-${USERS.staff.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('Kick-off today')).length;

async function edit(text: string): Promise<void> {
  writeFileSync(PLAN_FILE, text);
  await app.planFile.reload();
}

async function tickAt(iso: string): Promise<void> {
  clock.set(iso);
  await app.broadcast.service.tick();
  for (let i = 0; i < 3; i++) {
    await app.broadcast.runner.idle();
    await app.settled();
  }
}

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({ COMM_PLAN_FILE: PLAN_FILE, ROLLOUT_FILE }, new ManualClock('2027-01-11T08:00:00Z')));
  for (const u of Object.values(USERS)) await say(app, u, 'whoami', where(u));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('editing the time of a plan message that already went out', () => {
  it('does not send it again, whether the edit moves it earlier, later, or into another time zone', async () => {
    await tickAt('2027-01-11T09:00:30Z');
    expect(received()).toBe(1);

    // The rollout team fixes the plan's zone: 09:00 in Lusaka was 07:00 UTC, still within the grace period.
    await edit(planWith('2027-01-11 09:00', 'Africa/Lusaka'));
    await tickAt('2027-01-11T09:20:00Z');
    expect(received()).toBe(1);

    // … and moves its time, to earlier today and then to later today.
    await edit(planWith('2027-01-11 09:15'));
    await tickAt('2027-01-11T09:21:00Z');
    await edit(planWith('2027-01-11 13:00'));
    const plan = readable(await say(app, USERS.lead, 'plan', where(USERS.lead)));
    expect(plan).toContain('Sent 11 Jan 2027');
    expect(plan).not.toContain('Scheduled');
    await tickAt('2027-01-11T13:00:30Z');
    expect(received()).toBe(1);
  });
});
