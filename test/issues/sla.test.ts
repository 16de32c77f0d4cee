import { describe, expect, it } from 'vitest';
import type { IssueSummary } from '../../src/issues/model.js';
import { dueSlaEvents, SlaCheck, SlaMarks } from '../../src/issues/sla.js';
import { IssueQueries } from '../../src/issues/queries.js';
import { alice, amina, form, openStore } from './fixtures.js';

const config = { untriagedReminderMinutes: 240, escalationMinutes: 60 };
const MIN = 60_000;

function summary(over: Partial<IssueSummary>): IssueSummary {
  return {
    ref: 'R-0001',
    title: 't',
    status: 'new',
    priority: null,
    severity: 'minor',
    category: 'Other',
    site: 'North',
    assignee: null,
    reporter: { id: 'u', name: 'U' },
    affectedCount: 0,
    createdAt: '2026-03-02T09:00:00.000Z',
    ...over,
  };
}

describe('dueSlaEvents', () => {
  const at = (min: number) => new Date(Date.parse('2026-03-02T09:00:00Z') + min * MIN);

  it('reminds after the untriaged limit and escalates P1 or blocking issues after theirs', () => {
    const minor = summary({ ref: 'R-0001' });
    const blocks = summary({ ref: 'R-0002', severity: 'blocks' });
    const p1 = summary({ ref: 'R-0003', priority: 'P1' });
    const triaged = summary({ ref: 'R-0004', status: 'triaged', severity: 'blocks' });
    const all = [minor, blocks, p1, triaged];
    expect(dueSlaEvents(all, at(59), config)).toEqual([]);
    expect(dueSlaEvents(all, at(60), config).map((e) => [e.ref, e.kind, e.threshold])).toEqual([
      ['R-0002', 'escalation', 'escalate-60m'],
      ['R-0003', 'escalation', 'escalate-60m'],
    ]);
    expect(dueSlaEvents(all, at(240), config).map((e) => `${e.ref}:${e.kind}`)).toEqual([
      'R-0001:reminder',
      'R-0002:escalation',
      'R-0002:reminder',
      'R-0003:escalation',
      'R-0003:reminder',
    ]);
  });

  it('lets a priority a champion set decide urgency: a blocking issue set to P3 is not escalated, a minor one set to P1 is', () => {
    const demoted = summary({ ref: 'R-0001', severity: 'blocks', priority: 'P3' });
    const raised = summary({ ref: 'R-0002', severity: 'minor', priority: 'P1' });
    const unset = summary({ ref: 'R-0003', severity: 'blocks', priority: null });
    expect(dueSlaEvents([demoted, raised, unset], at(61), config).map((e) => `${e.ref}:${e.kind}`)).toEqual([
      'R-0002:escalation',
      'R-0003:escalation',
    ]);
  });
});

describe('SlaCheck on Azurite', () => {
  it('fires a reminder exactly once across runs, and stops once the issue is triaged', async () => {
    const { repo, queries, clock, tables } = await openStore();
    await repo.logIssue(form({ severity: 'minor' }), alice);
    await repo.logIssue(form({ severity: 'blocks' }), alice);
    const check = new SlaCheck(queries, await SlaMarks.open(tables), config, clock);

    expect(await check.run()).toEqual([]);
    clock.advance(61 * MIN);
    expect((await check.run()).map((e) => `${e.ref}:${e.kind}`)).toEqual(['R-0002:escalation']);
    expect(await check.run()).toEqual([]);
    await repo.act('R-0002', { kind: 'status', status: 'triaged' }, amina);
    clock.advance(200 * MIN);
    expect((await check.run()).map((e) => `${e.ref}:${e.kind}`)).toEqual(['R-0001:reminder']);
    clock.advance(60 * MIN);
    expect(await check.run()).toEqual([]);
  });

  it('fires once when two instances race, and again after a failed send is released', async () => {
    const { repo, queries, clock, tables, issueTables } = await openStore();
    await repo.logIssue(form({ severity: 'minor' }), alice);
    // Two instances: separate store and marks objects over the same tables.
    const other = new IssueQueries(issueTables, repo.counter, clock);
    const a = new SlaCheck(queries, await SlaMarks.open(tables), config, clock);
    const b = new SlaCheck(other, await SlaMarks.open(tables), config, clock);
    clock.advance(241 * MIN);
    const [ra, rb] = await Promise.all([a.run(), b.run()]);
    expect(ra.length + rb.length).toBe(1);
    const won = [...ra, ...rb][0]!;
    expect(won.threshold).toBe('remind-240m');
    expect([...(await a.run()), ...(await b.run())]).toEqual([]);

    await (ra.length ? a : b).release(won);
    const again = [...(await a.run()), ...(await b.run())];
    expect(again.map((e) => e.ref)).toEqual(['R-0001']);
  });

  it('escalates, at its next run, an untriaged issue raised to P1 after it was already older than the limit, once', async () => {
    const { repo, queries, clock, tables } = await openStore();
    await repo.logIssue(form({ severity: 'slows' }), alice);
    const check = new SlaCheck(queries, await SlaMarks.open(tables), config, clock);
    expect(await check.run()).toEqual([]);
    // Runs every few minutes, as the scheduler does: the issue passes the escalation limit while it is P3.
    for (let t = 0; t < 90; t += 5) {
      clock.advance(5 * MIN);
      expect(await check.run()).toEqual([]);
    }
    await repo.act('R-0001', { kind: 'priority', priority: 'P1' }, amina);
    clock.advance(5 * MIN);
    expect((await check.run()).map((e) => `${e.ref}:${e.kind}`)).toEqual(['R-0001:escalation']);
    clock.advance(5 * MIN);
    expect(await check.run()).toEqual([]);
  });

  it('does not escalate a lost device a champion lowered from P1 to P3 before the limit', async () => {
    const { repo, queries, clock, tables } = await openStore();
    await repo.logIssue(form({ severity: 'blocks' }), alice, { priority: 'P1' });
    const check = new SlaCheck(queries, await SlaMarks.open(tables), config, clock);
    expect(await check.run()).toEqual([]);
    clock.advance(10 * MIN);
    await repo.act('R-0001', { kind: 'priority', priority: 'P3' }, amina);
    for (let t = 0; t < 120; t += 5) {
      clock.advance(5 * MIN);
      expect(await check.run()).toEqual([]);
    }
  });
});
