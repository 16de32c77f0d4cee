import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { IssueRepository } from '../../src/issues/repository.js';
import { indexRowsFor } from '../../src/issues/indexes.js';
import type { Issue } from '../../src/issues/model.js';
import { ISSUE_TABLES } from '../../src/issues/tables.js';
import { Tables } from '../../src/storage/tables.js';
import { startSlowLink } from '../support/slow-link.js';
import { azuriteConnection } from '../support/storage.js';
import { alice, amina, bo, bob, form, landStaleQueueRows, openStore } from './fixtures.js';

describe('IssueRepository: logging', () => {
  it('saves a report with a padded reference, history and a confirmation-ready issue', async () => {
    const { repo } = await openStore();
    const r = await repo.logIssue(form({ faqQuestion: 'How do I reset my password?' }), alice);
    expect(r.kind).toBe('created');
    if (r.kind !== 'created') return;
    expect(r.issue.ref).toBe('R-0001');
    expect(r.issue.status).toBe('new');
    expect(r.issue.faqQuestion).toBe('How do I reset my password?');
    expect(r.issue.history).toHaveLength(1);
    const again = await repo.get('r-1');
    expect(again).toEqual(r.issue);
    expect((await repo.logIssue(form(), bob)).kind === 'created').toBe(true);
    expect((await repo.lookup('R-0002')).ok).toBe(true);
  });

  it('uses the configured prefix and says "no issue" for unknown references', async () => {
    const { repo } = await openStore({ config: { refPrefix: 'ISS-' } });
    const r = await repo.logIssue(form(), alice);
    expect(r.kind === 'created' && r.issue.ref).toBe('ISS-0001');
    expect(await repo.lookup('ISS-9999')).toEqual({
      ok: false,
      message: 'There is no issue ISS-9999. Check the reference, or type "my issues" to see yours.',
    });
    expect((await repo.lookup('drop table')).ok).toBe(false);
  });

  it('refuses empty and over-long fields with a message per field, saving nothing', async () => {
    const { repo, queries } = await openStore();
    const r = await repo.logIssue(
      form({ title: '   ', description: 'x'.repeat(2001), category: 'Gardening', severity: 'awful' }),
      alice,
    );
    expect(r.kind).toBe('invalid');
    if (r.kind !== 'invalid') return;
    expect(r.errors.title).toBe('Title is required.');
    expect(r.errors.description).toBe('What happened can be at most 2000 characters (this one has 2001).');
    expect(r.errors.category).toMatch(/^Category must be one of: Access \/ login/);
    expect(r.errors.severity).toBeTruthy();
    expect(await queries.listByReporter(alice.id)).toEqual({ items: [], next: null });
    // No number was spent on the refused report.
    const ok = await repo.logIssue(form(), alice);
    expect(ok.kind === 'created' && ok.issue.ref).toBe('R-0001');
  });

  it('gives 20 concurrent reports 20 different references', async () => {
    const { repo, queries } = await openStore();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        repo.logIssue(form({ title: `Problem ${i}` }), { id: `29:u${i}`, name: `U${i}` }),
      ),
    );
    const refs = results.map((r) => (r.kind === 'created' ? r.issue.ref : 'failed'));
    expect(new Set(refs).size).toBe(20);
    expect(refs.every((r) => /^R-00(0[1-9]|1\d|20)$/.test(r))).toBe(true);
    const queue = await queries.triageQueue({}, { limit: 50 });
    expect(queue.items).toHaveLength(20);
  });

  it('returns the same issue for a retried request (same idempotency key), also when racing', async () => {
    const { repo, queries } = await openStore();
    const first = await repo.logIssue(form(), alice, { idempotencyKey: 'activity-1' });
    const retry = await repo.logIssue(form(), alice, { idempotencyKey: 'activity-1' });
    expect(first.kind).toBe('created');
    expect(retry.kind).toBe('existing');
    if (first.kind !== 'created' || retry.kind !== 'existing') return;
    expect(retry.issue.ref).toBe(first.issue.ref);

    const racing = await Promise.all(
      Array.from({ length: 5 }, () => repo.logIssue(form(), bob, { idempotencyKey: 'activity-2' })),
    );
    const refs = new Set(racing.map((r) => (r.kind === 'invalid' ? '' : r.issue.ref)));
    expect(refs.size).toBe(1);
    expect(racing.filter((r) => r.kind === 'created')).toHaveLength(1);
    expect((await queries.listByReporter(bob.id)).items).toHaveLength(1);
    expect((await queries.triageQueue()).items).toHaveLength(2);
  });
});

describe('IssueRepository: triage actions under concurrency', () => {
  it('lets one of two champions assigning at once win; the other is told who did', async () => {
    const { repo, queries } = await openStore();
    const r = await repo.logIssue(form(), alice);
    if (r.kind !== 'created') throw new Error('not created');
    const [a, b] = await Promise.all([
      repo.act(r.issue.ref, { kind: 'assignMe' }, amina, { version: r.issue.version }),
      repo.act(r.issue.ref, { kind: 'assignMe' }, bo, { version: r.issue.version }),
    ]);
    const kinds = [a.kind, b.kind].sort();
    expect(kinds).toEqual(['conflict', 'updated']);
    const winner = a.kind === 'updated' ? amina : bo;
    const loser = a.kind === 'conflict' ? a : b;
    if (loser.kind !== 'conflict') return;
    expect(loser.message).toBe(`${winner.name} already took this issue.`);
    expect(loser.issue.assignee).toEqual(winner);
    const fresh = await repo.get(r.issue.ref);
    expect(fresh?.assignee).toEqual(winner);
    expect(fresh?.history.filter((h) => h.what === 'assigned')).toHaveLength(1);
    expect((await queries.listAssigned(winner.id)).items.map((i) => i.ref)).toEqual([r.issue.ref]);
    expect((await queries.listAssigned(winner === amina ? bo.id : amina.id)).items).toEqual([]);
  });

  it('keeps both of two concurrent comments and both history entries', async () => {
    const { repo } = await openStore();
    const r = await repo.logIssue(form(), alice);
    if (r.kind !== 'created') throw new Error('not created');
    const results = await Promise.all([
      repo.act(
        r.issue.ref,
        { kind: 'comment', text: 'Checking the lockout policy', visibility: 'internal' },
        amina,
        {
          version: 1,
        },
      ),
      repo.act(r.issue.ref, { kind: 'comment', text: 'We are on it', visibility: 'public' }, bo, {
        version: 1,
      }),
      repo.act(r.issue.ref, { kind: 'priority', priority: 'P1' }, bo, { version: 1 }),
    ]);
    expect(results.map((x) => x.kind)).toEqual(['updated', 'updated', 'updated']);
    const fresh = await repo.get(r.issue.ref);
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
    const { repo } = await openStore();
    const r = await repo.logIssue(form(), alice);
    if (r.kind !== 'created') throw new Error('not created');
    await repo.act(r.issue.ref, { kind: 'status', status: 'triaged' }, amina, { version: 1 });
    const stale = await repo.act(r.issue.ref, { kind: 'status', status: 'in_progress' }, bo, { version: 1 });
    expect(stale).toMatchObject({ kind: 'conflict', message: 'Amina already set the status to Triaged.' });
    const other = await repo.act(r.issue.ref, { kind: 'priority', priority: 'P2' }, bo, { version: 1 });
    expect(other.kind).toBe('updated');
    expect(other.kind === 'updated' && other.issue.status).toBe('triaged');
  });

  it('applies a retried invoke (same request id) once', async () => {
    const { repo } = await openStore();
    const r = await repo.logIssue(form(), alice);
    if (r.kind !== 'created') throw new Error('not created');
    const action = { kind: 'comment', text: 'Please try again now', visibility: 'public' } as const;
    const first = await repo.act(r.issue.ref, action, amina, { version: 1, requestId: 'invoke-7' });
    const retry = await repo.act(r.issue.ref, action, amina, { version: 1, requestId: 'invoke-7' });
    expect(first.kind).toBe('updated');
    expect(retry.kind).toBe('repeated');
    expect((await repo.get(r.issue.ref))?.comments).toHaveLength(1);
  });

  it('refuses invalid transitions and unknown duplicates without changing anything', async () => {
    const { repo } = await openStore();
    const r = await repo.logIssue(form(), alice);
    if (r.kind !== 'created') throw new Error('not created');
    const bad = await repo.act(r.issue.ref, { kind: 'status', status: 'closed' }, amina);
    expect(bad).toMatchObject({ kind: 'refused', message: 'An issue that is New cannot become Closed.' });
    const dup = await repo.act(r.issue.ref, { kind: 'duplicate', of: 'R-9999' }, amina);
    expect(dup).toMatchObject({ kind: 'refused', message: 'no issue R-9999' });
    expect(await repo.act('R-0404', { kind: 'assignMe' }, amina)).toEqual({
      kind: 'not-found',
      message: 'no issue R-0404',
    });
    expect((await repo.get(r.issue.ref))?.version).toBe(1);
  });

  it('links a duplicate, moving it out of the queue into the archive', async () => {
    const { repo, queries } = await openStore();
    const a = await repo.logIssue(form(), alice);
    const b = await repo.logIssue(form({ title: 'Locked out of IMS' }), bob);
    if (a.kind !== 'created' || b.kind !== 'created') throw new Error('not created');
    const res = await repo.act(b.issue.ref, { kind: 'duplicate', of: 'r-1' }, amina);
    expect(res.kind === 'updated' && res.issue.duplicateOf).toBe('R-0001');
    expect(res.kind === 'updated' && res.notifyReporter?.kind).toBe('status');
    expect((await queries.triageQueue()).items.map((i) => i.ref)).toEqual(['R-0001']);
    const archived = await queries.triageQueue({ status: 'duplicate' });
    expect(archived.items.map((i) => i.ref)).toEqual(['R-0002']);
    expect((await queries.listByReporter(bob.id)).items[0]?.status).toBe('duplicate');
  });

  it('refuses a duplicate of an issue that is itself a duplicate, so two issues cannot close each other', async () => {
    const { repo, queries } = await openStore();
    for (const who of [alice, bob, alice]) if ((await repo.logIssue(form({ title: `Locked out ${who.name}` }), who)).kind !== 'created') throw new Error('not created');
    expect((await repo.act('R-0002', { kind: 'duplicate', of: 'R-0001' }, amina)).kind).toBe('updated');
    // The other way round would leave both closed as duplicates of each other, with nobody working on either.
    const cycle = await repo.act('R-0001', { kind: 'duplicate', of: 'R-0002' }, amina);
    expect(cycle).toMatchObject({ kind: 'refused', message: 'R-0002 is already marked a duplicate of this issue.' });
    // A chain would make R-0003's reporter follow R-0002, which is closed: they would never hear of the fix.
    const chain = await repo.act('R-0003', { kind: 'duplicate', of: 'R-0002' }, amina);
    expect(chain).toMatchObject({ kind: 'refused', message: 'R-0002 is itself a duplicate of R-0001; link to R-0001 instead.' });
    expect((await repo.get('R-0001'))?.status).toBe('new');
    expect((await repo.get('R-0003'))?.status).toBe('new');
    expect((await queries.triageQueue()).items.map((i) => i.ref)).toEqual(['R-0001', 'R-0003']);
  });
});

describe('IssueRepository: a duplicate\'s original must be open', () => {
  it('refuses an original that is Closed, Won\'t fix or Resolved, naming its status and what to do, and changes nothing', async () => {
    const { repo } = await openStore();
    for (let i = 0; i < 4; i++) if ((await repo.logIssue(form({ title: `Locked out ${i}` }), alice)).kind !== 'created') throw new Error('not created');
    await repo.act('R-0001', { kind: 'status', status: 'resolved' }, amina);
    await repo.act('R-0001', { kind: 'status', status: 'closed' }, amina);
    await repo.act('R-0002', { kind: 'status', status: 'wont_fix' }, amina);
    await repo.act('R-0003', { kind: 'status', status: 'resolved' }, amina);
    // Followers of a duplicate hear only what happens to its original: a done one would leave them waiting on nothing.
    expect(await repo.act('R-0004', { kind: 'duplicate', of: 'R-0001' }, amina)).toMatchObject({
      kind: 'refused',
      message: 'R-0001 is closed, and a closed issue cannot be reopened: pick an open issue, or keep this one open.',
    });
    expect(await repo.act('R-0004', { kind: 'duplicate', of: 'R-0002' }, amina)).toMatchObject({
      kind: 'refused',
      message: "R-0002 is Won't fix; reopen it (set it Triaged) or pick an open issue.",
    });
    expect(await repo.act('R-0004', { kind: 'duplicate', of: 'R-0003' }, amina)).toMatchObject({
      kind: 'refused',
      message: 'R-0003 is Resolved; reopen it (set it In progress) if the problem is back, or pick an open issue.',
    });
    expect(await repo.get('R-0004')).toMatchObject({ status: 'new', duplicateOf: null, version: 1 });
    // Reopened, it can be the original again.
    await repo.act('R-0002', { kind: 'status', status: 'triaged' }, amina);
    expect(await repo.act('R-0004', { kind: 'duplicate', of: 'R-0002' }, amina)).toMatchObject({ kind: 'updated', issue: { duplicateOf: 'R-0002' } });
  });
});

describe('IssueRepository: duplicates linked at the same instant', () => {
  it('never lets two champions linking A to B and B to A at once close both as duplicates of each other', async () => {
    const { repo, queries } = await openStore();
    const pairs = 8;
    for (let i = 0; i < pairs; i++) {
      for (const who of [alice, bob]) if ((await repo.logIssue(form({ title: `Locked out ${i} ${who.name}` }), who)).kind !== 'created') throw new Error('not created');
    }
    const ref = (n: number) => `R-${String(n).padStart(4, '0')}`;
    // Each pair's two links start together, so both read the other issue before either has written.
    const results = await Promise.all(
      Array.from({ length: pairs }, (_, i) => [ref(2 * i + 1), ref(2 * i + 2)] as const).flatMap(([a, b]) => [
        repo.act(a, { kind: 'duplicate', of: b }, amina),
        repo.act(b, { kind: 'duplicate', of: a }, bo),
      ]),
    );
    for (let i = 0; i < pairs; i++) {
      const [a, b] = [await repo.get(ref(2 * i + 1)), await repo.get(ref(2 * i + 2))];
      // Exactly one of the two is the duplicate; the other stays open for someone to work on.
      expect([a?.status, b?.status].filter((s) => s === 'duplicate')).toHaveLength(1);
      const [first, second] = [results[2 * i]!, results[2 * i + 1]!];
      expect([first.kind, second.kind].sort()).toEqual(['refused', 'updated']);
      const refused = first.kind === 'refused' ? first : second;
      expect(refused.kind === 'refused' && refused.message).toMatch(/already marked a duplicate of this issue/);
    }
    expect((await queries.triageQueue({}, { limit: 50 })).items).toHaveLength(pairs);
  });

  it('settles links A to B and B to A at once when every storage call is slow: one links, the other is told why', async () => {
    // Both sides retry after a conflict; retries spaced by less than a storage call keep colliding until both give up.
    const link = await startSlowLink(azuriteConnection(), 15);
    try {
      const { repo } = await openStore({}, { tables: new Tables(link.connectionString, `t${randomBytes(4).toString('hex')}`) });
      const pairs = 4;
      for (let i = 0; i < 2 * pairs; i++) if ((await repo.logIssue(form({ title: `Locked out ${i}` }), alice)).kind !== 'created') throw new Error('not created');
      const ref = (n: number) => `R-${String(n).padStart(4, '0')}`;
      const results = await Promise.all(
        Array.from({ length: pairs }, (_, i) => [ref(2 * i + 1), ref(2 * i + 2)] as const).flatMap(([a, b]) => [
          repo.act(a, { kind: 'duplicate', of: b }, amina),
          repo.act(b, { kind: 'duplicate', of: a }, bo),
        ]),
      );
      for (let i = 0; i < pairs; i++) expect([results[2 * i]!.kind, results[2 * i + 1]!.kind].sort(), `pair ${i + 1}`).toEqual(['refused', 'updated']);
    } finally {
      await link.stop();
    }
  });
});


describe('IssueRepository: no chains of duplicates', () => {
  it('reads a damaged list of duplicates as empty: the issue still opens and links', async () => {
    const { repo, issueTables } = await openStore();
    for (let i = 0; i < 2; i++) if ((await repo.logIssue(form({ title: `Locked out ${i}` }), alice)).kind !== 'created') throw new Error('not created');
    for await (const row of issueTables.main.listEntities({ queryOptions: { filter: "RowKey eq 'R-0001'" } })) {
      await issueTables.main.updateEntity({ partitionKey: row.partitionKey!, rowKey: 'R-0001', duplicatesIn: '{not json', recentRequests: '"a string"' }, 'Merge');
    }
    expect(await repo.get('R-0001')).toMatchObject({ ref: 'R-0001', status: 'new' });
    expect((await repo.act('R-0001', { kind: 'duplicate', of: 'R-0002' }, amina)).kind).toBe('updated');
  });

  it('refuses to link an issue that has its own duplicates, saying which, and allows it once they no longer point at it', async () => {
    const { repo } = await openStore();
    for (let i = 0; i < 4; i++) if ((await repo.logIssue(form({ title: `Locked out ${i}` }), alice)).kind !== 'created') throw new Error('not created');
    // R-0003 is a duplicate of R-0001; R-0001 then found to repeat R-0002 would leave R-0003 one step from the issue worked on.
    expect((await repo.act('R-0003', { kind: 'duplicate', of: 'R-0001' }, amina)).kind).toBe('updated');
    const chain = await repo.act('R-0001', { kind: 'duplicate', of: 'R-0002' }, bo);
    expect(chain).toMatchObject({
      kind: 'refused',
      message: 'R-0001 has a duplicate of its own (R-0003), which would then point at a duplicate. Link R-0002 to R-0001 instead, or reopen R-0003 first.',
    });
    expect(await repo.get('R-0001')).toMatchObject({ status: 'new', duplicateOf: null });
    // The other way round is fine: R-0002's followers join R-0001, where R-0003's already are.
    expect((await repo.act('R-0002', { kind: 'duplicate', of: 'R-0001' }, bo)).kind).toBe('updated');
    const again = await repo.act('R-0001', { kind: 'duplicate', of: 'R-0004' }, bo);
    expect(again).toMatchObject({ kind: 'refused', message: expect.stringMatching(/^R-0001 has duplicates of its own \(R-0003, R-0002\)/) });
    // Once they are reopened (or linked elsewhere), nothing points at R-0001 any more.
    await repo.act('R-0003', { kind: 'status', status: 'triaged' }, amina);
    await repo.act('R-0002', { kind: 'duplicate', of: 'R-0004' }, amina);
    expect(await repo.act('R-0001', { kind: 'duplicate', of: 'R-0004' }, bo)).toMatchObject({ kind: 'updated', issue: { duplicateOf: 'R-0004' } });
  });

  it('never forms a chain when A is linked to B between the two writes of C\'s link to A (the original stamped, C not yet written)', async () => {
    const { repo, issueTables, clock } = await openStore();
    for (let i = 0; i < 3; i++) if ((await repo.logIssue(form({ title: `Locked out ${i}` }), alice)).kind !== 'created') throw new Error('not created');
    const [a, b, c] = ['R-0001', 'R-0002', 'R-0003'];
    // C's link pauses at its own write (after stamping A), while A's link to B runs from start to end.
    let reached!: () => void;
    const atPause = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let paused = false;
    const pause = async (entity: { rowKey?: string; kind?: unknown }) => {
      if (entity.rowKey === c && entity.kind === 'issue' && !paused) {
        paused = true;
        reached();
        await gate;
      }
    };
    // C's write: on its own, or in one transaction with its repair marker.
    const main = new Proxy(issueTables.main, {
      get(target, prop, receiver) {
        if (prop === 'updateEntity')
          return async (...args: Parameters<typeof target.updateEntity>) => {
            await pause(args[0]);
            return target.updateEntity(...args);
          };
        if (prop === 'submitTransaction')
          return async (...args: Parameters<typeof target.submitTransaction>) => {
            for (const action of args[0]) await pause(action[1]);
            return target.submitTransaction(...args);
          };
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const pausing = new IssueRepository({ ...issueTables, main }, { clock });
    const cToA = pausing.act(c, { kind: 'duplicate', of: a }, amina);
    await atPause;
    const aToB = await repo.act(a, { kind: 'duplicate', of: b }, bo);
    release();
    const linked = await cToA;
    const [A, C] = [await repo.get(a), await repo.get(c)];
    expect(C?.status === 'duplicate' && A?.status === 'duplicate').toBe(false);
    // A was linked first (C's link was not written yet); C's link, judged again, is told where to point.
    expect(aToB.kind).toBe('updated');
    expect(linked).toMatchObject({ kind: 'refused', message: `${a} is itself a duplicate of ${b}; link to ${b} instead.` });
  });

  it('never forms a chain when C is linked to A and A to B at the same instant', async () => {
    const { repo } = await openStore();
    const rounds = 8;
    for (let i = 0; i < 3 * rounds; i++) if ((await repo.logIssue(form({ title: `Locked out ${i}` }), alice)).kind !== 'created') throw new Error('not created');
    const ref = (n: number) => `R-${String(n).padStart(4, '0')}`;
    const triple = (i: number) => [ref(3 * i + 1), ref(3 * i + 2), ref(3 * i + 3)] as const;
    const results = await Promise.all(
      Array.from({ length: rounds }, (_, i) => triple(i)).flatMap(([a, b, c]) => [
        repo.act(c, { kind: 'duplicate', of: a }, amina),
        repo.act(a, { kind: 'duplicate', of: b }, bo),
      ]),
    );
    for (let i = 0; i < rounds; i++) {
      const [a, , c] = await Promise.all(triple(i).map((r) => repo.get(r)));
      // C points at A only while A is open; A points at B only while nothing points at A.
      expect(c?.status === 'duplicate' && a?.status === 'duplicate', `round ${i}`).toBe(false);
      const [cToA, aToB] = [results[2 * i]!, results[2 * i + 1]!];
      // At most one link is made. (Under heavy load both may give up after their retries, "try again": safe too.)
      expect([cToA.kind, aToB.kind].filter((k) => k === 'updated').length).toBeLessThanOrEqual(1);
      if (cToA.kind === 'refused') expect(cToA.message).toMatch(/is itself a duplicate of/);
      if (aToB.kind === 'refused') expect(aToB.message).toMatch(/has a duplicate of its own/);
    }
  });
});

describe('IssueRepository: an original forgets duplicates that no longer point at it', () => {
  it('does not read a reopened, re-linked or expired duplicate again when its old original is linked', async () => {
    const { repo, issueTables, clock } = await openStore();
    for (let i = 0; i < 6; i++) if ((await repo.logIssue(form({ title: `Locked out ${i}` }), alice)).kind !== 'created') throw new Error('not created');
    const [a, b, c, d, e, f] = ['R-0001', 'R-0002', 'R-0003', 'R-0004', 'R-0005', 'R-0006'];
    for (const dup of [d, e, f]) expect((await repo.act(dup, { kind: 'duplicate', of: a }, amina)).kind).toBe('updated');
    // D reopened, E linked elsewhere, F closed long ago and removed by retention: none points at A any more.
    expect((await repo.act(d, { kind: 'status', status: 'triaged' }, amina)).kind).toBe('updated');
    expect((await repo.act(e, { kind: 'duplicate', of: c }, amina)).kind).toBe('updated');
    clock.advance(40 * 86_400_000);
    const fRow = [...indexRowsOf(await repo.get(f))].find((r) => r.table === 'archive')!;
    expect(await repo.expire(f, clock.now(), fRow)).toBe(true);

    const reads: string[] = [];
    const main = new Proxy(issueTables.main, {
      get(target, prop, receiver) {
        if (prop !== 'getEntity') return Reflect.get(target, prop, receiver) as unknown;
        return (...args: Parameters<typeof target.getEntity>) => {
          reads.push(args[1]);
          return target.getEntity(...args);
        };
      },
    });
    const counting = new IssueRepository({ ...issueTables, main }, { clock });
    expect(await counting.act(a, { kind: 'duplicate', of: b }, bo)).toMatchObject({ kind: 'updated', issue: { duplicateOf: b } });
    expect(reads.filter((r) => [d, e, f].includes(r))).toEqual([]);
  });

  it('still refuses to link an original whose duplicate was reopened and linked back to it at the same instant', async () => {
    const { repo } = await openStore();
    const rounds = 8;
    for (let i = 0; i < 3 * rounds; i++) if ((await repo.logIssue(form({ title: `Locked out ${i}` }), alice)).kind !== 'created') throw new Error('not created');
    const ref = (n: number) => `R-${String(n).padStart(4, '0')}`;
    const triple = (i: number) => [ref(3 * i + 1), ref(3 * i + 2), ref(3 * i + 3)] as const;
    for (let i = 0; i < rounds; i++) {
      const [a, , d] = triple(i);
      expect((await repo.act(d, { kind: 'duplicate', of: a }, amina)).kind).toBe('updated');
    }
    // Reopening D takes it off A's list; linking it back at once must leave it listed whenever it points at A.
    await Promise.all(
      Array.from({ length: rounds }, (_, i) => triple(i)).flatMap(([a, , d]) => [
        repo.act(d, { kind: 'status', status: 'triaged' }, amina),
        (async () => {
          for (let n = 0; n < 3; n++) await repo.act(d, { kind: 'duplicate', of: a }, bo);
        })(),
      ]),
    );
    for (let i = 0; i < rounds; i++) {
      const [a, b, d] = triple(i);
      const linked = (await repo.get(d))?.duplicateOf === a;
      const aToB = await repo.act(a, { kind: 'duplicate', of: b }, bo);
      expect(aToB.kind, `round ${i}: ${d} points at ${a}: ${linked}`).toBe(linked ? 'refused' : 'updated');
    }
  });
});

describe('IssueRepository: a duplicate with no original is not open', () => {
  it('refuses to link to an issue marked Duplicate of nothing, saying it is not open, and changes nothing', async () => {
    const { repo, issueTables } = await openStore();
    for (let i = 0; i < 2; i++) if ((await repo.logIssue(form({ title: `Locked out ${i}` }), alice)).kind !== 'created') throw new Error('not created');
    // A row damaged (or written by hand) as a duplicate without saying of what.
    for await (const row of issueTables.main.listEntities({ queryOptions: { filter: "RowKey eq 'R-0001'" } })) {
      await issueTables.main.updateEntity({ partitionKey: row.partitionKey!, rowKey: 'R-0001', status: 'duplicate', duplicateOf: '' }, 'Merge');
    }
    expect(await repo.get('R-0001')).toMatchObject({ status: 'duplicate', duplicateOf: null });
    expect(await repo.act('R-0002', { kind: 'duplicate', of: 'R-0001' }, amina)).toMatchObject({
      kind: 'refused',
      message: 'R-0001 is marked a duplicate of no issue, so it is not open: reopen it (set it Triaged) or pick an open issue.',
    });
    expect(await repo.get('R-0002')).toMatchObject({ status: 'new', duplicateOf: null, version: 1 });
  });
});

describe('IssueRepository: index repair', () => {
  it('leaves no repair marker behind when every write succeeds', async () => {
    const { repo, clock } = await openStore();
    await repo.logIssue(form(), alice, { idempotencyKey: 'a-1' });
    await repo.logIssue(form(), alice, { idempotencyKey: 'a-1' });
    // A triage action's marker is dropped as its follow-ups are settled (the service does it after queuing them).
    for (const action of [{ kind: 'assignMe' }, { kind: 'status', status: 'resolved' }] as const) {
      const res = await repo.act('R-0001', action, amina);
      if (res.kind !== 'updated' || !res.etag) throw new Error(`not updated: ${res.kind}`);
      await repo.settleFollowUps('R-0001', res.unfinished ?? [], { reindex: false, written: { etag: res.etag, unfinished: res.unfinished ?? [], ...(res.marker ? { marker: res.marker } : {}) } });
    }
    await repo.addAffected('R-0001', bob);
    clock.advance(3_600_000);
    expect(await repo.repairIndexes(60_000)).toBe(0);
  });

  it('a triage action writes its change with its repair marker in one call (the issue\'s partition), and drops it as its follow-ups are settled', async () => {
    const { repo, issueTables, clock } = await openStore();
    await repo.logIssue(form(), alice);
    const calls: string[] = [];
    const counted = new IssueRepository({ ...issueTables, main: countingCalls(issueTables.main, calls) }, { clock });
    const res = await counted.act('R-0001', { kind: 'priority', priority: 'P1' }, amina);
    if (res.kind !== 'updated' || !res.etag) throw new Error(`not updated: ${res.kind}`);
    expect(res.indexed).toBe(true);
    // As the service does once the change's follow-ups are queued.
    await counted.settleFollowUps('R-0001', res.unfinished ?? [], { reindex: false, written: { etag: res.etag, unfinished: res.unfinished ?? [], ...(res.marker ? { marker: res.marker } : {}) } });
    // Read the issue; write it with its marker (before: the marker, then the issue); take the change off its
    // unfinished list and drop the marker under the ETag of that write, which also shows nobody wrote the issue since
    // its index rows were written (before: a delete, then the write; and a read of the issue to check that).
    expect(calls).toEqual(['getEntity', 'submitTransaction', 'submitTransaction']);
    expect((await repo.get('R-0001'))?.priority).toBe('P1');
    clock.advance(3_600_000);
    expect(await repo.repairIndexes(60_000)).toBe(0);
  });

  it('lists an issue as it is after two changes crossed (the later one\'s rows written first), once the earlier one\'s follow-ups are settled', async () => {
    // Amina's P1 is saved and its index rows written; Bo's P3, saved after it, had its rows written before hers
    // landed (a slow link): the lists now show her P1 over the issue's P3.
    const { repo, queries, issueTables, first, second } = await aminaP1ThenBoP3();
    await repo.settleFollowUps('R-0001', second.unfinished ?? [], { reindex: false, written: { etag: second.etag, unfinished: second.unfinished ?? [], ...(second.marker ? { marker: second.marker } : {}) } });
    await landStaleQueueRows(issueTables, second.issue, { priority: 'P1' });
    expect((await queries.triageQueue()).items.map((i) => i.priority)).toEqual(['P1']);
    // Amina's follow-ups settle under her write's ETag: refused (Bo wrote since), so the rows are rebuilt first.
    await repo.settleFollowUps('R-0001', first.unfinished ?? [], { reindex: false, written: { etag: first.etag, unfinished: first.unfinished ?? [], ...(first.marker ? { marker: first.marker } : {}) } });
    for (const list of [{}, { status: 'new' }, { site: 'North clinic' }] as const) {
      expect((await queries.triageQueue(list)).items.map((i) => [i.ref, i.priority])).toEqual([['R-0001', 'P3']]);
    }
    expect((await queries.listByReporter(alice.id)).items.map((i) => i.priority)).toEqual(['P3']);
    expect(await repo.repairIndexes(60_000)).toBe(0);
  });

  it('a change whose follow-ups failed, crossed by a later change that settled it first, is checked with one read: the rows are rebuilt', async () => {
    // Amina's P1 keeps its marker for its settling write; Bo's P3 finishes both (rows rebuilt, both settled); then
    // Amina's stale P1 rows land, and her follow-ups fail: her settling write, the check on her rows, never happens.
    const { repo, queries, issueTables, first, second } = await aminaP1ThenBoP3();
    expect(first.marker).toBeDefined();
    expect(second.unfinished).toEqual([first.issue.version, second.issue.version]);
    await repo.settleFollowUps('R-0001', second.unfinished ?? [], { reindex: true, written: { etag: second.etag, unfinished: second.unfinished ?? [], ...(second.marker ? { marker: second.marker } : {}) } });
    await landStaleQueueRows(issueTables, second.issue, { priority: 'P1' });
    await repo.recheckKept('R-0001', first.issue.version);
    expect((await queries.triageQueue()).items.map((i) => [i.ref, i.priority])).toEqual([['R-0001', 'P3']]);
  });

  it('a change whose follow-ups were never settled (the process died) leaves its marker in the issue\'s partition to the repair job', async () => {
    const { repo, queries, clock } = await openStore();
    await repo.logIssue(form(), alice);
    await repo.act('R-0001', { kind: 'priority', priority: 'P1' }, amina);
    expect(await repo.repairIndexes(60_000)).toBe(0); // too fresh: its follow-ups may still be under way
    clock.advance(3_600_000); // the next sweep of the issues' partitions
    expect(await repo.repairIndexes(60_000)).toBe(1);
    expect((await queries.triageQueue()).items.map((i) => [i.ref, i.priority])).toEqual([['R-0001', 'P1']]);
    expect(await repo.repairIndexes(60_000)).toBe(0);
  });

  it('reads the issues\' partitions for markers once an hour, whichever instance runs the job, and repairs a marker left there at the hourly sweep', async () => {
    const { repo, queries, issueTables, clock, tables } = await openStore();
    await repo.logIssue(form(), alice);
    // Two instances' repositories over the same tables, counting the queries for markers in the issues' partitions.
    const partitionQueries: string[] = [];
    const main = new Proxy(issueTables.main, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'listEntities' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const filter = String((args[0] as { queryOptions?: { filter?: string } } | undefined)?.queryOptions?.filter ?? '');
          if (filter.includes("PartitionKey eq 'R-")) partitionQueries.push(filter);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const one = new IssueRepository({ ...issueTables, main }, { clock });
    const two = new IssueRepository({ ...issueTables, main }, { clock });
    const queue = await tables.table(ISSUE_TABLES.queue);
    await queue.deleteTable();
    await repo.act('R-0001', { kind: 'priority', priority: 'P1' }, amina); // its index rows fail: the marker stays in R-00xx
    await queue.createTable();
    expect(await one.repairIndexes(60_000)).toBe(0); // sweeps; the marker is too fresh
    expect(partitionQueries).toHaveLength(1);
    clock.advance(5 * 60_000);
    expect(await two.repairIndexes(60_000)).toBe(0); // within the hour: `~meta` only
    clock.advance(5 * 60_000);
    expect(await one.repairIndexes(60_000)).toBe(0);
    expect(partitionQueries).toHaveLength(1);
    expect((await queries.triageQueue()).items).toEqual([]);
    // An hour after the last sweep, one of two runs at the same moment sweeps again and repairs the marker.
    clock.advance(50 * 60_000);
    expect((await Promise.all([one.repairIndexes(60_000), two.repairIndexes(60_000)])).sort()).toEqual([0, 1]);
    expect(partitionQueries).toHaveLength(2);
    expect((await queries.triageQueue()).items.map((i) => [i.ref, i.priority])).toEqual([['R-0001', 'P1']]);
  });

  it('rebuilds index rows when their write failed after the main write', async () => {
    const errors: string[] = [];
    const { repo, queries, clock, tables } = await openStore({ onIndexError: (_e, ref) => errors.push(ref) });
    await repo.logIssue(form(), alice);
    const queue = await tables.table(ISSUE_TABLES.queue);
    await queue.deleteTable();
    // The main row is saved even though the queue table is gone: the report is not lost.
    await repo.act('R-0001', { kind: 'priority', priority: 'P1' }, amina);
    expect(errors).toEqual(['R-0001']);
    expect((await repo.get('R-0001'))?.priority).toBe('P1');
    await queue.createTable();
    expect((await queries.triageQueue()).items).toEqual([]);
    expect(await repo.repairIndexes(60_000)).toBe(0); // too fresh: may still be in flight
    clock.advance(3_600_000); // the next sweep of the issues' partitions
    expect(await repo.repairIndexes(60_000)).toBe(1);
    const items = (await queries.triageQueue()).items;
    expect(items.map((i) => [i.ref, i.priority])).toEqual([['R-0001', 'P1']]);
    expect(await repo.repairIndexes(60_000)).toBe(0);
  });
});

describe('IssueRepository: index writes', () => {
  it('moves an issue within each queue list in one call per list (its old row deleted, its new one written together)', async () => {
    const { repo, issueTables, queries, clock } = await openStore();
    await repo.logIssue(form(), alice);
    const calls: string[] = [];
    const counted = new IssueRepository({ ...issueTables, idx: { ...issueTables.idx, queue: countingCalls(issueTables.idx.queue, calls) } }, { clock });
    // P1 changes the issue's RowKey (its place) in all four queue lists it is in: the whole queue, New, its category, its site.
    expect((await counted.act('R-0001', { kind: 'priority', priority: 'P1' }, amina)).kind).toBe('updated');
    expect(calls).toEqual(Array(4).fill('submitTransaction'));
    for (const list of [{}, { status: 'new' }, { category: 'Access / login' }, { site: 'North clinic' }] as const) {
      expect((await queries.triageQueue(list)).items.map((i) => [i.ref, i.priority])).toEqual([['R-0001', 'P1']]);
    }
  });

  it('still moves the issue when a row it deletes is gone already (the list\'s transaction is refused, then done row by row)', async () => {
    const { repo, issueTables, queries } = await openStore();
    await repo.logIssue(form(), alice);
    const issue = await repo.get('R-0001');
    // The site list's row is gone (a repair, or retention, got there first).
    const site = indexRowsOf(issue).find((r) => r.partitionKey.startsWith('q~site~'))!;
    await issueTables.idx.queue.deleteEntity(site.partitionKey, site.rowKey);
    expect((await repo.act('R-0001', { kind: 'priority', priority: 'P2' }, amina)).kind).toBe('updated');
    for (const list of [{}, { site: 'North clinic' }] as const) {
      expect((await queries.triageQueue(list)).items.map((i) => [i.ref, i.priority])).toEqual([['R-0001', 'P2']]);
    }
  });
});

/** `table`, recording each storage call made through it (by method name) in `calls`. */
function countingCalls(table: TableClient, calls: string[]): TableClient {
  const storageCalls = new Set(['getEntity', 'listEntities', 'createEntity', 'upsertEntity', 'updateEntity', 'deleteEntity', 'submitTransaction']);
  return new Proxy(table, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || !storageCalls.has(String(prop))) return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** An issue's index rows (the archive row is what retention finds a done issue by). */
/** An issue whose priority Amina sets P1, then Bo P3: both changes saved, their follow-ups not yet settled. */
async function aminaP1ThenBoP3() {
  const store = await openStore();
  await store.repo.logIssue(form(), alice);
  const first = await store.repo.act('R-0001', { kind: 'priority', priority: 'P1' }, amina);
  if (first.kind !== 'updated' || !first.etag) throw new Error(`not updated: ${first.kind}`);
  const second = await store.repo.act('R-0001', { kind: 'priority', priority: 'P3' }, bo);
  if (second.kind !== 'updated' || !second.etag) throw new Error(`not updated: ${second.kind}`);
  return { ...store, first: { ...first, etag: first.etag }, second: { ...second, etag: second.etag } };
}

function indexRowsOf(issue: Issue | null) {
  if (!issue) throw new Error('no issue');
  return indexRowsFor(issue);
}
