import { describe, expect, it } from 'vitest';
import { pulseCard } from '../../src/adoption/cards.js';
import { type IssueEvent, personHash } from '../../src/adoption/events.js';
import { FigureStore } from '../../src/adoption/figures.js';
import { AdoptionPersonalData } from '../../src/adoption/privacy.js';
import { respondentKey, textKey } from '../../src/adoption/pulse.js';
import type { PulseResult } from '../../src/adoption/metrics.js';
import { type AdoptionCaller, PulseService } from '../../src/adoption/pulse-service.js';
import { PulseStore } from '../../src/adoption/pulse-store.js';
import { EventStore } from '../../src/adoption/store.js';
import { ManualClock } from '../../src/clock.js';
import type { Subject } from '../../src/privacy/personal-data.js';
import { collect, type Tables } from '../../src/storage/tables.js';
import { CapturedOutbox } from '../support/outbox.js';
import { testTables } from '../support/storage.js';

/*
 * The adoption feature's privacy duties on the real stores (Azurite): a person's pulse answer, the pulse
 * they sent, the figure they entered and the issue actions counted for them — what `my data` hands over,
 * what `forget` leaves (the same results, nobody's key) and what retention deletes.
 */

const lead: AdoptionCaller = { person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' };
const staff = (n: number): AdoptionCaller => ({ person: { id: `aad-staff-${n}`, name: `Staff ${n}` }, role: 'staff' });
const STAFF = [0, 1, 2].map(staff);
const DIEGO = STAFF[0]!;
const DIEGO_SUBJECT: Subject = { ids: ['29:diego-teams', 'AAD-STAFF-0'], name: 'Staff 0' };
const STAND_IN = { id: 'former-3f9a', name: 'Former member 3f9a' };

async function world() {
  const tables = testTables();
  const clock = new ManualClock('2027-01-11T09:00:00Z');
  const store = await PulseStore.open(tables);
  const figures = await FigureStore.open(tables);
  const events = await EventStore.open(tables);
  // A new service has no results cache: what it shows is what the tables hold.
  const service = () =>
    new PulseService({
      store,
      outbox: new CapturedOutbox(),
      resolveAudience: async () => ({ ok: true, userKeys: STAFF.map((s) => s.person.id), label: 'Staff' }),
      clock,
      minAnswers: 1,
      openDays: 14,
      questionCard: (p, a, n) => pulseCard(p, 1, a, n),
    });
  const pulses = service();
  const sent = await pulses.send(
    lead,
    { title: 'How is it going?', q1Kind: 'scale', q1Text: 'How confident are you?', q2Kind: 'text', q2Text: 'What would help?' },
    { kind: 'everyone' },
  );
  if (sent.kind !== 'sent') throw new Error(JSON.stringify(sent.errors));
  const pulse = sent.pulse;
  await pulses.answer(DIEGO, pulse.id, { q1: '2', q2: 'More practice reports' });
  await pulses.answer(STAFF[1]!, pulse.id, { q1: '5', q2: 'Nothing, it is fine' });
  // Counted, as the scheduled job does after a look asked for it.
  await pulses.results(lead, pulse.id);
  await pulses.recountDue();
  const data = new AdoptionPersonalData({ pulses: store, figures, events, clock });
  return { tables, clock, store, figures, events, pulses, service, pulse, data };
}

/** A result as a look shows it, leaving out when the next count may come (it moves with the clock). */
const withoutAsk = (r: PulseResult | undefined) => {
  const { nextCountAt: _next, ...rest } = r ?? ({} as PulseResult);
  return rest;
};

/** Every row of the adoption feature's tables, as text. */
async function adoptionRows(tables: Tables): Promise<string> {
  const names = ['Pulses', 'PulseAnswers', 'PulseResults', 'AdoptionFigures', 'AdoptionEvents'];
  const rows = await Promise.all(names.map(async (n) => collect((await tables.table(n)).listEntities())));
  return JSON.stringify(rows);
}

const event = (actor: string): IssueEvent => ({
  key: 'R-0001|v2|triaged',
  kind: 'triaged',
  day: '2027-01-11',
  at: '2027-01-11T10:00:00.000Z',
  ref: 'R-0001',
  category: 'access',
  site: 'North',
  priority: 'P2',
  urgent: false,
  minutes: 60,
  actor,
});

describe('the adoption feature’s personal data', () => {
  it('`my data` gives the person their own pulse answer, the figure they entered and the pulse they sent, and nobody else’s answer', async () => {
    const w = await world();
    const mine = await w.data.export(DIEGO_SUBJECT);
    expect(mine.pulseAnswers).toEqual([
      {
        pulse: w.pulse.id,
        title: 'How is it going?',
        at: '2027-01-11T09:00:00.000Z',
        answers: [
          { question: 'How confident are you?', answer: '2 of 5' },
          { question: 'What would help?', answer: 'More practice reports' },
        ],
      },
    ]);
    expect(mine.pulsesReceived).toEqual([{ pulse: w.pulse.id, title: 'How is it going?', sentAt: w.pulse.sentAt }]);
    expect(JSON.stringify(mine)).not.toContain('Nothing, it is fine');
    expect(mine.pulsesSent).toEqual([]);

    await w.figures.save([{ measureId: 'report-days', date: '2027-01-10', value: 42 }], { id: lead.person.id, name: lead.person.name, via: 'card', at: w.clock.now() });
    const leads = await w.data.export({ ids: ['AAD-LEAD'], name: 'Lee Lead' });
    expect(leads.pulseAnswers).toEqual([]);
    expect(leads.pulsesSent).toEqual([{ pulse: w.pulse.id, title: 'How is it going?', audience: 'Staff', sentAt: w.pulse.sentAt }]);
    expect(leads.figuresEntered).toEqual([{ measure: 'report-days', date: '2027-01-10', value: 42, enteredAt: '2027-01-11T09:00:00.000Z', via: 'card' }]);
    expect((await w.data.export(DIEGO_SUBJECT)).figuresEntered).toEqual([]);
  });

  it('after `forget` the pulse results still count the answer, and the person’s keys appear nowhere in the adoption tables', async () => {
    const w = await world();
    await w.figures.save([{ measureId: 'report-days', date: '2027-01-10', value: 42 }], { id: DIEGO.person.id, name: 'Staff 0', via: 'tab', at: w.clock.now() });
    // A figure of theirs the lead replaced: the lead's figure notes whose it replaced.
    await w.figures.save([{ measureId: 'report-days', date: '2027-01-09', value: 40 }], { id: DIEGO.person.id, name: 'Staff 0', via: 'tab', at: w.clock.now() });
    await w.figures.save([{ measureId: 'report-days', date: '2027-01-09', value: 41 }], { id: lead.person.id, name: lead.person.name, via: 'card', at: w.clock.now() });
    expect((await w.data.export(DIEGO_SUBJECT)).figuresOfTheirsReplaced).toEqual([{ measure: 'report-days', date: '2027-01-09', theirValue: 40, replacedWith: 41 }]);
    await w.events.record([event(personHash('29:diego-teams'))]);
    const before = await w.pulses.results(lead, w.pulse.id);
    expect(before).toMatchObject({ answers: 2, shown: true });

    const described = await w.data.describe(DIEGO_SUBJECT);
    expect(Object.fromEntries(described.holdings.map((h) => [h.kind, h.count]))).toEqual({
      'adoption.pulseAnswers': 1,
      'adoption.pulseRecipients': 1,
      'adoption.figures': 1,
      'adoption.figuresReplaced': 1,
      'adoption.events': 1,
    });
    await w.data.forget(DIEGO_SUBJECT, STAND_IN);
    expect((await w.figures.all()).find((f) => f.date === '2027-01-09')?.replaced).toEqual({ value: 40, enteredBy: STAND_IN.name, enteredById: STAND_IN.id });

    // Once forget is done, before any count: nothing keyed to them, not even the free-text pages as last counted.
    const done = await adoptionRows(w.tables);
    for (const id of ['aad-staff-0', '29:diego-teams']) {
      expect(done).not.toContain(respondentKey(w.pulse, id));
      expect(done).not.toContain(textKey(respondentKey(w.pulse, id), 'q2'));
    }
    // The same results, the free text included: before the count `forget` asked for, and after it.
    expect(withoutAsk(await w.service().results(lead, w.pulse.id))).toEqual(withoutAsk(before));
    w.clock.advance(60_000);
    expect(await w.service().recountDue()).toBe(1);
    const after = await w.service().results(lead, w.pulse.id);
    expect(withoutAsk(after)).toEqual({ ...withoutAsk(before), asOf: '2027-01-11T09:01:00.000Z' });
    const rows = await adoptionRows(w.tables);
    for (const id of ['aad-staff-0', '29:diego-teams']) {
      expect(rows).not.toContain(respondentKey(w.pulse, id));
      expect(rows).not.toContain(personHash(id));
    }
    expect(rows).not.toContain('aad-staff-0');
    expect(rows).not.toContain('Staff 0');
    expect(rows).toContain('More practice reports');
    expect(rows).toContain(personHash(STAND_IN.id));
    expect(await w.figures.all()).toMatchObject([{ value: 41, enteredBy: lead.person.name }, { value: 42, enteredBy: STAND_IN.name, enteredById: STAND_IN.id }]);
    // The other respondent still has their own answer and may change it.
    expect(await w.pulses.answerForm(STAFF[1]!, w.pulse.id)).toMatchObject({ kind: 'form', answers: { q1: 5 } });
    // The forgotten person is no longer among the recipients.
    expect(await w.pulses.answer(DIEGO, w.pulse.id, { q1: '1' })).toEqual({ kind: 'message', text: 'This pulse was not sent to you.' });

    // Nothing left: forget again changes nothing.
    expect((await w.data.describe(DIEGO_SUBJECT)).holdings).toEqual([]);
    await w.data.forget(DIEGO_SUBJECT, STAND_IN);
    expect(await adoptionRows(w.tables)).toBe(rows);
  });

  it('retention deletes the answers of pulses closed before the period and keeps their scale results, not their free text', async () => {
    const w = await world();
    const closedAt = new Date(w.pulse.closesAt);
    // Still open at the cut-off: nothing goes.
    expect(await w.data.expire(new Date(closedAt.getTime() - 1000), 100)).toBe(0);
    expect(await w.data.expire(new Date(closedAt.getTime() + 1000), 2)).toBe(2);
    expect(await w.data.expire(new Date(closedAt.getTime() + 1000), 100)).toBe(3); // 2 answers + 3 recipients in all
    expect(await w.data.expire(new Date(closedAt.getTime() + 1000), 100)).toBe(0);

    const rows = await adoptionRows(w.tables);
    expect(rows).not.toContain('More practice reports');
    expect(rows).not.toContain(respondentKey(w.pulse, DIEGO.person.id));
    const result = await w.pulses.results(lead, w.pulse.id);
    expect(result?.answers).toBe(2);
    expect(result?.questions[0]?.result).toEqual({ kind: 'scale', counts: [0, 1, 0, 0, 1], mean: 3.5 });
    expect(result?.questions[1]?.result).toEqual({ kind: 'text', answers: [], more: 0, next: null });
    expect((await w.data.export(DIEGO_SUBJECT)).pulseAnswers).toEqual([]);
  });
});
