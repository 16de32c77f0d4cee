import { describe, expect, it } from 'vitest';
import { measuresCard } from '../../src/adoption/cards.js';
import type { MeasureStatus } from '../../src/adoption/metrics.js';
import { MEASURE_LIMITS } from '../../src/adoption/measures.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { validationErrors } from '../support/cards.js';

describe('the measures card with as many measures as the file may hold', () => {
  const base: MeasureStatus = {
    ...{ id: '', name: '', unit: 'offices', source: 'ims', lowerIsBetter: false, state: 'behind', series: [] },
    ...{ baseline: { value: 12, date: '2026-09-01' }, target: { value: 250, by: '2027-03-31' }, latest: { value: 181, date: '2027-01-10' }, progress: 50, expected: 60 },
  };
  // Half computed by the bot (no figure entry), half from the IMS (each also a choice of the figure form).
  const statuses = Array.from({ length: MEASURE_LIMITS.measures }, (_, i): MeasureStatus =>
    ({ ...base, id: `measure-${i}`, name: `Share of district offices submitting the monthly return on time, measure ${i}`, ...(i % 2 ? {} : { source: 'bot', metric: 'weeklyActiveUsers' }) }));
  const card = (from?: number) =>
    measuresCard({ statuses, asOf: '2027-01-11T05:55:00Z', canEdit: true, version: 'abcdef123456', today: '2027-01-11', dashboardUrl: 'https://rollout-desk.example.org/tab/index.html', ...(from !== undefined ? { from } : {}) });
  const names = (c: unknown) => [...JSON.stringify(c).matchAll(/on time, measure (\d+)/g)].map((m) => Number(m[1]));
  const nextFrom = (c: unknown): number | undefined => {
    let found: number | undefined;
    JSON.stringify(c, (_k, v: unknown) => {
      const o = v as { verb?: string; data?: { from?: number } };
      if (o && typeof o === 'object' && o.verb === 'adoption.measures.show' && typeof o.data?.from === 'number') found = o.data.from;
      return v;
    });
    return found;
  };

  it('fits one Teams message, and shows the rest on "More measures", each measure once, every one editable', () => {
    const seen: number[] = [];
    // Page after page until the button leads back to the first.
    let from: number | undefined = 0;
    for (let page = 0; from !== undefined && (page === 0 || from > 0) && page < MEASURE_LIMITS.measures; page++) {
      const c = card(from);
      expect(utf16Bytes(c)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
      expect(validationErrors(c)).toEqual([]);
      const shown = names(c).filter((n, i, all) => all.indexOf(n) === i && JSON.stringify(c).includes(`"id":"measure-${n}"`));
      expect(shown.length).toBeGreaterThan(0);
      seen.push(...shown);
      from = nextFrom(c);
    }
    expect(seen).toEqual(statuses.map((_, i) => i));
    expect(from).toBe(0);
  });
});
