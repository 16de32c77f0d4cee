import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { activity, post, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';

/**
 * A question whose message was deleted in Teams is kept for an undelete for a month from when it was asked, then the
 * expiry job deletes it, even with RETENTION_DAYS at its default (0: keep everything else).
 */

const T0 = Date.parse('2026-11-01T09:00:00Z');
const DAY = 86_400_000;
const clock = new ManualClock(new Date(T0).toISOString());
let app: App;
beforeAll(async () => {
  // The scheduler's own timer stays out of the way: the test ticks it.
  ({ app } = await startTestApp({ SCHEDULER_INTERVAL_SECONDS: '86400' }, clock));
});
afterAll(async () => {
  await app?.stop();
});

const gaps = async () => readable(await say(app, USERS.champion, 'gaps 90'));

/** Teams' message ids in a chat are their send time in epoch milliseconds. */
const idAt = (at: number) => String(at);

const send = async (user: TestUser, id: string, body: Record<string, unknown>) => {
  const res = await post(
    app,
    activity(user, {
      id,
      ...body,
      conversation: { id: `a:personal-${user.id}`, conversationType: 'personal', tenantId: 'tenant-1' },
    }),
  );
  expect(res.status).toBe(200);
};
const ask = (id: string, text: string) => send(USERS.staff, id, { text });
const remove = (id: string) => send(USERS.staff, id, { type: 'messageDelete', channelData: { tenant: { id: 'tenant-1' }, eventType: 'softDeleteMessage' } });
const undelete = (id: string) => send(USERS.staff, id, { type: 'messageUpdate', channelData: { tenant: { id: 'tenant-1' }, eventType: 'undeleteMessage' } });

describe('a question withdrawn by deleting its message', () => {
  it('cannot be undeleted once the expiry job has run a month after it was asked; a newer one can', async () => {
    const old = idAt(T0);
    await ask(old, 'what is the canteen menu on tuesday');
    await remove(old);
    clock.set(new Date(T0 + 20 * DAY));
    const newer = idAt(T0 + 20 * DAY);
    await ask(newer, 'where do I park the van at night');
    await remove(newer);

    clock.set(new Date(T0 + 31 * DAY));
    await app.scheduler.tick();
    await undelete(old);
    await undelete(newer);
    const listed = await gaps();
    expect(listed).not.toContain('canteen menu on tuesday');
    expect(listed).toContain('park the van at night');
  });
});
