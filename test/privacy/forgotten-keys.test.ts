import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ForgottenKeys, LATEST_KEPT_MS } from '../../src/privacy/forgotten-keys.js';
import { Pseudonyms } from '../../src/privacy/pseudonym.js';
import { testTables } from '../support/storage.js';
import { reads } from '../support/table-reads.js';

/*
 * The triage card's Assign list asks who of its champions was forgotten since their names were read, on every card
 * drawn. Storage calls are counted: many cards must not cost a read each, nor a read per champion each.
 */

const CHAMPIONS = Array.from({ length: 20 }, (_, i) => ({ id: `aad-champ-${i}`, name: `Champion ${i}` }));

async function instances() {
  const tables = testTables();
  const clock = new ManualClock('2027-03-01T09:00:00Z');
  const pseudonyms = await Pseudonyms.open(tables, () => clock.now().getTime());
  const open = () => ForgottenKeys.open(tables, pseudonyms, () => clock.now().getTime());
  return { clock, pseudonyms, here: await open(), elsewhere: await open() };
}

const counted = <T>(fn: () => Promise<T>) => reads(fn, { table: 'PrivacyForgotten' });

describe('the champions of the Assign list, as shown', () => {
  it('cost one storage read for many cards drawn within the time the latest forget is kept', async () => {
    const { clock, here } = await instances();
    const read = clock.now();
    const { value, calls } = await counted(async () => {
      const shown = [];
      for (let i = 0; i < 30; i++) {
        shown.push(await here.asShown(CHAMPIONS, read));
        clock.advance(100);
      }
      return shown;
    });
    expect(calls).toBe(1);
    expect(value.at(-1)).toEqual(CHAMPIONS);
  });

  it('after a forget on another instance, cost at most one read per champion in all over many cards, and show the pseudonym', async () => {
    const { clock, pseudonyms, here, elsewhere } = await instances();
    const read = clock.now(); // the list's names were read now
    expect(await here.asShown(CHAMPIONS, read)).toEqual(CHAMPIONS);
    const pseudonym = pseudonyms.of({ ids: ['aad-champ-3'], name: 'Champion 3' });
    clock.advance(1_000);
    await elsewhere.record({ ids: ['aad-champ-3'], name: 'Champion 3' }, pseudonym, clock.now());
    // Seen here once the kept read of the latest forget is older than LATEST_KEPT_MS.
    clock.advance(LATEST_KEPT_MS);
    const { value, calls } = await counted(async () => {
      const shown = [];
      for (let i = 0; i < 40; i++) {
        shown.push(await here.asShown(CHAMPIONS, read));
        clock.advance(500); // 20 s in all: the latest forget is read again four times
      }
      return shown;
    });
    for (const s of value) {
      expect(s.find((c) => c.id === 'aad-champ-3')?.name).toBe(pseudonym.name);
      expect(s.filter((c) => c.name.startsWith('Champion'))).toHaveLength(CHAMPIONS.length - 1);
    }
    expect(calls).toBeLessThanOrEqual(CHAMPIONS.length + Math.ceil((40 * 500) / LATEST_KEPT_MS) + 1);
  });
});
