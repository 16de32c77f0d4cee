import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { isPseudonym, Pseudonyms } from '../../src/privacy/pseudonym.js';
import { testTables } from '../support/storage.js';

/*
 * The stand-in a forgotten person becomes, and the token that ties the rollout team's "Forget" button to the
 * card the server showed (card data can be forged; the token cannot be made for other keys).
 */

const ADELE = { ids: ['29:adele', '6B8F1C2E-2A44-4D8F-9A5B-0C1D2E3F4A5B'] };
const BRUNO = { ids: ['29:bruno', '0f3d5a7c-1b2e-4c6d-8e9f-a0b1c2d3e4f5'] };

async function open(clock = new ManualClock('2026-11-30T08:00:00Z')) {
  const tables = testTables();
  return { clock, tables, pseudonyms: await Pseudonyms.open(tables, () => clock.now().getTime()) };
}

describe('pseudonyms', () => {
  it('are the same for the same person however the keys are written, different for another, and never a real id', async () => {
    const { tables, clock, pseudonyms } = await open();
    const a = pseudonyms.of(ADELE);
    expect(pseudonyms.of({ ids: ['6b8f1c2e-2a44-4d8f-9a5b-0c1d2e3f4a5b'] })).toEqual(a);
    expect(pseudonyms.of(BRUNO).id).not.toBe(a.id);
    expect(isPseudonym(a.id)).toBe(true);
    expect(isPseudonym('29:adele')).toBe(false);
    expect(a.name).toMatch(/^Former member [0-9a-f]{4}$/);
    // Another instance on the same storage uses the same secret: the same stand-in.
    const again = await Pseudonyms.open(tables, () => clock.now().getTime());
    expect(again.of(ADELE)).toEqual(a);
  });

  it('derive from a secret of the storage account: another account gives another stand-in', async () => {
    const one = await open();
    const two = await open();
    expect(two.pseudonyms.of(ADELE).id).not.toBe(one.pseudonyms.of(ADELE).id);
  });
});

describe('confirmation tokens', () => {
  it('confirm exactly the keys they were made for, for an hour', async () => {
    const { clock, pseudonyms } = await open();
    const token = pseudonyms.confirmation(ADELE);
    expect(pseudonyms.confirms(ADELE, token)).toBe(true);
    expect(pseudonyms.confirms({ ids: [...ADELE.ids].reverse() }, token)).toBe(true);
    // The same token with someone else's keys (edited card data) is refused.
    expect(pseudonyms.confirms(BRUNO, token)).toBe(false);
    expect(pseudonyms.confirms({ ids: [...ADELE.ids, ...BRUNO.ids] }, token)).toBe(false);
    expect(pseudonyms.confirms(ADELE, token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).toBe(false);
    expect(pseudonyms.confirms(ADELE, 'not-a-token')).toBe(false);
    clock.advance(3_600_000);
    expect(pseudonyms.confirms(ADELE, token)).toBe(false);
  });

  it('confirm the name the card showed too: a click with the name edited is refused', async () => {
    // The name also finds what names the person (live downloads, kept answers): an edited one must not be used.
    const { pseudonyms } = await open();
    const named = { ...ADELE, name: 'Adele Vance' };
    const token = pseudonyms.confirmation(named);
    expect(pseudonyms.confirms(named, token)).toBe(true);
    expect(pseudonyms.confirms({ ...ADELE, name: 'e' }, token)).toBe(false);
    expect(pseudonyms.confirms(ADELE, token)).toBe(false);
  });
});
