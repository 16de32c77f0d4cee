import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { MyDataJobs } from '../../src/privacy/my-data-jobs.js';
import type { Subject } from '../../src/privacy/personal-data.js';
import { CapturedOutbox } from '../support/outbox.js';
import { testTables } from '../support/storage.js';

/*
 * A `my data` whose instance stops after the turn answered (a restart, a deploy) is not lost: its row stays
 * claimed until the claim lapses, then another instance's upkeep makes the file and sends the link, once.
 */

const KAI: Subject = { ids: ['aad-kai', '29:kai'], name: 'Kai Busy' };
const quiet = { info: () => {}, warn: () => {} };

function instance(tables: ReturnType<typeof testTables>, holderId: string, clock: ManualClock, outbox: CapturedOutbox, made: string[]) {
  return MyDataJobs.open(tables, {
    make: async (subject, userKey) => {
      made.push(`${userKey}:${subject.name}`);
      return { token: `tok-${made.length}`, expiresAt: '2026-12-01T10:00:00.000Z' };
    },
    message: (token) => `link /exports/${token}`,
    outbox,
    clock,
    holderId,
    log: quiet,
    claimMs: 60_000,
  });
}

describe('my data jobs', () => {
  it('a job whose instance stopped is resumed by the upkeep once its claim lapses, and its link sent once', async () => {
    const tables = testTables();
    const clock = new ManualClock();
    clock.set('2026-12-01T08:00:00Z');
    const outbox = new CapturedOutbox();
    const made: string[] = [];
    const dying = await instance(tables, 'a', clock, outbox, made);
    const other = await instance(tables, 'b', clock, outbox, made);

    // The turn on instance a wrote the job and answered; a stopped before it ran it.
    expect((await dying.begin(KAI, '29:kai')).fresh).toBe(true);
    expect((await other.begin(KAI, '29:kai')).fresh).toBe(false);
    expect(await other.upkeep()).toBe(0); // still a's: not run twice
    await other.idle();
    expect(made).toEqual([]);

    clock.advance(61_000);
    expect(await other.upkeep()).toBe(1);
    await other.idle();
    expect(made).toEqual(['29:kai:Kai Busy']);
    expect(outbox.users()).toEqual(['29:kai']);
    expect(await other.upkeep()).toBe(0);
    // Done: the person may ask again.
    expect((await other.begin(KAI, '29:kai')).fresh).toBe(true);
  });
});
