import { describe, expect, it } from 'vitest';
import { IssueLogFacts } from '../../src/broadcast/issue-facts.js';
import { amina, alice, bo, form, openStore } from '../issues/fixtures.js';

describe("the win rules' reading of the issue log", () => {
  it('counts resolved issues, open P1s, and who resolved what since a date, through the issue log\'s own reads', async () => {
    const { repo, queries, clock } = await openStore();
    clock.set('2026-01-10T09:00:00Z');
    const facts = new IssueLogFacts(queries, repo);
    expect(await facts.anyIssues()).toBe(false);

    const refs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await repo.logIssue(form({ title: `Problem ${i} with the tablet` }), alice, { idempotencyKey: `k${i}`, priority: i === 0 ? 'P1' : null });
      if (res.kind !== 'created') throw new Error(res.kind);
      refs.push(res.issue.ref);
    }
    expect(await facts.anyIssues()).toBe(true);
    expect(await facts.openP1()).toBe(1);

    // Amina resolves two in February, Bo one; the P1 is among Amina's.
    clock.set('2026-02-20T10:00:00Z');
    await repo.act(refs[1]!, { kind: 'status', status: 'resolved' }, bo);
    clock.set('2026-03-02T10:00:00Z');
    await repo.act(refs[0]!, { kind: 'status', status: 'resolved' }, amina);
    await repo.act(refs[2]!, { kind: 'status', status: 'resolved' }, amina);

    expect(await facts.openP1()).toBe(0);
    expect(await facts.resolvedCount(100)).toBe(3);
    expect(await facts.resolvedCount(2)).toBeGreaterThanOrEqual(2);
    const march = await facts.resolvedBy(new Date('2026-03-01T00:00:00Z'));
    expect([...march.entries()]).toEqual([[amina.id, { name: amina.name, count: 2 }]]);
  });
});
