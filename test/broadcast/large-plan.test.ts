import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import rrule from 'rrule';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { personalChat, readable, say, startTestApp, USERS } from '../support/app.js';

/*
 * A large communication plan against the real app: the scheduler's pass (every minute) and the plan
 * listing run on the one thread that answers everyone's turns, so they must stay short.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-large-plan-'));
const PLAN_FILE = path.join(dir, 'plan.yaml');
const daily = Array.from(
  { length: 200 },
  (_, i) => `  - id: tip-${i}
    stage: adoption
    title: Daily tip ${i}
    body: A tip.
    audience: champions
    when: { every: "FREQ=DAILY", at: "09:00", from: 2027-01-01, until: 2030-12-31 }
`,
).join('');
writeFileSync(PLAN_FILE, `timeZone: Europe/London\nmessages:\n${daily}`);

let app: App;
let clock: ManualClock;
beforeAll(async () => {
  ({ app, clock } = await startTestApp({ COMM_PLAN_FILE: PLAN_FILE }, new ManualClock('2027-03-01T08:00:00Z')));
});
afterAll(async () => {
  await app?.stop();
});

describe('a plan of 200 daily messages', () => {
  // Each message's dates come from its recurrence rule (rrule's expansion, up to 400 dates for a daily rule). Done on every pass, that was seconds of the one thread every minute (more for a listing), during
  // which no one's turn was answered; now once per loaded plan. Counted, not timed: a timed test flakes.
  it('works its dates out once: later scheduler passes and listings expand no rule; it is listed in pages', { timeout: 120_000 }, async () => {
    const expansions = vi.spyOn(rrule.RRule.prototype, 'all');
    const where = personalChat('http://127.0.0.1:9/', USERS.lead);
    // The first pass after the plan was read works out its times.
    await app.broadcast.service.runDue();
    expect(expansions.mock.calls.length).toBeGreaterThanOrEqual(200);
    expansions.mockClear();
    for (const minute of ['08:01', '08:02', '08:03']) {
      clock.set(`2027-03-01T${minute}:00Z`);
      await app.broadcast.service.runDue();
    }
    const listing = readable(await say(app, USERS.lead, 'plan 34', where));
    expect(listing).toContain('199–200 of 200');
    expect(listing).toContain('tip-199');
    expect(expansions).not.toHaveBeenCalled();
    expansions.mockRestore();
  });
});
