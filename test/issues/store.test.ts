import { describe, expect, it } from 'vitest';
import { ISSUE_TABLES } from '../../src/issues/store.js';
import { alice, amina, bo, bob, form, openStore } from './fixtures.js';

describe('IssueStore: logging', () => {
  it('saves a report with a padded reference, history and a confirmation-ready issue', async () => {
    const { store } = await openStore();
    const r = await store.logIssue(form({ faqQuestion: 'How do I reset my password?' }), alice);
    expect(r.kind).toBe('created');
    if (r.kind !== 'created') return;
    expect(r.issue.ref).toBe('R-0001');
    expect(r.issue.status).toBe('new');
    expect(r.issue.faqQuestion).toBe('How do I reset my password?');
    expect(r.issue.history).toHaveLength(1);
    const again = await store.getWithHistory('r-1');
    expect(again).toEqual(r.issue);
    expect((await store.logIssue(form(), bob)).kind === 'created').toBe(true);
    expect((await store.lookup('R-0002')).ok).toBe(true);
  });

  it('uses the configured prefix and says "no issue" for unknown references', async () => {
    const { store } = await openStore({ config: { refPrefix: 'ISS-' } });
    const r = await store.logIssue(form(), alice);
    expect(r.kind === 'created' && r.issue.ref).toBe('ISS-0001');
    expect(await store.lookup('ISS-9999')).toEqual({ ok: false, message: 'no issue ISS-9999' });
    expect((await store.lookup('drop table')).ok).toBe(false);
  });

  it('refuses empty and over-long fields with a message per field, saving nothing', async () => {
    const { store } = await openStore();
    const r = await store.logIssue(
      form({ title: '   ', description: 'x'.repeat(2001), category: 'Gardening', severity: 'awful' }),
      alice,
    );
    expect(r.kind).toBe('invalid');
    if (r.kind !== 'invalid') return;
    expect(r.errors.title).toBe('Title is required.');
    expect(r.errors.description).toBe('What happened can be at most 2000 characters (this one has 2001).');
    expect(r.errors.category).toMatch(/^Category must be one of: Access \/ login/);
    expect(r.errors.severity).toBeTruthy();
    expect(await store.listByReporter(alice.id)).toEqual({ items: [], next: null });
    // No number was spent on the refused report.
    const ok = await store.logIssue(form(), alice);
    expect(ok.kind === 'created' && ok.issue.ref).toBe('R-0001');
  });

  it('gives 20 concurrent reports 20 different references', async () => {
    const { store } = await openStore();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.logIssue(form({ title: `Problem ${i}` }), { id: `29:u${i}`, name: `U${i}` }),
      ),
    );
    const refs = results.map((r) => (r.kind === 'created' ? r.issue.ref : 'failed'));
    expect(new Set(refs).size).toBe(20);
    expect(refs.every((r) => /^R-00(0[1-9]|1\d|20)$/.test(r))).toBe(true);
    const queue = await store.triageQueue({}, { limit: 50 });
    expect(queue.items).toHaveLength(20);
  });

  it('returns the same issue for a retried request (same idempotency key), also when racing', async () => {
    const { store } = await openStore();
    const first = await store.logIssue(form(), alice, { idempotencyKey: 'activity-1' });
    const retry = await store.logIssue(form(), alice, { idempotencyKey: 'activity-1' });
    expect(first.kind).toBe('created');
    expect(retry.kind).toBe('existing');
    if (first.kind !== 'created' || retry.kind !== 'existing') return;
    expect(retry.issue.ref).toBe(first.issue.ref);

    const racing = await Promise.all(
      Array.from({ length: 5 }, () => store.logIssue(form(), bob, { idempotencyKey: 'activity-2' })),
    );
    const refs = new Set(racing.map((r) => (r.kind === 'invalid' ? '' : r.issue.ref)));
    expect(refs.size).toBe(1);
    expect(racing.filter((r) => r.kind === 'created')).toHaveLength(1);
    expect((await store.listByReporter(bob.id)).items).toHaveLength(1);
    expect((await store.triageQueue()).items).toHaveLength(2);
  });
});

describe('IssueStore: triage actions under concurrency', () => {
  it('lets one of two champions assigning at once win; the other is told who did', async () => {
    const { store } = await openStore();
    const r = await store.logIssue(form(), alice);
    if (r.kind !== 'created') throw new Error('not created');
    const [a, b] = await Promise.all([
      store.act(r.issue.ref, { kind: 'assignMe' }, amina, { version: r.issue.version }),
      store.act(r.issue.ref, { kind: 'assignMe' }, bo, { version: r.issue.version }),
    ]);
    const kinds = [a.kind, b.kind].sort();
    expect(kinds).toEqual(['conflict', 'updated']);
    const winner = a.kind === 'updated' ? amina : bo;
    const loser = a.kind === 'conflict' ? a : b;
    if (loser.kind !== 'conflict') return;
    expect(loser.message).toBe(`${winner.name} already took this issue.`);
    expect(loser.issue.assignee).toEqual(winner);
    const fresh = await store.get(r.issue.ref);
    expect(fresh?.assignee).toEqual(winner);
    expect(fresh?.history.filter((h) => h.what === 'assigned')).toHaveLength(1);
    expect((await store.listAssigned(winner.id)).items.map((i) => i.ref)).toEqual([r.issue.ref]);
    expect((await store.listAssigned(winner === amina ? bo.id : amina.id)).items).toEqual([]);
  });

  it('keeps both of two concurrent comments and both history entries', async () => {
    const { store } = await openStore();
    const r = await store.logIssue(form(), alice);
    if (r.kind !== 'created') throw new Error('not created');
    const results = await Promise.all([
      store.act(
        r.issue.ref,
        { kind: 'comment', text: 'Checking the lockout policy', visibility: 'internal' },
        amina,
        {
          version: 1,
        },
      ),
      store.act(r.issue.ref, { kind: 'comment', text: 'We are on it', visibility: 'public' }, bo, {
        version: 1,
      }),
      store.act(r.issue.ref, { kind: 'priority', priority: 'P1' }, bo, { version: 1 }),
    ]);
    expect(results.map((x) => x.kind)).toEqual(['updated', 'updated', 'updated']);
    const fresh = await store.get(r.issue.ref);
    expect(fresh?.comments.map((c) => c.text).sort()).toEqual([
      'Checking the lockout policy',
      'We are on it',
    ]);
    expect(fresh?.history.map((h) => h.what).sort()).toEqual(['comment', 'comment', 'created', 'priority']);
    expect(new Set(fresh?.history.map((h) => h.version)).size).toBe(4);
    expect(fresh?.version).toBe(4);
    const pub = results.find((x) => x.kind === 'updated' && x.entry.visibility === 'public');
    expect(pub?.kind === 'updated' && pub.notifyReporter?.kind).toBe('comment');
  });

  it('reports a stale card as a conflict when the same field changed, and applies it otherwise', async () => {
    const { store } = await openStore();
    const r = await store.logIssue(form(), alice);
    if (r.kind !== 'created') throw new Error('not created');
    await store.act(r.issue.ref, { kind: 'status', status: 'triaged' }, amina, { version: 1 });
    const stale = await store.act(r.issue.ref, { kind: 'status', status: 'in_progress' }, bo, { version: 1 });
    expect(stale).toMatchObject({ kind: 'conflict', message: 'Amina already set the status to Triaged.' });
    const other = await store.act(r.issue.ref, { kind: 'priority', priority: 'P2' }, bo, { version: 1 });
    expect(other.kind).toBe('updated');
    expect(other.kind === 'updated' && other.issue.status).toBe('triaged');
  });

  it('applies a retried invoke (same request id) once', async () => {
    const { store } = await openStore();
    const r = await store.logIssue(form(), alice);
    if (r.kind !== 'created') throw new Error('not created');
    const action = { kind: 'comment', text: 'Please try again now', visibility: 'public' } as const;
    const first = await store.act(r.issue.ref, action, amina, { version: 1, requestId: 'invoke-7' });
    const retry = await store.act(r.issue.ref, action, amina, { version: 1, requestId: 'invoke-7' });
    expect(first.kind).toBe('updated');
    expect(retry.kind).toBe('repeated');
    expect((await store.get(r.issue.ref))?.comments).toHaveLength(1);
  });

  it('refuses invalid transitions and unknown duplicates without changing anything', async () => {
    const { store } = await openStore();
    const r = await store.logIssue(form(), alice);
    if (r.kind !== 'created') throw new Error('not created');
    const bad = await store.act(r.issue.ref, { kind: 'status', status: 'closed' }, amina);
    expect(bad).toMatchObject({ kind: 'refused', message: 'An issue that is New cannot become Closed.' });
    const dup = await store.act(r.issue.ref, { kind: 'duplicate', of: 'R-9999' }, amina);
    expect(dup).toMatchObject({ kind: 'refused', message: 'no issue R-9999' });
    expect(await store.act('R-0404', { kind: 'assignMe' }, amina)).toEqual({
      kind: 'not-found',
      message: 'no issue R-0404',
    });
    expect((await store.get(r.issue.ref))?.version).toBe(1);
  });

  it('links a duplicate, moving it out of the queue into the archive', async () => {
    const { store } = await openStore();
    const a = await store.logIssue(form(), alice);
    const b = await store.logIssue(form({ title: 'Locked out of IMS' }), bob);
    if (a.kind !== 'created' || b.kind !== 'created') throw new Error('not created');
    const res = await store.act(b.issue.ref, { kind: 'duplicate', of: 'r-1' }, amina);
    expect(res.kind === 'updated' && res.issue.duplicateOf).toBe('R-0001');
    expect(res.kind === 'updated' && res.notifyReporter?.kind).toBe('status');
    expect((await store.triageQueue()).items.map((i) => i.ref)).toEqual(['R-0001']);
    const archived = await store.triageQueue({ status: 'duplicate' });
    expect(archived.items.map((i) => i.ref)).toEqual(['R-0002']);
    expect((await store.listByReporter(bob.id)).items[0]?.status).toBe('duplicate');
  });
});

describe('IssueStore: +1 and similar issues', () => {
  it('offers open look-alikes of the same category and site, and counts a +1 once per user', async () => {
    const { store } = await openStore();
    await store.logIssue(form(), alice);
    await store.logIssue(form({ site: 'South depot' }), alice);
    await store.logIssue(
      form({
        title: 'Report totals are wrong',
        description: 'Monthly totals double count',
        category: 'Reports',
      }),
      alice,
    );
    const similar = await store.findSimilarOpen({
      category: 'Access / login',
      site: 'north clinic',
      title: 'Account locked',
      description: 'I cannot log in, it says the account is locked',
    });
    expect(similar.map((s) => s.ref)).toEqual(['R-0001']);
    const none = await store.findSimilarOpen({
      category: 'Access / login',
      site: 'North clinic',
      title: 'Printer jam',
      description: 'Paper stuck in tray two',
    });
    expect(none).toEqual([]);

    const plus = await store.addAffected('R-0001', bob);
    expect(plus.kind === 'updated' && plus.issue.affected).toEqual([{ id: bob.id, name: bob.name }]);
    const twice = await store.addAffected('R-0001', bob);
    expect(twice.kind).toBe('refused');
    const own = await store.addAffected('R-0001', alice);
    expect(own).toMatchObject({ kind: 'refused', code: 'no-change' });
    expect((await store.triageQueue({ site: 'North clinic' })).items[0]?.affectedCount).toBe(1);
  });

  it('counts 10 concurrent +1s from different users', async () => {
    const { store } = await openStore();
    await store.logIssue(form(), alice);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.addAffected('R-0001', { id: `29:p${i}`, name: `P${i}` })),
    );
    expect((await store.get('R-0001'))?.affected).toHaveLength(10);
  });
});

describe('IssueStore: lists', () => {
  it('orders the queue New first, then by priority, then oldest first, and filters and pages it', async () => {
    const { store, clock } = await openStore();
    const log = async (over: Record<string, unknown>) => {
      clock.advance(60_000);
      const r = await store.logIssue(form(over), alice);
      if (r.kind !== 'created') throw new Error('not created');
      return r.issue.ref;
    };
    const r1 = await log({ site: 'North clinic', category: 'Reports' });
    const r2 = await log({ site: 'South depot' });
    const r3 = await log({ site: 'North clinic' });
    const r4 = await log({ site: 'South depot', category: 'Reports' });
    const r5 = await log({ site: 'North clinic' });
    await store.act(r2, { kind: 'status', status: 'triaged' }, amina);
    await store.act(r2, { kind: 'priority', priority: 'P3' }, amina);
    await store.act(r4, { kind: 'status', status: 'in_progress' }, amina);
    await store.act(r4, { kind: 'priority', priority: 'P1' }, amina);
    await store.act(r4, { kind: 'assignMe' }, amina);
    await store.act(r3, { kind: 'priority', priority: 'P2' }, bo);
    await store.act(r5, { kind: 'status', status: 'triaged' }, bo);
    await store.act(r5, { kind: 'status', status: 'resolved' }, bo);

    const refs = async (filters: Parameters<typeof store.triageQueue>[0]) =>
      (await store.triageQueue(filters, { limit: 50 })).items.map((i) => i.ref);
    // New (P2 before none), then triaged/in progress by priority.
    expect(await refs({})).toEqual([r3, r1, r4, r2]);
    expect(await refs({ status: 'new' })).toEqual([r3, r1]);
    expect(await refs({ site: 'north clinic' })).toEqual([r3, r1]);
    expect(await refs({ site: 'South depot', category: 'Reports' })).toEqual([r4]);
    expect(await refs({ category: 'Reports', status: 'new' })).toEqual([r1]);
    expect(await refs({ assigneeId: amina.id })).toEqual([r4]);
    expect(await refs({ status: 'resolved' })).toEqual([r5]);

    const p1 = await store.triageQueue({}, { limit: 3 });
    expect(p1.items.map((i) => i.ref)).toEqual([r3, r1, r4]);
    expect(p1.next).toBeTruthy();
    const p2 = await store.triageQueue({}, { limit: 3, token: p1.next });
    expect(p2).toEqual({ items: [expect.objectContaining({ ref: r2 })], next: null });
    // A token that does not parse starts from the beginning rather than failing.
    expect((await store.triageQueue({}, { limit: 1, token: 'garbage!' })).items[0]?.ref).toBe(r3);

    const mine = await store.listByReporter(alice.id, { limit: 2 });
    expect(mine.items.map((i) => i.ref)).toEqual([r5, r4]);
    const rest = await store.listByReporter(alice.id, { limit: 10, token: mine.next });
    expect(rest.items.map((i) => i.ref)).toEqual([r3, r2, r1]);
    expect(rest.items.find((i) => i.ref === r2)?.status).toBe('triaged');
    expect((await store.untriaged()).map((i) => i.ref).sort()).toEqual([r1, r3]);
  });

  it('pages the archive across months, most recently closed first', async () => {
    const { store, clock } = await openStore();
    const refs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await store.logIssue(form({ title: `Thing ${i}` }), alice);
      if (r.kind !== 'created') throw new Error('not created');
      refs.push(r.issue.ref);
    }
    for (const ref of refs) {
      clock.advance(20 * 24 * 3_600_000); // a closure every 20 days: spread over three months
      await store.act(ref, { kind: 'status', status: 'wont_fix' }, amina);
    }
    const seen: string[] = [];
    let token: string | null = null;
    for (let n = 0; n < 10; n++) {
      const page = await store.triageQueue({ status: 'wont_fix' }, { limit: 1, token });
      seen.push(...page.items.map((i) => i.ref));
      token = page.next;
      if (!token) break;
    }
    expect(seen).toEqual([...refs].reverse());
  });

  it('exports every issue as CSV through the paging iterator', async () => {
    const { store } = await openStore();
    await store.logIssue(form({ title: '=HYPERLINK("http://evil")' }), alice);
    await store.logIssue(form({ title: 'Plain, with comma' }), bob);
    await store.act('R-0002', { kind: 'comment', text: 'internal note', visibility: 'internal' }, amina);
    const csv = await store.exportCsv();
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(lines[2]).toMatch(/^"R-0002","Plain, with comma","New",/);
    expect(lines[2]).toMatch(/,"1","0","2"$/);
  });
});

describe('IssueStore: index repair', () => {
  it('leaves no repair marker behind when every write succeeds', async () => {
    const { store, clock } = await openStore();
    await store.logIssue(form(), alice, { idempotencyKey: 'a-1' });
    await store.logIssue(form(), alice, { idempotencyKey: 'a-1' });
    await store.act('R-0001', { kind: 'assignMe' }, amina);
    await store.act('R-0001', { kind: 'status', status: 'resolved' }, amina);
    await store.addAffected('R-0001', bob);
    clock.advance(3_600_000);
    expect(await store.repairIndexes(60_000)).toBe(0);
  });

  it('rebuilds index rows when their write failed after the main write', async () => {
    const errors: string[] = [];
    const { store, clock, tables } = await openStore({ onIndexError: (_e, ref) => errors.push(ref) });
    await store.logIssue(form(), alice);
    const queue = await tables.table(ISSUE_TABLES.queue);
    await queue.deleteTable();
    // The main row is saved even though the queue table is gone: the report is not lost.
    await store.act('R-0001', { kind: 'priority', priority: 'P1' }, amina);
    expect(errors).toEqual(['R-0001']);
    expect((await store.get('R-0001'))?.priority).toBe('P1');
    await queue.createTable();
    expect((await store.triageQueue()).items).toEqual([]);
    expect(await store.repairIndexes(60_000)).toBe(0); // too fresh: may still be in flight
    clock.advance(120_000);
    expect(await store.repairIndexes(60_000)).toBe(1);
    const items = (await store.triageQueue()).items;
    expect(items.map((i) => [i.ref, i.priority])).toEqual([['R-0001', 'P1']]);
    expect(await store.repairIndexes(60_000)).toBe(0);
  });
});
