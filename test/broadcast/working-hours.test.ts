import { describe, expect, it } from 'vitest';
import { heldUntil, parseWorkingHours } from '../../src/broadcast/working-hours.js';

const hours = parseWorkingHours('Mon-Fri 08:00-18:00');

describe('working hours', () => {
  it('reads day ranges and lists, and says what is wrong', () => {
    expect(parseWorkingHours('Mon,Wed,Fri 07:30-16:00')).toEqual({ days: [1, 3, 5], start: 450, end: 960 });
    expect(parseWorkingHours('Sun-Thu 08:00-17:00').days).toEqual([1, 2, 3, 4, 7]);
    expect(() => parseWorkingHours('weekdays 8-6')).toThrow(/Mon-Fri 08:00-18:00/);
    expect(() => parseWorkingHours('Mon-Fri 18:00-08:00')).toThrow(/after its start/);
  });

  it('holds a message until the next working hour in the recipient\'s zone, not held when the zone is unknown', () => {
    // Friday 16:30 UTC = 19:30 in Nairobi: held until Monday 08:00 Nairobi (05:00 UTC).
    const friday = new Date('2027-01-15T16:30:00Z');
    expect(heldUntil(friday, 'Africa/Nairobi', hours)?.toISOString()).toBe('2027-01-18T05:00:00.000Z');
    expect(heldUntil(friday, 'Europe/London', hours)).toBeUndefined();
    expect(heldUntil(friday, undefined, hours)).toBeUndefined();
    expect(heldUntil(friday, 'Not/AZone', hours)).toBeUndefined();
    // Early morning: held until 08:00 the same day.
    expect(heldUntil(new Date('2027-01-12T03:00:00Z'), 'Africa/Nairobi', hours)?.toISOString()).toBe('2027-01-12T05:00:00.000Z');
  });

  it('a held message waits for 08:00 local across a daylight-saving change', () => {
    // Saturday 27 Mar 2027 in London (GMT); Monday 29 Mar is BST: 08:00 local = 07:00 UTC.
    expect(heldUntil(new Date('2027-03-27T12:00:00Z'), 'Europe/London', hours)?.toISOString()).toBe('2027-03-29T07:00:00.000Z');
  });
});
