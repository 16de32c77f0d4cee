import { describe, expect, it } from 'vitest';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { gapsCard } from '../../src/faq/cards.js';
import { decodePlace, encodePlace, type GapPlace, groupGaps, pageOfGaps, placeOf, withCardKeys } from '../../src/faq/gaps.js';
import { GAPS_PAGE_SIZE } from '../../src/faq/service.js';
import type { AskedQuestion } from '../../src/faq/questions.js';

let seq = 0;
function asked(question: string, askerKey: string, minute: number, day = 1): AskedQuestion {
  seq += 1;
  return {
    id: `2026-12-01_${String(seq).padStart(16, '0')}`,
    question,
    asker: { id: `29:${askerKey}`, aadObjectId: askerKey, name: askerKey },
    askedAt: new Date(Date.UTC(2026, 11, day, 9, minute)).toISOString(),
    answered: false,
    helpful: 0,
    notHelpful: 0,
  };
}

describe('the gaps list', () => {
  it('ranks a gap by how many people asked, so one person asking again and again does not push it up', () => {
    const onePerson = Array.from({ length: 5 }, (_, i) => asked('how do I reset the district code', 'aad-one', i));
    const twoPeople = [asked('printer offline at the health post', 'aad-a', 10), asked('printer offline at the health post', 'aad-b', 11)];
    const groups = groupGaps([...onePerson, ...twoPeople]);
    expect(groups.map((g) => [g.example, g.count, g.askers])).toEqual([
      ['printer offline at the health post', 2, 2],
      ['how do I reset the district code', 5, 1],
    ]);
  });

  it("names a group the same whichever of its questions a turn sees first (an older one's write can land late)", () => {
    const older = asked('where do I park my motorbike', 'aad-a', 1);
    const newer = asked('Where do I PARK my motorbike?', 'aad-b', 2);
    const seenEarly = groupGaps([newer]);
    const seenLater = groupGaps([older, newer]);
    expect(seenEarly).toHaveLength(1);
    expect(seenLater).toHaveLength(1);
    expect(seenLater[0]!.id).toBe(seenEarly[0]!.id);
    expect(seenLater[0]!.count).toBe(2);
  });

  it('gives a gap that comes back on a later day (its earlier questions answered or gone) a key of its own, so it gets a new card', () => {
    const first = groupGaps([asked('where do I park my motorbike', 'aad-a', 1, 1)]);
    const again = groupGaps([asked('where do I park my motorbike', 'aad-c', 1, 20)]);
    expect(again[0]!.id).not.toBe(first[0]!.id);
    // The same day's questions still share one key, whichever is seen first.
    const sameDay = groupGaps([asked('where do I park my motorbike', 'aad-d', 50, 20)]);
    expect(sameDay[0]!.id).toBe(again[0]!.id);
  });

  it("names a group after the card already posted for a differently worded question in it, not after its own seed", () => {
    const posted = groupGaps([asked('where can I charge the solar lantern at the health post', 'aad-a', 5)])[0]!;
    // Another wording, stamped earlier but seen later, now seeds the group.
    const later = groupGaps([
      asked('is there a solar lantern charging point at the health post building', 'aad-b', 4),
      asked('where can I charge the solar lantern at the health post', 'aad-a', 5),
    ]);
    expect(later[0]!.id).not.toBe(posted.id);
    const claims = new Map([[posted.days[0]!, [{ key: posted.id, terms: posted.terms }]]]);
    expect(withCardKeys(later, claims).map((g) => g.id)).toEqual([posted.id]);
    // A card is one group's only: of two groups like it, the more alike takes it; a card of another day is not taken.
    const two = groupGaps([asked('solar lantern charging health post', 'aad-c', 6), asked('solar lantern', 'aad-d', 7)], 0.9);
    expect(two).toHaveLength(2);
    const keys = withCardKeys(two, claims).map((g) => g.id);
    expect(keys.filter((k) => k === posted.id)).toHaveLength(1);
    expect(withCardKeys(later, new Map([['2026-11-30', [{ key: posted.id, terms: posted.terms }]]]))[0]!.id).toBe(later[0]!.id);
  });
});

describe('the gaps list card', () => {
  it('500 long unanswered questions: every page fits what Teams accepts, and paging reaches every gap', () => {
    // 100 gaps, each asked in 5 wordings of the 500 characters a question is read up to (pasted error logs).
    const questions: AskedQuestion[] = [];
    for (let g = 0; g < 100; g++) {
      const base = Array.from({ length: 80 }, (_, i) => `g${g}word${i}`).join(' ').slice(0, 490);
      for (let v = 0; v < 5; v++) questions.push(asked(`${base} v${v}`, `aad-${g}-${v}`, v, 1 + (g % 20)));
    }
    const groups = groupGaps(questions);
    expect(groups).toHaveLength(100);
    const seen = new Set<string>();
    let after: GapPlace | undefined;
    for (let page = 1; seen.size < groups.length && page <= groups.length; page++) {
      const { items, start } = pageOfGaps(groups, GAPS_PAGE_SIZE, after ? { after } : {});
      const next = start + items.length < groups.length ? encodePlace(placeOf(items.at(-1)!)) : '';
      const card = gapsCard({ days: 30, asOf: '2026-12-21T09:00:00.000Z', groups: items, start, total: groups.length, before: '', after: next, note: '' });
      expect(utf16Bytes(card), `page ${page}`).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
      for (const m of JSON.stringify(card).matchAll(/"groupId":"([^"]+)"/g)) seen.add(m[1]!);
      after = decodePlace(next);
    }
    expect(seen.size).toBe(100);
  });
});

describe('grouping many open questions', () => {
  it('2,000 different open questions: each is compared only with the groups it shares a word with, not with every group', () => {
    // Distinct wordings over a varied vocabulary: nearly every question is a gap of its own.
    let seed = 7;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const questions = Array.from({ length: 2000 }, (_, i) =>
      asked(Array.from({ length: 6 }, () => `term${Math.floor(rnd() * 3000)}`).join(' '), `aad-many-${i}`, i % 60, 1 + (i % 14)),
    );
    // The work, counted: every set lookup made while grouping (a stop-word check is one per word).
    const has = Set.prototype.has;
    let lookups = 0;
    Set.prototype.has = function (this: Set<unknown>, value: unknown) {
      lookups++;
      return has.call(this, value);
    };
    let groups;
    try {
      groups = groupGaps(questions);
    } finally {
      Set.prototype.has = has;
    }
    expect(groups.length).toBeGreaterThan(1900);
    // Every question against every group would be about 2,000 × 1,000 × 6 lookups; by shared words, a few per word.
    expect(lookups).toBeLessThan(200_000);
  });

  it('groups exactly as comparing every question with every group in order would: alike to two, it joins the older', () => {
    const wordings = [
      'where do I park my motorbike',
      'park motorbike where',
      'printer offline',
      'printer offline at the health post',
      'is the printer offline',
      'motorbike fuel',
      'fuel for the motorbike please',
      // Half alike to the printer gap and half to the fuel one: the printer gap's seed is older.
      'printer offline motorbike fuel',
    ];
    const questions = wordings.map((w, i) => asked(w, `aad-order-${i}`, i));
    expect(groupGaps(questions).map((g) => [...g.questions].sort())).toEqual([
      ['is the printer offline', 'printer offline', 'printer offline at the health post', 'printer offline motorbike fuel'],
      ['fuel for the motorbike please', 'motorbike fuel'],
      ['park motorbike where', 'where do I park my motorbike'],
    ]);
  });
});
