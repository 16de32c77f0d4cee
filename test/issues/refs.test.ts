import { describe, expect, it } from 'vitest';
import { parseRef } from '../../src/issues/refs.js';

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
});
