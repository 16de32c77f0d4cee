import { describe, expect, it } from 'vitest';
import { OfferStore } from '../../src/issues/offers.js';
import { type Caller, escalationDestinations, followersToTell, IssueService } from '../../src/issues/service.js';
import { IssueExport } from '../../src/issues/export.js';
import type { Issue } from '../../src/issues/model.js';
import type { RepositoryOptions } from '../../src/issues/repository.js';
import { CapturedOutbox } from '../support/outbox.js';
import { alice, amina, bo, bob, form, landStaleQueueRows, openStore, seedDoneIssues } from './fixtures.js';
import { issueListData, renderIssueCard } from '../../src/issues/cards.js';

const caller = (p: { id: string; name: string }, role: Caller['role'] = 'staff'): Caller => ({
  person: { id: p.id, name: p.name },
  reporter: { id: p.id, name: p.name, conversationKey: p.id },
  role,
});
const staffAlice = caller(alice);
const staffBob = caller(bob);
const championAmina = caller(amina, 'champion');

/** A captured outbox whose next `failures` enqueues fail, as storage does when it stops answering. */
class FaultyOutbox extends CapturedOutbox {
  failures = 0;
  override async enqueue(messages: Parameters<CapturedOutbox['enqueue']>[0]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw Object.assign(new Error('The server is busy.'), { statusCode: 503 });
    }
    await super.enqueue(messages);
  }
}

async function service(opts: { reachable?: string[]; repo?: RepositoryOptions } = {}) {
  const s = await openStore(opts.repo);
  const outbox = new FaultyOutbox();
  const issues = new IssueService({
    repository: s.repo,
    queries: s.queries,
    exporter: new IssueExport(s.issueTables),
    offers: await OfferStore.open(s.tables, s.clock),
    outbox,
    champions: async () => [amina],
    reachable: async (k) => (opts.reachable ?? []).includes(k),
    rolloutTeamIds: ['aad-lead', 'aad-lead2'],
    categories: ['Access / login', 'Reports'],
  });
  return { ...s, issues, outbox };
}

async function logged(issues: IssueService, who: Caller, key: string, over: Record<string, string> = {}): Promise<Issue> {
  const r = await issues.report(who, form(over), { requestKey: key, checkSimilar: false });
  if (r.kind !== 'logged') throw new Error(r.kind);
  return r.issue;
}


/** The triage queue's next index write fails (storage busy), after the issue's own row is saved. */
function failQueueWriteOnce(issueTables: { idx: { queue: { upsertEntity: (...args: never[]) => Promise<unknown> } } }): void {
  const queue = issueTables.idx.queue;
  const upsert = queue.upsertEntity.bind(queue);
  let failures = 1;
  queue.upsertEntity = async (...args: Parameters<typeof upsert>) => {
    if (failures-- > 0) throw Object.assign(new Error('The server is busy.'), { statusCode: 503 });
    return upsert(...args);
  };
}

describe('who hears of an issue (pure rules)', () => {
  it('tells the reporter and every +1, but not the champion who made the change', () => {
    const issue = { reporter: { id: 'r', name: 'R', conversationKey: 'r' }, affected: [{ id: 'a', name: 'A' }, { id: 'c', name: 'C' }] } as Issue;
    expect(followersToTell(issue, 'c')).toEqual(['r', 'a']);
  });

  it('escalates 1:1 to the rollout team members it can reach, else to the triage channel', () => {
    expect(escalationDestinations(['l1', 'l2'], new Set(['l2']))).toEqual([{ kind: 'user', userKey: 'l2' }]);
    expect(escalationDestinations(['l1', 'l2'], new Set())).toEqual([{ kind: 'channel', role: 'triage' }]);
  });
});

describe('IssueService', () => {
  it('confirms a report at once and queues its triage card, once for a retried request', async () => {
    const { issues, outbox } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    const again = await issues.report(staffAlice, form(), { requestKey: 'req-1', checkSimilar: false });
    expect(again).toMatchObject({ kind: 'logged', fresh: false, issue: { ref: issue.ref } });
    const posts = outbox.messages.filter((m) => m.op === 'send' && m.to.kind === 'channel');
    // Enqueued by both attempts under one key: the outbound path sends a key once.
    expect(new Set(posts.map((m) => m.key))).toEqual(new Set([`issue-triage|${issue.ref}`]));
    expect(posts[0]).toMatchObject({ post: { kind: 'issue-triage', id: issue.ref, version: 1 } });
  });

  it('tells the reporter and followers of a status change, versioned, and redraws the card with that version', async () => {
    const { issues, outbox, repo } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    await repo.addAffected(issue.ref, { id: bob.id, name: bob.name });
    outbox.clear();
    const res = await issues.triage(championAmina, 'status', { ref: issue.ref, version: 2, status: 'triaged' }, 'inv-1');
    expect(res).toMatchObject({ kind: 'card', issue: { status: 'triaged', version: 3 } });
    expect(outbox.users().sort()).toEqual([alice.id, bob.id].sort());
    expect(outbox.messages.find((m) => m.op === 'update')).toMatchObject({ version: 3, post: { id: issue.ref } });
    expect(new Set(outbox.messages.map((m) => m.key)).size).toBe(outbox.messages.length);
  });

  it('words each notice for who reads it: "Your issue" to the reporter, "An issue you follow" to a +1', async () => {
    const { issues, outbox, repo } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    const original = await logged(issues, staffBob, 'req-2', { title: 'Locked out, the original' });
    await repo.addAffected(issue.ref, { id: bo.id, name: bo.name });
    const cardTo = (userKey: string) =>
      JSON.stringify(outbox.messages.find((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey === userKey)?.content ?? null);
    const steps: [string, Record<string, unknown>][] = [
      ['status', { status: 'waiting' }],
      ['comment', { comment: 'Does it happen on wifi too?', public: true }],
      ['status', { status: 'in_progress' }],
      ['status', { status: 'resolved' }],
      ['status', { status: 'in_progress' }],
      ['duplicate', { duplicateOf: original.ref }],
    ];
    for (const [kind, data] of steps) {
      outbox.clear();
      const version = (await repo.get(issue.ref))!.version;
      const res = await issues.triage(championAmina, kind as 'status', { ref: issue.ref, version, ...data }, `inv-${version}`);
      expect(res).toMatchObject({ kind: 'card' });
      const toReporter = cardTo(alice.id);
      const toFollower = cardTo(bo.id);
      expect(toReporter, `${kind} ${JSON.stringify(data)}`).toMatch(/your issue/i);
      expect(toReporter).not.toContain('you follow');
      expect(toFollower, `${kind} ${JSON.stringify(data)}`).toMatch(new RegExp(`an issue you follow \\(${issue.ref}\\)`, 'i'));
      expect(toFollower).not.toMatch(/your issue/i);
      // A +1 is not who the champion waits on.
      expect(toFollower).not.toContain('needs something from you');
    }
  });

  it('keeps internal notes from the reporter: no message for an internal comment', async () => {
    const { issues, outbox } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    outbox.clear();
    await issues.triage(championAmina, 'comment', { ref: issue.ref, version: 1, comment: 'checking logs' }, 'inv-1');
    expect(outbox.users()).toEqual([]);
  });

  it('refuses a triage action from staff, whatever the card says', async () => {
    const { issues, outbox, repo } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    outbox.clear();
    const res = await issues.triage(staffBob, 'assignMe', { ref: issue.ref, version: 1 }, 'inv-1');
    expect(res.kind).toBe('message');
    expect((await repo.get(issue.ref))?.assignee).toBeNull();
    expect(outbox.messages).toEqual([]);
  });

  it('lets a duplicate\'s reporter follow the original', async () => {
    const { issues, repo } = await service();
    const original = await logged(issues, staffAlice, 'req-1');
    const dup = await logged(issues, staffBob, 'req-2', { title: 'Locked out again' });
    await issues.triage(championAmina, 'duplicate', { ref: dup.ref, version: 1, duplicateOf: original.ref }, 'inv-1');
    expect((await repo.get(original.ref))?.affected.map((a) => a.id)).toEqual([bob.id]);
  });

  it('accepts "+1" only on an issue offered to that person as similar (or their own)', async () => {
    const { issues, repo } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    const forged = await issues.follow(staffBob, issue.ref, 'inv-1');
    expect(forged).toMatchObject({ kind: 'message' });
    expect((await repo.get(issue.ref))?.affected).toEqual([]);
    // Bob reports the same problem: the similar card offers Alice's issue, and then his +1 counts.
    const offered = await issues.report(staffBob, form(), { requestKey: 'req-2', checkSimilar: true });
    expect(offered).toMatchObject({ kind: 'similar', similar: [{ ref: issue.ref }] });
    expect(await issues.follow(staffBob, issue.ref, 'inv-2')).toMatchObject({ kind: 'followed' });
    expect((await repo.get(issue.ref))?.affected.map((a) => a.id)).toEqual([bob.id]);
  });

  it('does not say whether an unknown issue exists to someone who may not follow it', async () => {
    const { issues } = await service();
    const a = await issues.follow(staffBob, 'R-0999', 'inv-1');
    await logged(issues, staffAlice, 'req-1');
    const b = await issues.follow(staffBob, 'R-0001', 'inv-2');
    expect(a).toEqual(b);
  });

  it('tells a champion who joins an unknown issue that it does not exist, and lets them join any other', async () => {
    const { issues, repo } = await service();
    expect(await issues.follow(championAmina, 'R-0999', 'inv-1')).toMatchObject({ kind: 'message', text: expect.stringContaining('There is no issue R-0999') });
    const issue = await logged(issues, staffAlice, 'req-1');
    expect(await issues.follow(championAmina, issue.ref, 'inv-2')).toMatchObject({ kind: 'followed' });
    expect((await repo.get(issue.ref))?.affected.map((a) => a.id)).toEqual([championAmina.person.id]);
  });

  it('logs a lost device as P1 and escalates it at once to the rollout team it can reach', async () => {
    const { issues, outbox } = await service({ reachable: ['aad-lead2'] });
    const r = await issues.report(staffAlice, form({ title: 'Lost tablet' }), {
      requestKey: 'req-1',
      checkSimilar: true,
      lostDevice: true,
    });
    expect(r).toMatchObject({ kind: 'logged', issue: { priority: 'P1' } });
    expect(outbox.users()).toEqual(['aad-lead2']);
  });

  it('shows staff only their own issues, champions any', async () => {
    const { issues } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    expect(await issues.view(staffBob, issue.ref)).toMatchObject({ kind: 'message' });
    expect(await issues.view(staffAlice, issue.ref)).toMatchObject({ kind: 'issue', audience: 'reporter' });
    expect(await issues.view(championAmina, issue.ref)).toMatchObject({ kind: 'issue', audience: 'champion' });
    expect(await issues.list(staffBob, 'triage')).toBeNull();
  });

  /** Closes `ref` and lets retention remove it (closed more than a day before the sweep). */
  async function removedByRetention(s: Awaited<ReturnType<typeof service>>, ref: string): Promise<void> {
    for (const [version, status] of [[1, 'resolved'], [2, 'closed']] as const) await s.issues.triage(championAmina, 'status', { ref, version, status }, `close-${version}`);
    s.clock.advance(2 * 86_400_000);
    const found = (await s.queries.closedBefore(new Date(s.clock.now().getTime() - 86_400_000), 10)).find((f) => f.ref === ref);
    if (!found || !(await s.repo.expire(ref, new Date(s.clock.now().getTime() - 86_400_000), found))) throw new Error('not removed');
  }

  it('says an issue removed by retention is no longer there, not to check a reference the bot gave', async () => {
    const s = await service();
    const issue = await logged(s.issues, staffAlice, 'req-1');
    await removedByRetention(s, issue.ref);
    const seen = await s.issues.view(staffAlice, issue.ref);
    expect(seen).toMatchObject({ kind: 'message', text: expect.stringContaining(`There is no issue ${issue.ref} any more: closed issues are removed after a while`) });
    // A reference never given out is still one to check.
    expect(await s.issues.view(staffAlice, 'R-0099')).toMatchObject({ kind: 'message', text: expect.stringContaining('Check the reference') });
  });

  it('a "+1" on an offered issue removed since tells the person it is gone and how to log theirs, not that it was never offered', async () => {
    const s = await service();
    const issue = await logged(s.issues, staffAlice, 'req-1');
    expect(await s.issues.report(staffBob, form(), { requestKey: 'req-2', checkSimilar: true, formId: '0123456789abcdef' })).toMatchObject({ kind: 'similar' });
    await removedByRetention(s, issue.ref);
    const res = await s.issues.follow(staffBob, issue.ref, 'inv-1');
    expect(res).toMatchObject({ kind: 'message', text: expect.stringContaining(`${issue.ref} is no longer in the log`) });
    expect(res).toMatchObject({ kind: 'message', text: expect.stringContaining('No, log mine') });
    // Someone never shown it learns nothing of it.
    expect(await s.issues.follow(caller(bo), issue.ref, 'inv-2')).toMatchObject({ kind: 'message', text: expect.stringContaining('You can only join an issue you were shown') });
  });

  it('counts exported issues, not CSV lines (a description may span several lines)', async () => {
    const { issues } = await service();
    await logged(issues, staffAlice, 'req-1', { description: 'line one\nline two\nline three' });
    await logged(issues, staffBob, 'req-2', { description: 'first\r\nsecond', title: 'Other' });
    const exported = await issues.exportCsv(caller({ id: 'lead', name: 'Lead' }, 'rolloutTeam'));
    expect(exported?.count).toBe(2);
    expect(await issues.exportCsv(championAmina)).toBeNull();
  });
});

describe('IssueService: the triage command\'s sorted done list beyond 1,000', () => {
  it('tells the champion the order covers the 1,000 most recently closed, on every page, and not when it covers them all', async () => {
    const { issues, repo, issueTables, clock } = await service();
    await seedDoneIssues(issueTables, repo.counter, { count: 1001, from: new Date('2026-02-01T08:00:00Z'), status: 'wont_fix', fields: { site: 'Tembe' } });
    clock.set(new Date('2026-02-03T08:00:00Z'));
    const card = async (filters: Record<string, string>, token: string | null = null) => {
      const page = await issues.list(championAmina, 'triage', { token, filters });
      if (!page) throw new Error('refused');
      return { page, text: JSON.stringify(renderIssueCard('issue-list', issueListData({ list: 'triage', page, filters, paged: token !== null }))) };
    };
    const note = 'Sorted among the 1,000 most recently closed only: there are more. Narrow the filters (category, site, assignee) to sort the rest.';
    const first = await card({ status: 'wont_fix', sort: 'oldest' });
    expect(first.text).toContain(note);
    expect((await card({ status: 'wont_fix', sort: 'oldest' }, first.page.next)).text).toContain(note);
    // In its own order (most recently closed first) the list pages through them all: nothing to say.
    expect((await card({ status: 'wont_fix' })).text).not.toContain('1,000');
    // Narrowed below the cap, the order covers them all.
    await seedDoneIssues(issueTables, repo.counter, { count: 3, from: new Date('2026-02-02T08:00:00Z'), status: 'wont_fix', fields: { site: 'Marula' } });
    expect((await card({ status: 'wont_fix', site: 'Marula', sort: 'oldest' })).text).not.toContain('1,000');
  });

  it('names how many it sorted when more than five years back holds more than the rest of the 1,000', async () => {
    const { issues, repo, issueTables, clock } = await service();
    await seedDoneIssues(issueTables, repo.counter, { count: 1000, from: new Date('2020-02-01T08:00:00Z'), status: 'wont_fix' });
    const recent = await seedDoneIssues(issueTables, repo.counter, { count: 3, from: new Date('2026-03-01T08:00:00Z'), status: 'wont_fix' });
    clock.set(new Date('2026-03-05T08:00:00Z'));
    const filters = { status: 'wont_fix', sort: 'oldest' } as const;
    const page = await issues.list(championAmina, 'triage', { filters });
    if (!page) throw new Error('refused');
    // Only the three closed this month were sorted: the 1,000 closed six years ago did not fit with them.
    expect(page.items.map((i) => i.ref)).toEqual(recent);
    const text = JSON.stringify(renderIssueCard('issue-list', issueListData({ list: 'triage', page, filters })));
    expect(text).toContain('Sorted among the 3 most recently closed only: there are more.');
    expect(text).not.toContain('1,000');
  });
});


describe('IssueService: storage failing part-way through a triage action', () => {
  const noticeKeys = (outbox: CapturedOutbox, ref: string) =>
    outbox.messages.filter((m) => m.key.startsWith(`issue-notice|${ref}|`)).map((m) => m.key);

  it.each([
    ['a status change', 'status', { status: 'resolved' }],
    ['a public comment', 'comment', { comment: 'Clear the app cache and sign in again.', public: true }],
  ] as const)('after %s is saved but its notices fail to queue, the champion is told, and a retry or another press tells everyone once', async (_name, kind, data) => {
    const { issues, outbox, repo } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    await repo.addAffected(issue.ref, { id: bo.id, name: bo.name });
    outbox.clear();
    outbox.failures = 1;
    const first = await issues.triage(championAmina, kind, { ref: issue.ref, version: 2, ...data }, 'inv-1').catch((err: Error) => ({ kind: 'thrown', text: err.message }) as const);
    // The change is saved: the champion reads that, and what to do, not "nothing was lost, try again" for a change already made.
    expect(first).toMatchObject({ kind: 'card', unfinished: { message: expect.stringMatching(/saved.*press/i) } });
    expect((await repo.get(issue.ref))?.version).toBe(3);
    // Teams retries the same invoke, and the champion presses the same (stale) card's button again.
    await issues.triage(championAmina, kind, { ref: issue.ref, version: 2, ...data }, 'inv-1');
    await issues.triage(championAmina, kind, { ref: issue.ref, version: 2, ...data }, 'inv-2');
    const keys = noticeKeys(outbox, issue.ref);
    expect(new Set(keys)).toEqual(new Set([`issue-notice|${issue.ref}|v3|${alice.id}`, `issue-notice|${issue.ref}|v3|${bo.id}`]));
    // Queued once: later presses find nothing left to tell.
    expect(keys).toHaveLength(2);
    expect(outbox.messages.some((m) => m.op === 'update' && m.version === 3)).toBe(true);
    expect((await repo.get(issue.ref))?.version).toBe(3);
  });

  it('a duplicate link saved while its followers could not be moved to the original moves them on the retry', async () => {
    const { issues, outbox, repo } = await service();
    const original = await logged(issues, staffAlice, 'req-1');
    const dup = await logged(issues, staffBob, 'req-2', { title: 'Locked out again' });
    outbox.failures = 1;
    const first = await issues.triage(championAmina, 'duplicate', { ref: dup.ref, version: 1, duplicateOf: original.ref }, 'inv-1').catch(() => null);
    expect(first).toMatchObject({ kind: 'card', unfinished: { message: expect.stringMatching(/saved.*press/i) } });
    outbox.clear();
    await issues.triage(championAmina, 'duplicate', { ref: dup.ref, version: 1, duplicateOf: original.ref }, 'inv-2');
    expect(noticeKeys(outbox, dup.ref)).toEqual([`issue-notice|${dup.ref}|v2|${bob.id}`]);
    expect((await repo.get(original.ref))?.affected.map((a) => a.id)).toEqual([bob.id]);
  });

  it('an index row that failed to write after the issue was saved agrees with it again after the champion presses again', async () => {
    const { issues, repo, queries, issueTables } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    failQueueWriteOnce(issueTables);
    await issues.triage(championAmina, 'status', { ref: issue.ref, version: 1, status: 'triaged' }, 'inv-1').catch(() => null);
    await issues.triage(championAmina, 'status', { ref: issue.ref, version: 1, status: 'triaged' }, 'inv-2');
    expect((await repo.get(issue.ref))?.status).toBe('triaged');
    expect((await queries.triageQueue({ status: 'triaged' })).items.map((i) => i.ref)).toEqual([issue.ref]);
    expect((await queries.triageQueue({ status: 'new' })).items).toEqual([]);
    // The whole queue (the triage command's list, the tab's board) shows it as it is.
    expect((await queries.triageQueue({})).items.map((i) => [i.ref, i.status])).toEqual([[issue.ref, 'triaged']]);
    expect((await queries.listByReporter(alice.id)).items.map((i) => i.status)).toEqual(['triaged']);
  });

  it('a "+1" saved while the triage card could not be redrawn is counted on the card at the retry', async () => {
    const { issues, outbox, repo } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    await issues.report(staffBob, form(), { requestKey: 'req-2', checkSimilar: true });
    outbox.clear();
    outbox.failures = 1;
    const first = await issues.follow(staffBob, issue.ref, 'inv-1').catch((err: Error) => ({ kind: 'thrown', text: err.message }));
    // Saved: Bob reads that he is on it, not "try again" for a +1 already counted.
    expect(first).toMatchObject({ kind: 'followed' });
    expect((await repo.get(issue.ref))?.affected.map((a) => a.id)).toEqual([bob.id]);
    await issues.follow(staffBob, issue.ref, 'inv-1');
    expect(outbox.messages).toContainEqual(expect.objectContaining({ op: 'update', version: 2, post: { kind: 'issue-triage', id: issue.ref } }));
  });

  const noticeText = (outbox: CapturedOutbox, key: string) => JSON.stringify(outbox.messages.find((m) => m.key === key)?.content ?? null);

  it('a "Waiting on reporter" notice left unfinished, told at the next change, still says Waiting with its hint', async () => {
    const { issues, outbox } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    outbox.failures = 1;
    await issues.triage(championAmina, 'status', { ref: issue.ref, version: 1, status: 'waiting' }, 'inv-1');
    outbox.clear();
    await issues.triage(championAmina, 'status', { ref: issue.ref, version: 2, status: 'in_progress' }, 'inv-2');
    const waiting = noticeText(outbox, `issue-notice|${issue.ref}|v2|${alice.id}`);
    expect(waiting).toContain('Your issue is now Waiting on reporter');
    expect(waiting).toContain('A champion needs something from you');
    expect(waiting).not.toContain('In progress');
    expect(noticeText(outbox, `issue-notice|${issue.ref}|v3|${alice.id}`)).toContain('Your issue is now In progress');
  });

  it('a change told late reaches those who followed the issue then, not a "+1" who joined after it', async () => {
    const { issues, outbox } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    outbox.failures = 1;
    await issues.triage(championAmina, 'status', { ref: issue.ref, version: 1, status: 'waiting' }, 'inv-1');
    outbox.clear();
    // Bo joins at v3, and his +1 finishes the Waiting change (v2): Alice hears of it, Bo, who was not on it then, does not.
    await issues.report(caller(bo), form(), { requestKey: 'req-bo', checkSimilar: true });
    await issues.follow(caller(bo), issue.ref, 'inv-bo');
    expect(noticeKeys(outbox, issue.ref)).toEqual([`issue-notice|${issue.ref}|v2|${alice.id}`]);
  });

  it('a duplicate link left unfinished and undone since does not move its followers to the original', async () => {
    const { issues, repo, issueTables } = await service();
    const original = await logged(issues, staffAlice, 'req-1');
    const dup = await logged(issues, staffBob, 'req-2', { title: 'Locked out again' });
    // The link is saved (its hold of the original, a stamp, goes through); putting Bob on the original fails once.
    const update = issueTables.main.updateEntity.bind(issueTables.main);
    const transaction = issueTables.main.submitTransaction.bind(issueTables.main);
    let failures = 1;
    const fails = (entity: object & { rowKey?: string }) => entity.rowKey === original.ref && !('linkCheckedAt' in entity) && failures-- > 0;
    const busy = () => Promise.reject(Object.assign(new Error('The server is busy.'), { statusCode: 503 }));
    issueTables.main.updateEntity = ((...args: Parameters<typeof update>) => (fails(args[0]) ? busy() : update(...args))) as typeof update;
    // A write with its repair marker is one transaction.
    issueTables.main.submitTransaction = ((...args: Parameters<typeof transaction>) =>
      args[0].some((a) => a[0] === 'update' && fails(a[1])) ? busy() : transaction(...args)) as typeof transaction;
    await issues.triage(championAmina, 'duplicate', { ref: dup.ref, version: 1, duplicateOf: original.ref }, 'inv-1');
    expect((await repo.get(original.ref))?.affected).toEqual([]);
    // The champion sees it was a mistake and reopens it: Bob's issue is his own again, not followed on the original.
    await issues.triage(championAmina, 'status', { ref: dup.ref, version: 2, status: 'triaged' }, 'inv-2');
    expect((await repo.get(dup.ref))?.status).toBe('triaged');
    expect((await repo.get(original.ref))?.affected).toEqual([]);
  });

  it('a duplicate with many followers moves them all to the original in one write of it, not one write each', async () => {
    const { issues, repo, issueTables } = await service();
    const original = await logged(issues, staffAlice, 'req-1');
    const dup = await logged(issues, staffBob, 'req-2', { title: 'Locked out again' });
    const followers = Array.from({ length: 12 }, (_, i) => ({ id: `29:f${i}`, name: `F${i}` }));
    for (const f of followers) await repo.addAffected(dup.ref, f);
    const update = issueTables.main.updateEntity.bind(issueTables.main);
    const transaction = issueTables.main.submitTransaction.bind(issueTables.main);
    let writesOfOriginal = 0;
    issueTables.main.updateEntity = ((...args: Parameters<typeof update>) => {
      if (args[0].rowKey === original.ref) writesOfOriginal++;
      return update(...args);
    }) as typeof update;
    issueTables.main.submitTransaction = ((...args: Parameters<typeof transaction>) => {
      if (args[0].some((a) => a[0] === 'update' && a[1].rowKey === original.ref)) writesOfOriginal++;
      return transaction(...args);
    }) as typeof transaction;
    await issues.triage(championAmina, 'duplicate', { ref: dup.ref, version: 13, duplicateOf: original.ref }, 'inv-1');
    expect((await repo.get(original.ref))?.affected.map((a) => a.id)).toEqual([bob.id, ...followers.map((f) => f.id)]);
    // The link's hold of the original (a stamp), then one write for all 13 people.
    expect(writesOfOriginal).toBeLessThanOrEqual(2);
  });

  /** `n` public comments in a row on the issue, each saved while its notices could not be queued. */
  async function unfinishedComments(issues: IssueService, outbox: FaultyOutbox, ref: string, n: number) {
    for (let i = 0; i < n; i++) {
      outbox.failures = 1;
      await issues.triage(championAmina, 'comment', { ref, version: 1, comment: `Step ${i + 1}`, public: true }, `inv-${i}`);
    }
  }

  it('more unfinished changes than the issue lists: the oldest is still told when the next action finishes them', async () => {
    const { issues, outbox } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    await unfinishedComments(issues, outbox, issue.ref, 20);
    outbox.clear();
    await issues.triage(championAmina, 'comment', { ref: issue.ref, version: 1, comment: 'Done', public: true }, 'inv-last');
    const keys = noticeKeys(outbox, issue.ref);
    // v2 (the first comment) to v22 (this one): none is left untold.
    expect(new Set(keys)).toEqual(new Set(Array.from({ length: 21 }, (_, i) => `issue-notice|${issue.ref}|v${i + 2}|${alice.id}`)));
  });

  it('an unfinished change pushed off the list while storage still fails is logged, not lost in silence', async () => {
    const dropped: Array<[string, number[]]> = [];
    const { issues, outbox } = await service({ repo: { onFollowUpsDropped: (ref, versions) => dropped.push([ref, versions]) } });
    const issue = await logged(issues, staffAlice, 'req-1');
    await unfinishedComments(issues, outbox, issue.ref, 21);
    expect(dropped).toEqual([[issue.ref, [2]]]);
  });

  it('a change whose notices fail to queue, crossed by a later change settled first, leaves the lists showing the issue as it is', async () => {
    const { issues, queries, issueTables, outbox } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    const zola = caller({ id: '29:zola', name: 'Zola' }, 'champion');
    // Amina's P1 (v2) is saved and its index rows written, but slowly: while they are on their way, Zola's P3 (v3)
    // is saved and finishes both changes (rebuilding the rows, settling v2 and v3); then Amina's stale P1 rows land,
    // and her notices fail to queue, so her settling write (the check on her rows) never happens.
    const enqueue = outbox.enqueue.bind(outbox);
    let crossed = false;
    outbox.enqueue = async (messages) => {
      if (crossed) return enqueue(messages);
      crossed = true;
      const p3 = await issues.triage(zola, 'priority', { ref: issue.ref, version: 2, priority: 'P3' }, 'inv-2');
      if (p3.kind !== 'card') throw new Error(p3.kind);
      await landStaleQueueRows(issueTables, p3.issue, { priority: 'P1' });
      throw Object.assign(new Error('The server is busy.'), { statusCode: 503 });
    };
    const first = await issues.triage(championAmina, 'priority', { ref: issue.ref, version: 1, priority: 'P1' }, 'inv-1');
    expect(first).toMatchObject({ kind: 'card', unfinished: { message: expect.stringMatching(/saved.*press/i) } });
    // Nobody presses again: the lists show P3 (the issue's priority) now, not at the next hourly sweep.
    for (const list of [{}, { status: 'new' }] as const) {
      expect((await queries.triageQueue(list)).items.map((i) => [i.ref, i.priority])).toEqual([[issue.ref, 'P3']]);
    }
  });

  it('an unfinished change is finished by the next action on the issue, even one that changes no list', async () => {
    const { issues, queries, issueTables, outbox } = await service();
    const issue = await logged(issues, staffAlice, 'req-1');
    failQueueWriteOnce(issueTables);
    outbox.failures = 1;
    await issues.triage(championAmina, 'status', { ref: issue.ref, version: 1, status: 'triaged' }, 'inv-1');
    outbox.clear();
    // Another champion adds an internal note: no index row changes for it, yet the lists come right and Alice hears.
    await issues.triage(caller({ id: '29:zola', name: 'Zola' }, 'champion'), 'comment', { ref: issue.ref, version: 2, comment: 'looking' }, 'inv-9');
    expect((await queries.triageQueue({})).items.map((i) => [i.ref, i.status])).toEqual([[issue.ref, 'triaged']]);
    expect(outbox.messages.map((m) => m.key)).toContain(`issue-notice|${issue.ref}|v2|${alice.id}`);
  });
});
