import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const timed = async (f: () => Promise<unknown>) => {
  const start = performance.now();
  await f();
  return performance.now() - start;
};

describe('a plan of 200 daily messages', () => {
  it('is listed in pages, and each scheduler pass and listing after the first takes a moment, not seconds', { timeout: 120_000 }, async () => {
    const where = personalChat('http://127.0.0.1:9/', USERS.lead);
    // The first pass after the plan was read works out its times.
    await app.broadcast.service.runDue();
    for (const minute of ['08:01', '08:02', '08:03']) {
      clock.set(`2027-03-01T${minute}:00Z`);
      expect(await timed(() => app.broadcast.service.runDue()), `the pass at ${minute} (ms)`).toBeLessThan(500);
    }
    let listing = '';
    const took = await timed(async () => {
      listing = readable(await say(app, USERS.lead, 'plan 34', where));
    });
    expect(listing).toContain('Page 34 of 34');
    expect(listing).toContain('tip-199');
    expect(took, '"plan 34" (ms)').toBeLessThan(1_000);
  });
});
