import { afterEach, describe, expect, it, vi } from 'vitest';
import { pulseCard, pulseResultsCard } from '../../src/adoption/cards.js';
import { type Pulse, readTextCursor, respondentKey, textKey } from '../../src/adoption/pulse.js';
import { type AdoptionCaller, PulseService } from '../../src/adoption/pulse-service.js';
import { PulseStore } from '../../src/adoption/pulse-store.js';
import { ManualClock } from '../../src/clock.js';
import { mapLimit } from '../../src/map-limit.js';
import { CapturedOutbox } from '../support/outbox.js';
import { readable } from '../support/app.js';
import { testTables } from '../support/storage.js';
import { reads } from '../support/table-reads.js';

/*
 * A pulse's results as its answers grow: a Refresh press (and the dashboard's Pulse panel) must read what it
 * shows, not every answer there is — 10,000 answers are ten pages of table reads, past Teams' turn limit.
 * Rows and calls are counted, not timed.
 */

const lead: AdoptionCaller = { person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' };

async function world() {
  const clock = new ManualClock('2027-01-11T09:00:00Z');
  const store = await PulseStore.open(testTables());
  // A new service each time: no instance's memory helps a press.
  const service = () =>
    new PulseService({
      store,
      outbox: new CapturedOutbox(),
      resolveAudience: async () => ({ ok: true, userKeys: ['aad-staff-0'], label: 'Staff' }),
      clock,
      minAnswers: 5,
      openDays: 14,
      questionCard: (p, a, n) => pulseCard(p, 5, a, n),
    });
  const res = await service().send(
    lead,
    { title: 'How is it going?', q1Kind: 'scale', q1Text: 'How confident are you?', q2Kind: 'choice', q2Text: 'Where first?', q2Options: 'Desk\nChampion', q3Kind: 'text', q3Text: 'What would help?' },
    { kind: 'everyone' },
  );
  if (res.kind !== 'sent') throw new Error(JSON.stringify(res.errors));
  return { clock, store, service, pulse: res.pulse };
}

/** Answers `from`..`to`-1 as stored rows (one per respondent key). */
async function answered(w: Awaited<ReturnType<typeof world>>, from: number, to: number): Promise<void> {
  const ids = Array.from({ length: to - from }, (_, i) => from + i);
  await mapLimit(ids, 16, (i) => w.store.saveAnswer(w.pulse.id, `r-${String(i).padStart(6, '0')}`, { q1: (i % 5) + 1, q2: i % 2, q3: `Answer ${i}` }, w.clock.now()));
}

afterEach(() => vi.restoreAllMocks());

/** The scheduled job's run ten minutes on (an open pulse is counted again that often), on another instance. */
async function counted(w: Awaited<ReturnType<typeof world>>): Promise<void> {
  w.clock.advance(10 * 60_000);
  await w.service().recountDue();
}

/** The results card as a reader sees its text. */
const shownText = (r: Parameters<typeof pulseResultsCard>[0]) => readable([{ type: 'message', attachments: [{ contentType: 'card', content: pulseResultsCard(r, 'https://x') }] }]);

describe('pulse results, with many answers', () => {
  it('reads as much for a Refresh press at 1,210 answers as at 10, and still counts every answer', { timeout: 120_000 }, async () => {
    const w = await world();
    await answered(w, 0, 10);
    await counted(w);
    const few = await reads(() => w.service().results(lead, w.pulse.id));
    expect(few.value).toMatchObject({ answers: 10, shown: true, asOf: '2027-01-11T09:10:00.000Z' });
    await answered(w, 10, 1210);
    await counted(w);
    const many = await reads(() => w.service().results(lead, w.pulse.id));
    expect(many.value).toMatchObject({ answers: 1210, shown: true });
    // Counted as the app's messages write numbers, thousands separated.
    expect(shownText(many.value!)).toContain('1,210 answered as of 2027-01-11');
    expect(many.value?.questions[0]?.result).toEqual({ kind: 'scale', counts: [242, 242, 242, 242, 242], mean: 3 });
    expect(many.value?.questions[2]?.result).toMatchObject({ kind: 'text', more: 1160 });
    expect(many.rows).toBeLessThanOrEqual(few.rows);
    expect(many.calls).toBeLessThanOrEqual(few.calls);
    // The pulse, its summary and the first page of its free-text question.
    expect(many.calls).toBe(3);
  });

  it('reads a bounded number of rows for the dashboard’s Pulse panel and its next pages of free text, and pages through every answer', { timeout: 120_000 }, async () => {
    const w = await world();
    await answered(w, 0, 10);
    await counted(w);
    const range = { from: '2027-01-01', to: '2027-01-31' };
    const few = await reads(() => w.service().pulse(range));
    await answered(w, 10, 1210);
    await counted(w);
    const many = await reads(() => w.service().pulse(range));
    expect(many.value.pulses[0]).toMatchObject({ answers: 1210 });
    expect(many.rows).toBeLessThanOrEqual(few.rows);
    expect(many.calls).toBeLessThanOrEqual(few.calls);
    // Every page after the first, each from the `next` of the one before: a few rows each, every answer once.
    const first = many.value.pulses[0]!.questions[2]!.result;
    if (first?.kind !== 'text') throw new Error('not a text result');
    const seen = [...first.answers];
    let next = first.next;
    let most = 0;
    while (next) {
      const page = await reads(() => w.service().texts(lead, w.pulse.id, 'q3', readTextCursor(next!)));
      most = Math.max(most, page.calls);
      seen.push(...page.value!.answers);
      next = page.value!.next;
    }
    expect(seen).toHaveLength(1210);
    expect(new Set(seen).size).toBe(1210);
    // Halving 25 pages: at most 5 probes, the page after and the pulse and its summary.
    expect(most).toBeLessThanOrEqual(9);
  });
});

describe('pulse results from the summary', () => {
  it('counts a replaced answer once (the latest), shows nothing below the minimum, and says when it counted', { timeout: 60_000 }, async () => {
    const w = await world();
    const s = w.service();
    const answer = (i: number, q1: number) => w.store.saveAnswer(w.pulse.id, `r-${i}`, { q1, q2: 0 }, w.clock.now());
    for (let i = 0; i < 4; i++) await answer(i, 1);
    // The press shows the count as it stood (none yet), and asks for a fresh one.
    const stale = await s.results(lead, w.pulse.id);
    expect(stale).toMatchObject({ answers: 0, shown: false, asOf: '2027-01-11T09:00:00.000Z' });
    expect(shownText(stale!)).toContain('0 answered as of 2027-01-11 09:00 UTC');
    w.clock.advance(60_000);
    expect(await s.recountDue()).toBe(1);
    expect(await s.recountDue()).toBe(0); // asked once, counted once
    const four = await s.results(lead, w.pulse.id);
    expect(four).toMatchObject({ answers: 4, shown: false, asOf: '2027-01-11T09:01:00.000Z' });
    expect(shownText(four!)).toContain('Results appear once 5 people have answered (4 so far)');
    // A fifth person, and two change their answer: five answers, each person's latest.
    await answer(4, 5);
    await answer(0, 5);
    await answer(1, 5);
    await s.results(lead, w.pulse.id);
    w.clock.advance(60_000);
    await s.recountDue();
    const five = await s.results(lead, w.pulse.id);
    expect(five).toMatchObject({ answers: 5, shown: true, asOf: '2027-01-11T09:02:00.000Z' });
    expect(five?.questions[0]?.result).toEqual({ kind: 'scale', counts: [2, 0, 0, 0, 3], mean: 3.4 });
    expect(five?.questions[1]?.result).toEqual({ kind: 'choice', options: [{ label: 'Desk', count: 5 }, { label: 'Champion', count: 0 }] });
    expect(five?.questions[2]).toMatchObject({ answered: 0, result: null });
  });

  it('many Refresh presses make at most one full count a minute per pulse, and the card says when the next comes', { timeout: 60_000 }, async () => {
    const w = await world();
    await answered(w, 0, 30);
    // The first press after the send is counted at the next run (the count made at sending read nothing).
    await w.service().results(lead, w.pulse.id);
    expect(await w.service().recountDue()).toBe(1);
    // Ten seconds on, twenty people press Refresh (each on their own instance): the count stands, said as it is.
    w.clock.advance(10_000);
    await answered(w, 30, 40);
    let last: Awaited<ReturnType<PulseService['results']>>;
    for (let i = 0; i < 20; i++) last = await w.service().results(lead, w.pulse.id);
    const card = shownText(last!);
    expect(card).toContain('30 answered as of 2027-01-11 09:00 UTC');
    expect(card).toContain('the next count is made after 2027-01-11 09:01 UTC');
    // The job runs every few seconds meanwhile: no full count until the last one is a minute old.
    for (const s of [0, 20, 29]) {
      w.clock.set(new Date(Date.parse('2027-01-11T09:00:10Z') + s * 1_000));
      const counting = await reads(() => w.service().recountDue());
      expect(counting.value).toBe(0);
      expect(counting.rows).toBeLessThan(30);
    }
    w.clock.set('2027-01-11T09:01:00Z');
    expect(await w.service().recountDue()).toBe(1);
    expect(await w.service().recountDue()).toBe(0); // twenty presses, one count
    expect(await w.service().results(lead, w.pulse.id)).toMatchObject({ answers: 40, asOf: '2027-01-11T09:01:00.000Z' });
  });

  it('counts a pulse answered before results were summarised (no summary row) off the turn, and says so meanwhile', { timeout: 60_000 }, async () => {
    const w = await world();
    // As the version before this one stored it: the pulse, its recipients and answers, and no summary.
    const old: Pulse = { ...w.pulse, id: 'p-2027-01-10-0ld0ld00', sentAt: '2027-01-10T09:00:00.000Z' };
    await w.store.create(old, [respondentKey(old, 'aad-staff-0')]);
    for (let i = 0; i < 6; i++) await w.store.saveAnswer(old.id, `r-${i}`, { q1: 4, q3: `Old answer ${i}` }, w.clock.now());
    await w.store.saveAnswer(old.id, 'r-0', { q1: 2, q3: 'Changed my mind' }, w.clock.now());
    const counting = await reads(() => w.service().results(lead, old.id));
    expect(counting.rows).toBeLessThanOrEqual(3);
    expect(counting.value).toMatchObject({ shown: false, asOf: null });
    expect(shownText(counting.value!)).toContain('The answers are being counted: press Refresh results in a minute.');
    expect(shownText(counting.value!)).not.toContain('0 so far');
    w.clock.advance(60_000);
    await w.service().recountDue();
    const counted = await w.service().results(lead, old.id);
    expect(counted).toMatchObject({ answers: 6, shown: true, asOf: '2027-01-11T09:01:00.000Z' });
    expect(counted?.questions[0]?.result).toEqual({ kind: 'scale', counts: [0, 1, 0, 5, 0], mean: 3.67 });
    expect(counted?.questions[2]?.result).toMatchObject({ kind: 'text', answers: ['Changed my mind', 'Old answer 1', 'Old answer 2', 'Old answer 3', 'Old answer 4', 'Old answer 5'] });
  });

  it('counts a pulse whose answers retention deleted before this version from what it kept, without free text', { timeout: 60_000 }, async () => {
    const w = await world();
    const kept = Array.from({ length: 5 }, (_, i) => ({ q1: i + 1, q2: 1 }));
    const old: Pulse = { ...w.pulse, id: 'p-2026-01-10-0ld0ld01', sentAt: '2026-01-10T09:00:00.000Z', closesAt: '2026-01-24T09:00:00.000Z', keptAnswers: kept };
    await w.store.create(old, []);
    expect(await w.service().recountDue()).toBe(1);
    const counted = await w.service().results(lead, old.id);
    expect(counted).toMatchObject({ answers: 5, shown: true });
    expect(counted?.questions.map((q) => q.result)).toEqual([
      { kind: 'scale', counts: [1, 1, 1, 1, 1], mean: 3 },
      { kind: 'choice', options: [{ label: 'Desk', count: 0 }, { label: 'Champion', count: 5 }] },
      { kind: 'text', answers: [], more: 0, next: null },
    ]);
    expect(await w.service().recountDue()).toBe(0);
  });

  it('counts a pulse again after it closes, until a count a while after the close, which is final: a press then asks for no count', { timeout: 60_000 }, async () => {
    const w = await world();
    for (let i = 0; i < 4; i++) await w.store.saveAnswer(w.pulse.id, `r-${i}`, { q1: 3 }, w.clock.now());
    w.clock.set(w.pulse.closesAt);
    expect(await w.service().recountDue()).toBe(1);
    // An answer taken a moment before the close, written after that count (a slow turn, another instance's clock):
    // it is the fifth, so it is what makes the results shown at all.
    await w.store.saveAnswer(w.pulse.id, 'r-4', { q1: 3 }, new Date(Date.parse(w.pulse.closesAt) - 1_000));
    w.clock.advance(60_000);
    expect(await w.service().recountDue()).toBe(1);
    w.clock.advance(60_000);
    expect(await w.service().recountDue()).toBe(1);
    expect(await w.service().results(lead, w.pulse.id)).toMatchObject({ answers: 5, shown: true });
    w.clock.advance(60 * 60_000);
    expect(await w.service().recountDue()).toBe(0);
  });

  it('a pulse whose count fails does not hold up the others: they are counted, and it goes last until it can be', { timeout: 60_000 }, async () => {
    const w = await world();
    const other = await w.service().send(lead, { title: 'Second', q1Kind: 'scale', q1Text: 'How ready?' }, { kind: 'everyone' });
    if (other.kind !== 'sent') throw new Error('not sent');
    for (let i = 0; i < 5; i++) await w.store.saveAnswer(other.pulse.id, `r-${i}`, { q1: 4 }, w.clock.now());
    // Someone pressed Refresh on the first pulse, whose count storage refuses every time.
    await w.service().results(lead, w.pulse.id);
    const keyed = w.store.keyedAnswersTo.bind(w.store);
    vi.spyOn(w.store, 'keyedAnswersTo').mockImplementation(async (p) => (p.id === w.pulse.id ? Promise.reject(new Error('refused')) : keyed(p)));
    const service = w.service();
    w.clock.advance(10 * 60_000);
    await expect(service.recountDue()).rejects.toThrow('1 pulse(s) could not be counted');
    expect(await service.results(lead, other.pulse.id)).toMatchObject({ answers: 5, shown: true });
  });

  it('a pulse is sent even when its first (empty) count cannot be written: the job counts it later', { timeout: 60_000 }, async () => {
    const w = await world();
    const outbox = new CapturedOutbox();
    const service = new PulseService({
      store: w.store,
      outbox,
      resolveAudience: async () => ({ ok: true, userKeys: ['aad-staff-1', 'aad-staff-2'], label: 'Staff' }),
      clock: w.clock,
      minAnswers: 5,
      openDays: 14,
      questionCard: (p, a, n) => pulseCard(p, 5, a, n),
    });
    vi.spyOn(w.store, 'saveSummary').mockRejectedValueOnce(new Error('storage busy'));
    const res = await service.send(lead, { title: 'Third', q1Kind: 'scale', q1Text: 'How ready?' }, { kind: 'everyone' });
    expect(res.kind).toBe('sent');
    expect(outbox.messages.map((m) => m.key).sort()).toEqual(
      res.kind === 'sent' ? [`pulse|${res.pulse.id}|aad-staff-1`, `pulse|${res.pulse.id}|aad-staff-2`] : [],
    );
    expect(await service.recountDue()).toBeGreaterThanOrEqual(1);
  });
});

describe('a count and a forget at the same time', () => {
  it('a count that read the answers just before a forget moved one does not write the person\'s key back into the free-text pages', { timeout: 60_000 }, async () => {
    const w = await world();
    await answered(w, 0, 6);
    await counted(w);
    const person = 'r-000003';
    const stand = 'r-stand-in';
    const keysShown = async () => (await w.store.textPage(w.pulse.id, 'q3', 0)).map((e) => e.key);
    expect(await keysShown()).toContain(textKey(person, 'q3'));

    // The forget's pulse steps (src/adoption/privacy.ts) run once the count has read the answers, before it writes.
    const read = w.store.keyedAnswersTo.bind(w.store);
    let forgot = false;
    vi.spyOn(w.store, 'keyedAnswersTo').mockImplementation(async (p) => {
      const rows = await read(p);
      if (!forgot) {
        forgot = true;
        await w.store.moveAnswer(w.pulse.id, person, stand);
        await w.store.rekeyTexts(w.pulse, person, stand);
      }
      return rows;
    });
    await counted(w);
    expect(forgot).toBe(true);

    const keys = await keysShown();
    expect(keys).not.toContain(textKey(person, 'q3'));
    expect(keys).toContain(textKey(stand, 'q3'));
    expect(keys).toHaveLength(6);
  });
});
