import { describe, expect, it } from 'vitest';
import { alice, amina, bo, bob, form, openStore } from './fixtures.js';

describe('IssueQueries and IssueRepository: +1 and similar issues', () => {
  it('offers open look-alikes of the same category and site, and counts a +1 once per user', async () => {
    const { repo, queries } = await openStore();
    await repo.logIssue(form(), alice);
    await repo.logIssue(form({ site: 'South depot' }), alice);
    await repo.logIssue(
      form({
        title: 'Report totals are wrong',
        description: 'Monthly totals double count',
        category: 'Reports',
      }),
      alice,
    );
    const similar = await queries.findSimilarOpen({
      category: 'Access / login',
      site: 'north clinic',
      title: 'Account locked',
      description: 'I cannot log in, it says the account is locked',
    });
    expect(similar.map((s) => s.ref)).toEqual(['R-0001']);
    const none = await queries.findSimilarOpen({
      category: 'Access / login',
      site: 'North clinic',
      title: 'Printer jam',
      description: 'Paper stuck in tray two',
    });
    expect(none).toEqual([]);

    const plus = await repo.addAffected('R-0001', bob);
    expect(plus.kind === 'updated' && plus.issue.affected).toEqual([{ id: bob.id, name: bob.name }]);
    const twice = await repo.addAffected('R-0001', bob);
    expect(twice.kind).toBe('refused');
    const own = await repo.addAffected('R-0001', alice);
    expect(own).toMatchObject({ kind: 'refused', code: 'no-change' });
    expect((await queries.triageQueue({ site: 'North clinic' })).items[0]?.affectedCount).toBe(1);
  });

  it('counts 10 concurrent +1s from different users', async () => {
    const { repo } = await openStore();
    await repo.logIssue(form(), alice);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => repo.addAffected('R-0001', { id: `29:p${i}`, name: `P${i}` })),
    );
    expect((await repo.get('R-0001'))?.affected).toHaveLength(10);
  });
});

describe('IssueQueries: lists', () => {
  it('orders the queue New first, then by priority, then oldest first, and filters and pages it', async () => {
    const { repo, queries, clock } = await openStore();
    const log = async (over: Record<string, unknown>) => {
      clock.advance(60_000);
      const r = await repo.logIssue(form(over), alice);
      if (r.kind !== 'created') throw new Error('not created');
      return r.issue.ref;
    };
    const r1 = await log({ site: 'North clinic', category: 'Reports' });
    const r2 = await log({ site: 'South depot' });
    const r3 = await log({ site: 'North clinic' });
    const r4 = await log({ site: 'South depot', category: 'Reports' });
    const r5 = await log({ site: 'North clinic' });
    await repo.act(r2, { kind: 'status', status: 'triaged' }, amina);
    await repo.act(r2, { kind: 'priority', priority: 'P3' }, amina);
    await repo.act(r4, { kind: 'status', status: 'in_progress' }, amina);
    await repo.act(r4, { kind: 'priority', priority: 'P1' }, amina);
    await repo.act(r4, { kind: 'assignMe' }, amina);
    await repo.act(r3, { kind: 'priority', priority: 'P2' }, bo);
    await repo.act(r5, { kind: 'status', status: 'triaged' }, bo);
    await repo.act(r5, { kind: 'status', status: 'resolved' }, bo);

    const refs = async (filters: Parameters<typeof queries.triageQueue>[0]) =>
      (await queries.triageQueue(filters, { limit: 50 })).items.map((i) => i.ref);
    // New (P2 before none), then triaged/in progress by priority.
    expect(await refs({})).toEqual([r3, r1, r4, r2]);
    expect(await refs({ status: 'new' })).toEqual([r3, r1]);
    expect(await refs({ site: 'north clinic' })).toEqual([r3, r1]);
    expect(await refs({ site: 'South depot', category: 'Reports' })).toEqual([r4]);
    expect(await refs({ category: 'Reports', status: 'new' })).toEqual([r1]);
    expect(await refs({ assigneeId: amina.id })).toEqual([r4]);
    expect(await refs({ status: 'resolved' })).toEqual([r5]);

    const p1 = await queries.triageQueue({}, { limit: 3 });
    expect(p1.items.map((i) => i.ref)).toEqual([r3, r1, r4]);
    expect(p1.next).toBeTruthy();
    const p2 = await queries.triageQueue({}, { limit: 3, token: p1.next });
    expect(p2).toEqual({ items: [expect.objectContaining({ ref: r2 })], next: null });
    // A token that does not parse starts from the beginning rather than failing.
    expect((await queries.triageQueue({}, { limit: 1, token: 'garbage!' })).items[0]?.ref).toBe(r3);

    const mine = await queries.listByReporter(alice.id, { limit: 2 });
    expect(mine.items.map((i) => i.ref)).toEqual([r5, r4]);
    const rest = await queries.listByReporter(alice.id, { limit: 10, token: mine.next });
    expect(rest.items.map((i) => i.ref)).toEqual([r3, r2, r1]);
    expect(rest.items.find((i) => i.ref === r2)?.status).toBe('triaged');
    expect((await queries.untriaged()).map((i) => i.ref).sort()).toEqual([r1, r3]);
  });

  it('pages the archive across months, most recently closed first', async () => {
    const { repo, queries, clock } = await openStore();
    const refs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await repo.logIssue(form({ title: `Thing ${i}` }), alice);
      if (r.kind !== 'created') throw new Error('not created');
      refs.push(r.issue.ref);
    }
    for (const ref of refs) {
      clock.advance(20 * 24 * 3_600_000); // a closure every 20 days: spread over three months
      await repo.act(ref, { kind: 'status', status: 'wont_fix' }, amina);
    }
    const seen: string[] = [];
    let token: string | null = null;
    for (let n = 0; n < 10; n++) {
      const page = await queries.triageQueue({ status: 'wont_fix' }, { limit: 1, token });
      seen.push(...page.items.map((i) => i.ref));
      token = page.next;
      if (!token) break;
    }
    expect(seen).toEqual([...refs].reverse());
  });

  it('finds closed issues on the first archive page after months with no closures, and reads a forged month as the first page', async () => {
    const { repo, queries, clock } = await openStore();
    const r = await repo.logIssue(form({ title: 'Closed long ago' }), alice);
    if (r.kind !== 'created') throw new Error('not created');
    await repo.act(r.issue.ref, { kind: 'status', status: 'wont_fix' }, amina);
    clock.advance(300 * 24 * 3_600_000); // ten quiet months
    const first = await queries.triageQueue({ status: 'wont_fix' });
    expect(first.items.map((i) => i.ref)).toEqual([r.issue.ref]);
    expect(first.next).toBeNull();
    for (const m of ['209912', '202613', '202600']) {
      const forged = Buffer.from(JSON.stringify({ m })).toString('base64url');
      const page = await queries.triageQueue({ status: 'wont_fix' }, { token: forged });
      expect(page.items.map((i) => i.ref)).toEqual([r.issue.ref]);
    }
  });
});
