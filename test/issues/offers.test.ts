import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { OfferStore } from '../../src/issues/offers.js';
import { testTables } from '../support/storage.js';

describe('OfferStore.sweepExpired', () => {
  it('deletes offers (and the forms kept with them) once run out, a bounded batch per run, and keeps those still standing', async () => {
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const offers = await OfferStore.open(testTables(), clock);
    await offers.record('29:pat', ['R-0001', 'R-0002'], { formId: '0123456789abcdef', values: { title: 'Old report' } });
    clock.advance(8 * 86_400_000);
    await offers.record('29:pat', ['R-0003'], { formId: '1123456789abcdef', values: { title: 'New report' } });

    expect(await offers.sweepExpired(clock.now(), 1)).toBe(1);
    expect(await offers.sweepExpired(clock.now(), 10)).toBe(1);
    expect(await offers.sweepExpired(clock.now(), 10)).toBe(0);
    expect((await offers.ofPerson('29:pat')).map((o) => [o.ref, o.form?.title])).toEqual([['R-0003', 'New report']]);
  });
});
