import { describe, expect, it } from 'vitest';
import { REMOVED_KEEP_DAYS, ScheduleChanges } from '../../src/officehours/changes.js';
import type { Schedule } from '../../src/officehours/model.js';
import { officeHoursInstance, sampleSchedule } from './support.js';

/*
 * What the notice pass keeps of each session (OfficeHoursSchedule, partition 'known') does not grow forever: a
 * session taken off the schedule keeps its row while a booking of it may still lie ahead (its cancel needs it),
 * and the pass deletes it after that; a session still on the schedule keeps its row.
 */

const DAY_MS = 86_400_000;

describe("the notice pass's record of a session taken off the schedule", () => {
  it('is kept while a booking of it may lie ahead, then deleted; the sessions still on the schedule keep theirs', async () => {
    let schedule: Schedule = sampleSchedule;
    const a = await officeHoursInstance({ schedule: () => schedule });
    const changes = await ScheduleChanges.open(a.tables, a.clock);
    await a.service.tellChanges(schedule, a.clock.now());
    const [gone, ...kept] = sampleSchedule.sessions;
    expect(kept.length).toBeGreaterThan(0);
    // Taken out of the file: the next pass sees it go (and keeps what its cancel needs).
    schedule = { ...sampleSchedule, sessions: kept };
    await a.service.tellChanges(schedule, a.clock.now());
    expect((await changes.lastKnown(gone!.id))?.digest).toBe('removed');

    a.clock.advance((REMOVED_KEEP_DAYS - 1) * DAY_MS);
    await a.service.tellChanges(schedule, a.clock.now());
    expect((await changes.lastKnown(gone!.id))?.digest, 'kept while a booking may lie ahead').toBe('removed');

    a.clock.advance(2 * DAY_MS);
    await a.service.tellChanges(schedule, a.clock.now());
    expect(await changes.lastKnown(gone!.id)).toBeUndefined();
    for (const s of kept) expect(await changes.lastKnown(s.id), s.id).toBeDefined();
    // Nothing changed since: the pass reads no booking and tells nobody.
    expect(await a.service.tellChanges(schedule, a.clock.now())).toBe(0);
  });
});
