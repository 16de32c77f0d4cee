import { describe, expect, it } from 'vitest';
import { asksForOfficeHours } from '../../src/officehours/recognise.js';

describe('questions answered from the live schedule', () => {
  it('recognises asking when office hours are, in everyday wordings', () => {
    for (const q of [
      'When are office hours?',
      'when is the next office hour',
      'office hours?',
      'Is there an office hours session this week?',
      'what time is the deadline clinic',
      'How do I book office hours',
      'any drop-in tomorrow?',
    ]) {
      expect(asksForOfficeHours(q), q).toBe(true);
    }
  });

  it('leaves other questions, also ones mentioning office hours in passing, to the FAQ', () => {
    for (const q of [
      'the submit button is greyed out',
      'when is the monthly report due',
      'my tablet will not sync since the office hours yesterday helped me reset it and now it fails again',
      'how do I reset my password',
    ]) {
      expect(asksForOfficeHours(q), q).toBe(false);
    }
  });
});
