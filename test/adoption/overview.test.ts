import { describe, expect, it } from 'vitest';
import { measureStatus, STATE_LABEL } from '../../src/adoption/overview.js';
import { parseMeasures } from '../../src/adoption/measures.js';
import type { Figure } from '../../src/adoption/figures.js';

const figure = (value: number, date = '2026-06-01'): Figure => ({ measureId: 'flat', date, value, enteredBy: 'Lee Lead', enteredAt: `${date}T09:00:00Z`, via: 'card' });

describe('a measure whose target is level with its baseline (written so by hand)', () => {
  const [flat] = parseMeasures(
    'measures:\n  - { id: flat, name: Days to submit, unit: days, baseline: { value: 5, date: 2026-01-01 }, target: { value: 5, by: 2027-01-01 }, source: ims }\n',
  );

  it('is not shown "100 % of the way" nor met by a figure far from it: no progress is claimed, and only the target itself meets it', () => {
    expect(measureStatus(flat!, [figure(40)], [])).toMatchObject({ latest: { value: 40 }, progress: null });
    expect(measureStatus(flat!, [figure(40)], []).state).not.toBe('met');
    expect(measureStatus(flat!, [figure(5)], [])).toMatchObject({ latest: { value: 5 }, progress: null, state: 'met' });
  });

  it('reads a figure off its target as not judged, never "Behind": nothing says which side of it is better', () => {
    // 1 day to submit may be far better than 5, or 40 far worse: the file does not say which way the measure should go.
    for (const value of [1, 40]) {
      const status = measureStatus(flat!, [figure(value)], []);
      expect(status.state).toBe('level');
      expect(STATE_LABEL[status.state]).toBe('Not judged: the target equals the baseline');
    }
  });
});
