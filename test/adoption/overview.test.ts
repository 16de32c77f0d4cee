import { describe, expect, it } from 'vitest';
import { measureStatus } from '../../src/adoption/overview.js';
import { parseMeasures } from '../../src/adoption/measures.js';
import type { Figure } from '../../src/adoption/figures.js';

const figure = (value: number, date = '2026-06-01'): Figure => ({ measureId: 'flat', date, value, enteredBy: 'Lee Lead', enteredAt: `${date}T09:00:00Z`, via: 'card' });

describe('a measure whose target is level with its baseline (written so by hand)', () => {
  const [flat] = parseMeasures(
    'measures:\n  - { id: flat, name: Days to submit, unit: days, baseline: { value: 5, date: 2026-01-01 }, target: { value: 5, by: 2027-01-01 }, source: ims }\n',
  );

  it('is not shown "100 % of the way" nor met by a figure far from it: no progress is claimed, and only the target itself meets it', () => {
    expect(measureStatus(flat!, [figure(40)], [])).toMatchObject({ latest: { value: 40 }, progress: null, state: 'behind' });
    expect(measureStatus(flat!, [figure(1)], [])).toMatchObject({ latest: { value: 1 }, progress: null, state: 'behind' });
    expect(measureStatus(flat!, [figure(5)], [])).toMatchObject({ latest: { value: 5 }, progress: null, state: 'met' });
  });
});
