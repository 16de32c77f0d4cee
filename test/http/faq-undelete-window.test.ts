import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { activity, post, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';

/**
 * A question whose message was deleted in Teams is kept for an undelete for a month from when it was deleted, then the
 * expiry job deletes it, even with RETENTION_DAYS at its default (0: keep everything else). Deletes and undeletes
 * count in the order Teams stamped them, whatever order they arrive in.
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
/** `at`: the time Teams stamps on the event (its `timestamp`); none, as the tests above send them. */
const stamped = (at?: number) => (at === undefined ? {} : { timestamp: new Date(at).toISOString() });
const remove = (id: string, at?: number) =>
  send(USERS.staff, id, { type: 'messageDelete', channelData: { tenant: { id: 'tenant-1' }, eventType: 'softDeleteMessage' }, ...stamped(at) });
const undelete = (id: string, at?: number) =>
  send(USERS.staff, id, { type: 'messageUpdate', channelData: { tenant: { id: 'tenant-1' }, eventType: 'undeleteMessage' }, ...stamped(at) });

describe('a question withdrawn by deleting its message', () => {
  it('cannot be undeleted once the expiry job has run a month after its delete (here, as it was asked); a newer one can', async () => {
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

describe('deletes and undeletes of a question\'s message', () => {
  it('can be undeleted up to a month after the delete, even when asked a month before it', async () => {
    const asked = T0 + 40 * DAY;
    clock.set(new Date(asked));
    const id = idAt(asked);
    await ask(id, 'what colour is the staff canteen kettle on fridays');
    // Deleted on day 29 after it was asked, undone 11 days later (40 days after it was asked): it is back.
    clock.set(new Date(asked + 29 * DAY));
    await remove(id);
    clock.set(new Date(asked + 31 * DAY));
    await app.scheduler.tick();
    clock.set(new Date(asked + 40 * DAY));
    await app.scheduler.tick();
    await undelete(id);
    expect(await gaps()).toContain('canteen kettle on fridays');
  });

  /** Asked a day on from the last test's clock; the clock then a minute past it, when its events are handled. */
  const askedNextDay = async (text: string) => {
    const asked = clock.now().getTime() + DAY;
    clock.set(new Date(asked));
    const id = idAt(asked);
    await ask(id, text);
    clock.set(new Date(asked + 60_000));
    return { asked, id };
  };

  it('leaves a question withdrawn when an undelete Teams retries arrives after the message was deleted again', async () => {
    const { asked, id } = await askedNextDay('where is the spare key for the cold room');
    await remove(id, asked + 10_000);
    await undelete(id, asked + 20_000);
    expect(await gaps()).toContain('spare key for the cold room');
    await remove(id, asked + 30_000);
    expect(await gaps()).not.toContain('spare key for the cold room');
    // The undelete of 20 s, retried by Teams after the second delete: stale, nothing comes back.
    await undelete(id, asked + 20_000);
    expect(await gaps()).not.toContain('spare key for the cold room');
    // Undone again for real, and the first delete retried late: the question stays.
    await undelete(id, asked + 40_000);
    await remove(id, asked + 10_000);
    expect(await gaps()).toContain('spare key for the cold room');
  });

  it('keeps a question whose undelete arrived before its delete (a delete Teams retried after a fault)', async () => {
    const { asked, id } = await askedNextDay('who signs off the night shift rota');
    // Deleted at 10 s (that turn failed, so Teams sends it again later), undone at 20 s: the undo arrives first.
    await undelete(id, asked + 20_000);
    await remove(id, asked + 10_000);
    expect(await gaps()).toContain('night shift rota');
    // A delete made after the undo still withdraws it.
    await remove(id, asked + 30_000);
    expect(await gaps()).not.toContain('night shift rota');
  });
});
