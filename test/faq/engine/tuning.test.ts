import { describe, expect, it } from 'vitest';
import { buildIndex, DEFAULT_TUNING, parseTuning } from '../../../src/faq/engine/index.js';

describe('parseTuning (faq:eval --tuning)', () => {
  it('reads known knobs, and the index is built with them over the defaults', () => {
    const tuning = parseTuning('{"idfPower": 0.9, "sameDocFactor": 1}');
    expect(tuning).toEqual({ idfPower: 0.9, sameDocFactor: 1 });
    const index = buildIndex([], tuning);
    expect(index.tuning.idfPower).toBe(0.9);
    expect(index.tuning.k1).toBe(DEFAULT_TUNING.k1);
  });

  it('names an unknown knob instead of silently measuring the default engine', () => {
    expect(() => parseTuning('{"idfPowr": 1}')).toThrow(/unknown knob "idfPowr".*idfPower/);
  });

  it('refuses non-numbers, negatives, arrays and bad JSON with a message', () => {
    expect(() => parseTuning('{"k1": "1.2"}')).toThrow(/"k1" must be a number/);
    expect(() => parseTuning('{"k1": -1}')).toThrow(/"k1" must be a number/);
    expect(() => parseTuning('[1]')).toThrow(/JSON object/);
    expect(() => parseTuning('{k1: 1}')).toThrow(/not JSON/);
  });
});
