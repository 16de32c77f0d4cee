import { describe, expect, it } from 'vitest';
import { alice, amina, bo, bob, form, openStore, seedDoneIssues } from './fixtures.js';

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

describe('IssueQueries: the done list after more than five years without a closure', () => {
  it('finds issues closed six years ago on the first page instead of an empty page that says there is more', async () => {
    const { repo, queries, clock } = await openStore();
    clock.set(new Date('2019-01-15T08:00:00Z'));
    const refs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await repo.logIssue(form({ title: `Closed long ago ${i}` }), alice);
      if (r.kind !== 'created') throw new Error('not created');
      refs.push(r.issue.ref);
    }
    const [first, second] = refs as [string, string];
    clock.set(new Date('2019-06-10T08:00:00Z'));
    await repo.act(first, { kind: 'status', status: 'wont_fix' }, amina);
    clock.set(new Date('2019-09-10T08:00:00Z'));
    await repo.act(second, { kind: 'status', status: 'wont_fix' }, amina);
    clock.set(new Date('2026-03-02T09:00:00Z'));
    // Most recently closed first, as ever: the September one on the first page, then the June one.
    const pages: string[][] = [];
    let token: string | null = null;
    for (let n = 0; n < 5; n++) {
      const page = await queries.triageQueue({ status: 'wont_fix' }, { limit: 1, token });
      pages.push(page.items.map((i) => i.ref));
      token = page.next;
      if (!token) break;
      expect(page.items, 'a page that says there is more').not.toEqual([]);
    }
    expect(pages.slice(0, 2)).toEqual([[second], [first]]);
    expect(pages.flat()).toEqual([second, first]);
    // Nothing of that status at all: the list ends, it does not offer a next page of nothing.
    expect(await queries.triageQueue({ status: 'closed' })).toEqual({ items: [], next: null });
    // A search that matches none of them ends too, once nothing further back is left to search.
    expect(await queries.triageQueue({ status: 'wont_fix' }, undefined, { search: 'nowhere' })).toEqual({ items: [], next: null });
  });
});

describe('IssueQueries: a sorted done list reads the 1,000 most recently closed', () => {
  it('with 1,001 done issues, orders the 1,000 most recently closed and says so; the list in its own order still reaches the last', async () => {
    const { queries, repo, issueTables, clock } = await openStore();
    const refs = await seedDoneIssues(issueTables, repo.counter, { count: 1001, from: new Date('2026-02-01T08:00:00Z'), status: 'wont_fix' });
    clock.set(new Date('2026-02-03T08:00:00Z'));
    // The first seeded is the oldest logged and the least recently closed: beyond the cap of the sorted read.
    const oldest = await queries.triageQueue({ status: 'wont_fix', sort: 'oldest' }, { limit: 10 });
    expect(oldest.truncated).toBe(true);
    expect(oldest.items.map((i) => i.ref)).toEqual(refs.slice(1, 11));
    const newest = await queries.triageQueue({ status: 'wont_fix' }, { limit: 10 }, { sort: 'newest' });
    expect(newest).toMatchObject({ truncated: true, items: refs.slice(-10).reverse().map((ref) => ({ ref })) });
    // Unsorted, the archive pages by closing time with no cap: its last page holds the first one closed.
    let token: string | null = null;
    let last: string[] = [];
    for (let n = 0; n < 30; n++) {
      const page = await queries.triageQueue({ status: 'wont_fix' }, { limit: 50, token });
      expect(page.truncated).toBeUndefined();
      last = page.items.map((i) => i.ref);
      token = page.next;
      if (!token) break;
    }
    expect(last.at(-1)).toBe(refs[0]);
  });

  it('with exactly 1,000 done issues, orders them all and does not say there are more, also when older months are empty', async () => {
    const { queries, repo, issueTables, clock } = await openStore();
    // The first reference is months older than the done issues, so the read goes on into empty months.
    await repo.logIssue(form(), alice);
    clock.set(new Date('2026-06-01T08:00:00Z'));
    const refs = await seedDoneIssues(issueTables, repo.counter, { count: 1000, from: new Date('2026-06-01T08:00:00Z'), status: 'closed' });
    clock.set(new Date('2026-06-03T08:00:00Z'));
    const oldest = await queries.triageQueue({ status: 'closed', sort: 'oldest' }, { limit: 10 });
    expect(oldest.items.map((i) => i.ref)).toEqual(refs.slice(0, 10));
    expect(oldest.truncated).toBeUndefined();
  });
});

describe('IssueQueries: a sorted done list over more than five years of months', () => {
  const DAY = 24 * 3_600_000;

  it('does not say there are more when nothing was closed before the last five years', async () => {
    const { queries, repo, clock } = await openStore();
    clock.set(new Date('2020-01-15T08:00:00Z'));
    await repo.logIssue(form({ title: 'Logged at the start, still open' }), alice); // the archive's months begin here
    clock.set(new Date('2026-03-02T09:00:00Z'));
    const r = await repo.logIssue(form({ title: 'Closed this month' }), alice);
    if (r.kind !== 'created') throw new Error('not created');
    await repo.act(r.issue.ref, { kind: 'status', status: 'wont_fix' }, amina);
    const page = await queries.triageQueue({ status: 'wont_fix', sort: 'oldest' }, { limit: 10 });
    expect(page.items.map((i) => i.ref)).toEqual([r.issue.ref]);
    expect(page.truncated).toBeUndefined();
  });

  it('sorts in an issue closed more than five years ago instead of saying there are more', async () => {
    const { queries, repo, clock } = await openStore();
    clock.set(new Date('2020-01-15T08:00:00Z'));
    const old = await repo.logIssue(form({ title: 'Closed long ago' }), alice);
    if (old.kind !== 'created') throw new Error('not created');
    await repo.act(old.issue.ref, { kind: 'status', status: 'wont_fix' }, amina);
    clock.set(new Date('2026-03-02T09:00:00Z'));
    const recent = await repo.logIssue(form({ title: 'Closed this month' }), alice);
    if (recent.kind !== 'created') throw new Error('not created');
    await repo.act(recent.issue.ref, { kind: 'status', status: 'wont_fix' }, amina);
    clock.advance(DAY);
    const page = await queries.triageQueue({ status: 'wont_fix', sort: 'oldest' }, { limit: 10 });
    expect(page.items.map((i) => i.ref)).toEqual([old.issue.ref, recent.issue.ref]);
    expect(page.truncated).toBeUndefined();
  });

  it('still says there are more when more than five years back holds more than the rest of the 1,000', async () => {
    const { queries, repo, issueTables, clock } = await openStore();
    const refs = await seedDoneIssues(issueTables, repo.counter, { count: 1000, from: new Date('2020-02-01T08:00:00Z'), status: 'wont_fix' });
    clock.set(new Date('2026-03-02T09:00:00Z'));
    const recent = await repo.logIssue(form({ title: 'Closed this month' }), alice);
    if (recent.kind !== 'created') throw new Error('not created');
    await repo.act(recent.issue.ref, { kind: 'status', status: 'wont_fix' }, amina);
    const page = await queries.triageQueue({ status: 'wont_fix', sort: 'oldest' }, { limit: 10 });
    expect(page.truncated).toBe(true);
    // The most recently closed come first in what is sorted: never old ones in place of newer ones.
    expect(page.items.map((i) => i.ref)).toEqual([recent.issue.ref]);
    expect(refs).toHaveLength(1000);
  });
});

/** Logs an issue a minute after the last (its own site, so none is offered as similar) and gives its reference. */
function logOneAMinuteLater(repo: Awaited<ReturnType<typeof openStore>>['repo'], clock: Awaited<ReturnType<typeof openStore>>['clock']) {
  return async (): Promise<string> => {
    clock.advance(60_000);
    const r = await repo.logIssue(form({ site: `Site ${clock.now().getTime()}` }), alice);
    if (r.kind !== 'created') throw new Error('not created');
    return r.issue.ref;
  };
}

describe('IssueQueries: paging while issues change between two presses of Next', () => {
  it('the triage queue resumes after the last issue shown: one logged meanwhile that sorts after it is not skipped, none shown twice', async () => {
    const { repo, queries, clock } = await openStore();
    const log = logOneAMinuteLater(repo, clock);
    const [r1, r2, r3, r4] = [await log(), await log(), await log(), await log()];
    // Queue: the New ones first (r1, r2), then the triaged ones (r3, r4).
    await repo.act(r3!, { kind: 'status', status: 'triaged' }, amina);
    await repo.act(r4!, { kind: 'status', status: 'triaged' }, amina);
    const p1 = await queries.triageQueue({}, { limit: 2 });
    expect(p1.items.map((i) => i.ref)).toEqual([r1, r2]);
    // Logged between the presses: New, so it sorts after r2 (the last shown) and before r3.
    const r5 = await log();
    // And one shown on the first page is triaged: it moves down the queue (first among the triaged, the oldest) and
    // is shown again there: itself, not another.
    await repo.act(r1!, { kind: 'status', status: 'triaged' }, amina);
    const seen: string[] = [];
    let token = p1.next;
    while (token) {
      const p = await queries.triageQueue({}, { limit: 2, token });
      seen.push(...p.items.map((i) => i.ref));
      token = p.next;
    }
    expect(seen).toEqual([r5, r1, r3, r4]);
  });

  it('a done list in a chosen order resumes after the last issue shown: one closed meanwhile shows no other issue twice', async () => {
    const { repo, queries, clock } = await openStore();
    const log = logOneAMinuteLater(repo, clock);
    const early = await log(); // logged first, closed only between the presses
    const done = [await log(), await log(), await log()];
    for (const ref of done) await repo.act(ref, { kind: 'status', status: 'wont_fix' }, amina);
    const filters = { status: 'wont_fix', sort: 'oldest' } as const;
    const p1 = await queries.triageQueue(filters, { limit: 2 });
    expect(p1.items.map((i) => i.ref)).toEqual([done[0], done[1]]);
    clock.advance(60_000);
    await repo.act(early, { kind: 'status', status: 'wont_fix' }, amina);
    const p2 = await queries.triageQueue(filters, { limit: 2, token: p1.next });
    expect(p2.items.map((i) => i.ref)).toEqual([done[2]]);
    expect(p2.next).toBeNull();
    // Reopened meanwhile instead: the next page does not skip the one after it.
    const q1 = await queries.triageQueue(filters, { limit: 2 });
    expect(q1.items.map((i) => i.ref)).toEqual([early, done[0]]);
    await repo.act(early, { kind: 'status', status: 'triaged' }, amina);
    const q2 = await queries.triageQueue(filters, { limit: 2, token: q1.next });
    expect(q2.items.map((i) => i.ref)).toEqual([done[1], done[2]]);
  });
});
