import { describe, expect, it } from 'vitest';
import { isReferenceOnly, parseRef } from '../../src/issues/refs.js';

describe('parseRef', () => {
  it('reads references typed as "#12" or "R12" as the same issue as "R-0012"', () => {
    for (const typed of ['#12', ' #0012 ', 'R12', 'r0012', 'r-12', 'R-0012 ']) {
      expect(parseRef(typed, 'R-')?.ref, typed).toBe('R-0012');
    }
  });

  it('still rejects text that is not a reference', () => {
    for (const typed of ['#', 'R-', 'R-12a', '#-12', '12 13', 'X-12']) {
      expect(parseRef(typed, 'R-'), typed).toBeNull();
    }
  });

  it('reads a reference asked about or ending a sentence ("R-0042?", "#42.") as that reference', () => {
    expect(parseRef('R-0042?', 'R-')?.ref).toBe('R-0042');
    expect(parseRef('#42.', 'R-')?.ref).toBe('R-0042');
    expect(parseRef('r42!', 'R-')?.ref).toBe('R-0042');
  });
});

describe('isReferenceOnly', () => {
  it('is a message that is one marked reference, not a bare number or a sentence naming one', () => {
    for (const typed of ['R-0042', 'r-42?', '#42', 'R42.', ' R-0042 ']) expect(isReferenceOnly(typed, 'R-'), typed).toBe(true);
    for (const typed of ['42', '42?', 'is R-0042 fixed', 'R-', '#', 'Report', 'R-0042 R-0043']) expect(isReferenceOnly(typed, 'R-'), typed).toBe(false);
  });
});
