import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { activity, buttonData, execute, invokeText, personalChat, post, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * The issue log over HTTP, as Teams drives it. One app for the file; every test logs the issues it needs
 * and reads references from the replies, so each test passes alone and in any order.
 */

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;

const TRIAGE = '19:triage@thread.tacv2';
const chatOf = (u: TestUser) => `a:chat-${u.aadObjectId}`;
/** Every activity from the connector's point of view: replies and proactive sends go to the recording connector. */
const where = (u: TestUser) => ({
  ...personalChat(connector.url, u),
});

const form = {
  title: 'Sync fails with FL-SYNC-409',
  description: 'Every evening the tablet says conflict and the visits stay pending.',
  location: 'Sync screen',
  category: 'Sync / offline',
  severity: 'blocks',
  site: 'Marula district',
};

let seq = 0;
/** A form for a problem no other test reports (so "similar issues" never interferes). */
function uniqueForm(over: Record<string, string> = {}) {
  seq++;
  return { ...form, title: `Problem ${seq} ${over.title ?? ''}`.trim(), site: `Site ${seq}`, ...over };
}

async function submit(user: TestUser, values: Record<string, unknown>, verb = 'issue.submit') {
  return execute(app, user, verb, values, where(user));
}

/** Logs an issue as `user` (no similar-issues step) and returns its reference. */
async function logIssue(user: TestUser, over: Record<string, string> = {}): Promise<string> {
  const res = await submit(user, { form: uniqueForm(over) }, 'issue.logAnyway');
  const ref = refIn(invokeText(res.body));
  if (!ref) throw new Error(`not logged: ${invokeText(res.body)}`);
  return ref;
}


function refIn(text: string): string {
  return /R-\d{4}/.exec(text)?.[0] ?? '';
}

const versionOf = async (ref: string) => (await app.repository.get(ref))?.version ?? 0;

/** Starts a connector and an app with the SLA settings, and makes a channel the triage channel. */
async function openDesk(): Promise<void> {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({
    SLA_UNTRIAGED_MINUTES: '120',
    SLA_BLOCKING_MINUTES: '30',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  }));
  // Everyone has a personal chat with the bot; the rollout team makes a channel the triage channel.
  for (const u of Object.values(USERS)) await say(app, u, 'whoami', where(u));
  const setup = await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', {
    serviceUrl: connector.url,
    conversation: { id: `${TRIAGE};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
  });
  expect(readable(setup)).toContain('triage channel');
}

async function closeDesk(): Promise<void> {
  await app?.stop();
  await connector?.stop();
}

beforeAll(openDesk);
afterAll(closeDesk);

describe('logging an issue', () => {
  it('opens the form on "report", saying how long each field may be', async () => {
    const text = JSON.stringify(await say(app, USERS.staff, 'report', where(USERS.staff)));
    expect(text).toContain('issue.submit');
    expect(text).toContain('Sync / offline');
    expect(text).toContain('Title (at most 120 characters)');
    expect(text).not.toContain('maxLength');
  });

  it('refuses an incomplete or over-long form with a message per field, keeps what was typed, and saves nothing', async () => {
    const before = (await app.queries.listByReporter(USERS.staff.aadObjectId, { limit: 50 })).items.length;
    const empty = await submit(USERS.staff, uniqueForm({ title: '' }));
    expect(invokeText(empty.body)).toMatch(/title/i);
    const longText = `${'x'.repeat(2_500)} the end`;
    const long = await submit(USERS.staff, uniqueForm({ description: longText }));
    expect(invokeText(long.body)).toMatch(/at most 2000 characters \(this one has 2508\)/);
    expect(JSON.stringify(long.body)).toContain('the end'); // the form comes back with the text as typed
    expect((await app.queries.listByReporter(USERS.staff.aadObjectId, { limit: 50 })).items).toHaveLength(before);
  });

  it('answers a paste far over a field’s limit with that field’s limit, not as an out-of-date card, keeping the form', async () => {
    const before = (await app.queries.listByReporter(USERS.staff.aadObjectId, { limit: 50 })).items.length;
    const res = await submit(USERS.staff, uniqueForm({ title: 'T'.repeat(500), description: `${'log line\n'.repeat(1_500)}end` }));
    const text = invokeText(res.body);
    expect(text).not.toMatch(/out of date/);
    expect(text).toMatch(/Title can be at most 120 characters \(this one has 500\)/);
    expect(text).toMatch(/What happened can be at most 2000 characters \(this one has 13503\)/);
    expect(JSON.stringify(res.body)).toContain('issue.submit'); // the form is back, to shorten and send again
    expect(JSON.stringify(res.body).length * 2).toBeLessThan(40 * 1024); // and still a card Teams accepts
    const lost = await submit(USERS.staff, uniqueForm({ description: 'x'.repeat(9_000) }), 'issue.submitLostDevice');
    expect(invokeText(lost.body)).toMatch(/at most 2000 characters \(this one has 9000\)/);
    expect(JSON.stringify(lost.body)).toContain('issue.submitLostDevice');
    expect((await app.queries.listByReporter(USERS.staff.aadObjectId, { limit: 50 })).items).toHaveLength(before);
  });

  it('saves a valid report with a reference, confirms it, and posts the triage card in the triage channel', async () => {
    const before = connector.sentTo(TRIAGE).length;
    const res = await submit(USERS.staff, uniqueForm());
    const ref = refIn(invokeText(res.body));
    expect(ref).toMatch(/^R-\d{4}$/);
    expect(invokeText(res.body)).toContain('logged');
    // The channel post is not the reporter's wait: it follows the confirmation.
    await connector.waitFor(() => connector.sentTo(TRIAGE).length > before);
    const posted = connector.sentTo(TRIAGE).slice(before);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0]?.body)).toContain(ref);
    expect(JSON.stringify(posted[0]?.body)).toContain('issue.assignMe');
  });

  it('confirms at once even while the triage channel does not answer (the post waits its turn)', async () => {
    const held = connector.hold(TRIAGE);
    try {
      const res = await submit(USERS.staff, uniqueForm({ title: 'while Teams is slow' }));
      const ref = refIn(invokeText(res.body));
      expect(ref).not.toBe('');
      await connector.waitFor(() => held.waiting() > 0);
      held.release();
      await connector.waitFor(() => connector.sentTo(TRIAGE).some((c) => JSON.stringify(c.body).includes(ref)));
    } finally {
      held.release();
    }
  });

  it('offers open issues that look the same, and "+1" adds the user as affected instead of a duplicate', async () => {
    const values = uniqueForm({ title: 'FL-SYNC-409 conflict when syncing every night' });
    const original = refIn(invokeText((await submit(USERS.staff, values)).body));
    const res = await submit(USERS.champion, { ...values, title: 'FL-SYNC-409 conflict when syncing' });
    expect(JSON.stringify(res.body)).toContain('issue.affected');
    expect(invokeText(res.body)).toContain(original);
    const plusOne = await execute(app, USERS.champion, 'issue.affected', { ref: original }, where(USERS.champion));
    expect(invokeText(plusOne.body)).toMatch(/affected/);
    const issue = await app.repository.get(original);
    expect(issue?.affected.map((a) => a.id)).toEqual([USERS.champion.aadObjectId]);
  });

  it('"+1" on an offered issue that was since linked as a duplicate puts the user on its original, so they hear when it is fixed', async () => {
    const values = uniqueForm({ title: 'Tablet camera freezes on the photo step' });
    const dup = refIn(invokeText((await submit(USERS.lead, values)).body));
    const original = await logIssue(USERS.lead, { title: 'Photo capture broken on every tablet' });
    const offered = await submit(USERS.staff, { ...values, title: 'Tablet camera freezes on photo step' });
    expect(invokeText(offered.body)).toContain(dup);
    // Between the offer and the staff member's click, a champion finds it is the same as another issue.
    await execute(app, USERS.champion, 'issue.duplicate', { ref: dup, version: await versionOf(dup), duplicateOf: original }, where(USERS.champion));
    expect((await app.repository.get(dup))?.status).toBe('duplicate');
    const plusOne = await execute(app, USERS.staff, 'issue.affected', { ref: dup }, where(USERS.staff));
    expect(invokeText(plusOne.body)).toContain(original);
    expect((await app.repository.get(original))?.affected.map((a) => a.id)).toContain(USERS.staff.aadObjectId);
  });

  it('"+1" on an offered issue that was since resolved says so, with its public resolution, and offers to log theirs instead of following it', async () => {
    const values = uniqueForm({ title: 'Printer in ward 3 prints blank referral forms' });
    const offeredRef = refIn(invokeText((await submit(USERS.lead, values)).body));
    const offered = await submit(USERS.staff, { ...values, title: 'Ward 3 printer prints blank referral forms' });
    expect(invokeText(offered.body)).toContain(offeredRef);
    // Between the offer and the click, a champion resolves it, with a note to the reporter and an internal one.
    const act = async (verb: string, data: Record<string, unknown>) =>
      execute(app, USERS.champion, verb, { ref: offeredRef, version: await versionOf(offeredRef), ...data }, where(USERS.champion));
    await act('issue.comment', { comment: 'New toner cartridge fitted; print a test page.', public: true });
    await act('issue.comment', { comment: 'Supplier invoice 4471 pending', public: false });
    await act('issue.status', { status: 'resolved' });
    const before = await versionOf(offeredRef);
    // The +1 carries the form's id, not the form (kept with the offer): three of them would pass Teams' 40 KB.
    expect(buttonData(offered.body, 'issue.affected')).not.toHaveProperty('form');
    const plusOne = await execute(app, USERS.staff, 'issue.affected', buttonData(offered.body, 'issue.affected'), where(USERS.staff));
    const text = invokeText(plusOne.body);
    expect(text).toMatch(new RegExp(`${offeredRef}.*resolved`, 'i'));
    expect(text).toContain('New toner cartridge fitted; print a test page.');
    expect(text).not.toContain('Supplier invoice');
    expect(text).not.toMatch(/you.ll hear when it changes/);
    // Not put on a finished issue: nothing changed on it.
    expect(await versionOf(offeredRef)).toBe(before);
    expect((await app.repository.get(offeredRef))?.affected).toEqual([]);
    // "Log it anyway" logs their own report, with what they typed.
    const anyway = await execute(app, USERS.staff, 'issue.logAnyway', buttonData(plusOne.body, 'issue.logAnyway'), where(USERS.staff));
    const mine = refIn(invokeText(anyway.body));
    expect(mine).toMatch(/^R-\d{4}$/);
    expect(mine).not.toBe(offeredRef);
    expect((await app.repository.get(mine))?.title).toBe('Ward 3 printer prints blank referral forms');
  });

  it('does not tell someone who was never offered an issue that it was resolved', async () => {
    const secret = await logIssue(USERS.lead, { title: 'Payroll export leaks names' });
    await execute(app, USERS.champion, 'issue.status', { ref: secret, version: await versionOf(secret), status: 'resolved' }, where(USERS.champion));
    const forged = await execute(app, USERS.staff, 'issue.affected', { ref: secret }, where(USERS.staff));
    expect(invokeText(forged.body)).toMatch(/only join an issue you were shown/);
    expect(invokeText(forged.body)).not.toMatch(/resolved|Payroll/i);
  });

  it('refuses a "+1" on an issue the user was never shown, and they still cannot read it', async () => {
    const secret = await logIssue(USERS.lead, { title: 'Salary data visible to enumerators' });
    const forged = await execute(app, USERS.staff, 'issue.affected', { ref: secret }, where(USERS.staff));
    expect(invokeText(forged.body)).toMatch(/only join an issue you were shown/);
    expect((await app.repository.get(secret))?.affected).toEqual([]);
    const view = readable(await say(app, USERS.staff, `issue ${secret}`, where(USERS.staff)));
    expect(view).toMatch(/not one of your issues/);
    expect(view).not.toContain('Salary');
  });

  it('logs it anyway when the user says it is a different problem', async () => {
    const res = await execute(
      app,
      USERS.lead,
      'issue.logAnyway',
      { form: uniqueForm({ title: 'Sync FL-SYNC-409 on the new tablets' }) },
      where(USERS.lead),
    );
    expect(refIn(invokeText(res.body))).toMatch(/^R-\d{4}$/);
  });

  it('handles the same submission sent twice by a Teams retry as one issue', async () => {
    const values = uniqueForm({ title: 'Retry me once' });
    const a = activity(USERS.staff, {
      ...where(USERS.staff),
      type: 'invoke',
      name: 'adaptiveCard/action',
      value: { action: { type: 'Action.Execute', verb: 'issue.logAnyway', data: { form: values } } },
      deliveryMode: undefined,
    });
    await post(app, a);
    await post(app, a);
    const mine = await app.queries.listByReporter(USERS.staff.aadObjectId, { limit: 50 });
    expect(mine.items.filter((i) => i.title === values.title)).toHaveLength(1);
  });

  it('lets someone whose Teams name is very long report all the same', async () => {
    const longName = { ...USERS.staff, id: '29:long', aadObjectId: 'aad-long', name: 'N'.repeat(300) };
    const res = await execute(app, longName, 'issue.logAnyway', { form: uniqueForm() }, where(longName));
    expect(refIn(invokeText(res.body))).toMatch(/^R-\d{4}$/);
  });

  it('keeps what was typed after "report" or "report lost device" in the form, instead of dropping it', async () => {
    const lost = await say(app, USERS.staff, 'report lost device Tablet FL-221 stolen at Marula market', where(USERS.staff));
    const lostJson = JSON.stringify(lost);
    expect(lostJson).toContain('issue.submitLostDevice');
    expect(lostJson).toContain('Tablet FL-221 stolen at Marula market');
    const plain = JSON.stringify(await say(app, USERS.staff, 'report the sync button is greyed out', where(USERS.staff)));
    expect(plain).toContain('issue.submit');
    expect(plain).toContain('the sync button is greyed out');
  });

  it('logs "report lost device" as P1 at once', async () => {
    const card = JSON.stringify(await say(app, USERS.staff, 'report lost device', where(USERS.staff)));
    expect(card).toContain('issue.submitLostDevice');
    const res = await submit(USERS.staff, uniqueForm({ title: 'Tablet stolen on the bus' }), 'issue.submitLostDevice');
    const ref = refIn(invokeText(res.body));
    expect((await app.repository.get(ref))?.priority).toBe('P1');
  });

  it('logs a lost device once when its form is sent twice at once (a double click: two invokes, two activity ids)', async () => {
    const card = await say(app, USERS.staff, 'report lost device', where(USERS.staff));
    const values = uniqueForm({ title: 'Tablet lost at the market' });
    // What a press sends: the button's own data with the form's inputs.
    const press = () => execute(app, USERS.staff, 'issue.submitLostDevice', { ...buttonData(card, 'issue.submitLostDevice'), ...values }, where(USERS.staff));
    const [a, b] = await Promise.all([press(), press()]);
    const refs = [refIn(invokeText(a.body)), refIn(invokeText(b.body))];
    expect(refs[0]).toMatch(/^R-\d{4}$/);
    expect(refs[1]).toBe(refs[0]);
    const mine = await app.queries.listByReporter(USERS.staff.aadObjectId, { limit: 50 });
    expect(mine.items.filter((i) => i.title === values.title)).toHaveLength(1);
    // A press after the first answered (a Teams retry with a new activity id) logs nothing new either.
    expect(refIn(invokeText((await press()).body))).toBe(refs[0]);
    expect((await app.queries.listByReporter(USERS.staff.aadObjectId, { limit: 50 })).items.filter((i) => i.title === values.title)).toHaveLength(1);
    // Another lost-device form is another report.
    const next = await say(app, USERS.staff, 'report lost device', where(USERS.staff));
    const other = await execute(app, USERS.staff, 'issue.submitLostDevice', { ...buttonData(next, 'issue.submitLostDevice'), ...values }, where(USERS.staff));
    expect(refIn(invokeText(other.body))).not.toBe(refs[0]);
  });
});

describe('triage by champions', () => {
  it('refuses a champion action forged by a staff member and changes nothing', async () => {
    const ref = await logIssue(USERS.staff);
    const version = await versionOf(ref);
    const forged = await execute(app, USERS.staff, 'issue.status', { ref, version, status: 'resolved' }, where(USERS.staff));
    expect(invokeText(forged.body)).toMatch(/champions/);
    const after = await app.repository.get(ref);
    expect(after?.status).toBe('new');
    expect(after?.version).toBe(version);
  });

  it('refuses a forged Action.Submit once, in one reply', async () => {
    const ref = await logIssue(USERS.staff);
    const replies = await say(app, USERS.staff, '', {
      ...where(USERS.staff),
      value: { action: 'issue.assignMe', ref, version: 1 },
    });
    expect(replies).toHaveLength(1);
    expect(readable(replies)).toMatch(/champions/);
    expect((await app.repository.get(ref))?.assignee).toBeNull();
  });

  it('assigns to me, updates the channel card in place for everyone, and tells the reporter on status changes', async () => {
    const ref = await logIssue(USERS.staff);
    const assigned = await execute(app, USERS.champion, 'issue.assignMe', { ref, version: await versionOf(ref) }, where(USERS.champion));
    expect(invokeText(assigned.body)).toContain(USERS.champion.name);
    await connector.waitFor((calls) =>
      calls.some((c) => c.method === 'PUT' && c.conversationId === TRIAGE && JSON.stringify(c.body).includes(ref) && JSON.stringify(c.body).includes(USERS.champion.name)),
    );

    const sentBefore = connector.sentTo(chatOf(USERS.staff)).length;
    const moved = await execute(app, USERS.champion, 'issue.status', { ref, version: await versionOf(ref), status: 'in_progress' }, where(USERS.champion));
    expect(invokeText(moved.body)).toMatch(/In progress/i);
    // Another test's notice to the reporter may still be on its way: look for this issue's among what arrived since.
    await connector.waitFor(() => connector.sentTo(chatOf(USERS.staff)).slice(sentBefore).some((c) => JSON.stringify(c.body).includes(ref)));
  });

  it('a change saved while storage failed to queue its notices says so on the card, and pressing again tells the reporter', async () => {
    const ref = await logIssue(USERS.staff);
    const version = await versionOf(ref);
    const enqueue = app.outbox.enqueue.bind(app.outbox);
    let failures = 1;
    app.outbox.enqueue = async (messages) => {
      if (failures-- > 0) throw Object.assign(new Error('The server is busy.'), { statusCode: 503 });
      return enqueue(messages);
    };
    try {
      const first = await execute(app, USERS.champion, 'issue.status', { ref, version, status: 'resolved' }, where(USERS.champion));
      // Saved: not "nothing was lost, try again", which reads as if the change was not made.
      expect(invokeText(first.body)).toMatch(/Saved as shown.*Press the button again/);
      expect(invokeText(first.body)).not.toMatch(/did not go through/);
      expect((await app.repository.get(ref))?.status).toBe('resolved');
      const sentBefore = connector.sentTo(chatOf(USERS.staff)).length;
      const again = await execute(app, USERS.champion, 'issue.status', { ref, version, status: 'resolved' }, where(USERS.champion));
      expect(invokeText(again.body)).toMatch(/already Resolved/);
      await connector.waitFor(() => connector.sentTo(chatOf(USERS.staff)).slice(sentBefore).some((c) => JSON.stringify(c.body).includes(ref)));
    } finally {
      app.outbox.enqueue = enqueue;
    }
  });

  it('names champions in the Assign list by the name they go by in Teams', async () => {
    const ref = await logIssue(USERS.staff);
    const card = await execute(app, USERS.champion, 'issue.assignMe', { ref, version: await versionOf(ref) }, where(USERS.champion));
    const json = JSON.stringify(card.body);
    expect(json).toContain(`"title":"${USERS.champion.name}"`);
    expect(json).not.toMatch(/Champion [0-9a-f]{8}/);
  });

  it('lets only one of two champions acting on the same card version win; the other sees the fresh card', async () => {
    const ref = await logIssue(USERS.staff);
    const version = await versionOf(ref);
    const [a, b] = await Promise.all([
      execute(app, USERS.champion, 'issue.priority', { ref, version, priority: 'P1' }, where(USERS.champion)),
      execute(app, USERS.lead, 'issue.priority', { ref, version, priority: 'P3' }, where(USERS.lead)),
    ]);
    const after = await app.repository.get(ref);
    const texts = [invokeText(a.body), invokeText(b.body)];
    expect(texts.some((t) => /already|changed|meanwhile|first/i.test(t))).toBe(true);
    expect(after?.history.filter((h) => h.what === 'priority')).toHaveLength(1);
    expect(['P1', 'P3']).toContain(after?.priority);
  });

  it('answers a comment far over its limit with the limit, not as an out-of-date card, and saves nothing', async () => {
    const ref = await logIssue(USERS.staff);
    const version = await versionOf(ref);
    const res = await execute(app, USERS.champion, 'issue.comment', { ref, version, comment: 'c'.repeat(9_000), public: 'false' }, where(USERS.champion));
    expect(invokeText(res.body)).not.toMatch(/out of date/);
    expect(invokeText(res.body)).toMatch(/Comment can be at most 2000 characters \(this one has 9000\)/);
    expect((await app.repository.get(ref))?.version).toBe(version);
  });

  it('says plainly that a card’s issue is gone (removed after it was closed) when a champion acts on it', async () => {
    const res = await execute(app, USERS.champion, 'issue.priority', { ref: 'R-0999', version: 3, priority: 'P1' }, where(USERS.champion));
    expect(invokeText(res.body)).toBe('There is no issue R-0999 any more: closed issues are removed after a while. Type "triage" for the open ones.');
  });

  it('posts a comment once when the champion presses Add comment twice, and tells the reporter once', async () => {
    const ref = await logIssue(USERS.staff);
    const version = await versionOf(ref);
    const press = () => execute(app, USERS.champion, 'issue.comment', { ref, version, comment: 'Please restart the tablet.', public: 'true' }, where(USERS.champion));
    await press();
    // The second press of the same card (a double click, or the card not yet redrawn).
    const second = await press();
    const after = await app.repository.get(ref);
    expect(after?.comments.map((c) => c.text)).toEqual(['Please restart the tablet.']);
    // One comment is one version, so one notice to the reporter (notices are keyed by version).
    expect(after?.version).toBe(version + 1);
    expect(invokeText(second.body)).toMatch(/already/i);
  });

  it('keeps both comments when two champions comment at once', async () => {
    const ref = await logIssue(USERS.staff);
    const version = await versionOf(ref);
    await Promise.all([
      execute(app, USERS.champion, 'issue.comment', { ref, version, comment: 'Checked the device logs.', public: 'false' }, where(USERS.champion)),
      execute(app, USERS.lead, 'issue.comment', { ref, version, comment: 'Asked the vendor.', public: 'true' }, where(USERS.lead)),
    ]);
    const after = await app.repository.get(ref);
    expect(after?.comments.map((c) => c.text).sort()).toEqual(['Asked the vendor.', 'Checked the device logs.']);
  });

  it('refuses to change the priority or assignee of a Closed issue, saying so, and its card offers neither', async () => {
    const ref = await logIssue(USERS.staff);
    for (const status of ['resolved', 'closed']) {
      await execute(app, USERS.champion, 'issue.status', { ref, version: await versionOf(ref), status }, where(USERS.champion));
    }
    const closed = await app.repository.get(ref);
    expect(closed?.status).toBe('closed');
    for (const [verb, data] of [
      ['issue.priority', { priority: 'P1' }],
      ['issue.assignMe', {}],
      ['issue.assign', { assignee: USERS.champion.aadObjectId }],
    ] as const) {
      const res = await execute(app, USERS.champion, verb, { ref, version: closed!.version, ...data }, where(USERS.champion));
      expect(invokeText(res.body)).toContain(`${ref} is closed`);
      // The card it answers with is the closed issue's: nothing there to press that would be refused.
      const json = JSON.stringify(res.body);
      expect(json).not.toContain('issue.priority');
      expect(json).not.toContain('issue.assignMe');
      expect(json).not.toContain('issue.assign"');
      expect(json).toContain('issue.comment');
    }
    const after = await app.repository.get(ref);
    expect(after?.version).toBe(closed?.version);
    expect(after?.priority).toBeNull();
    expect(after?.assignee).toBeNull();
  });

  it('lists done issues in the order asked for ("triage status:wont_fix sort:newest"), on every page, as the tab does', async () => {
    const site = `Sorted site ${Date.now()}`;
    const refs: string[] = [];
    for (let i = 0; i < 3; i++) {
      refs.push(await logIssue(USERS.staff, { site }));
      clock.advance(60_000);
    }
    // Closed newest first, so "most recently closed first" lists them oldest first and the orders differ.
    for (const ref of [...refs].reverse()) {
      await execute(app, USERS.champion, 'issue.status', { ref, version: await versionOf(ref), status: 'wont_fix' }, where(USERS.champion));
      clock.advance(60_000);
    }
    const order = (text: string) => refs.filter((r) => text.includes(r)).sort((a, b) => text.indexOf(a) - text.indexOf(b));
    const plain = readable(await say(app, USERS.champion, `triage status:wont_fix site:"${site}"`, where(USERS.champion)));
    expect(order(plain)).toEqual(refs);
    expect(plain).toContain('Most recently closed first');
    const newest = readable(await say(app, USERS.champion, `triage status:wont_fix site:"${site}" sort:newest`, where(USERS.champion)));
    expect(order(newest)).toEqual([...refs].reverse());
    expect(newest).toContain('Newest logged first');
    // The list's page buttons carry the order with the filters.
    const page = await execute(app, USERS.champion, 'issue.page', { list: 'triage', token: '', filters: { status: 'wont_fix', site, sort: 'newest' } }, where(USERS.champion));
    expect(order(invokeText(page.body))).toEqual([...refs].reverse());
    expect(readable(await say(app, USERS.champion, 'triage sort:newest', where(USERS.champion)))).toMatch(/orders a done list/);
  });

  it('shows the triage queue to champions with filters, and refuses it to staff', async () => {
    const site = `Filter site ${Date.now()}`;
    const moving = await logIssue(USERS.staff, { site });
    const waiting = await logIssue(USERS.staff, { site });
    await execute(app, USERS.champion, 'issue.status', { ref: moving, version: await versionOf(moving), status: 'in_progress' }, where(USERS.champion));
    await execute(app, USERS.champion, 'issue.assignMe', { ref: moving, version: await versionOf(moving) }, where(USERS.champion));

    expect(readable(await say(app, USERS.staff, 'triage', where(USERS.staff)))).toMatch(/champions/);
    const all = readable(await say(app, USERS.champion, `triage site:"${site}"`, where(USERS.champion)));
    expect(all).toContain(moving);
    expect(all).toContain(waiting);
    const filtered = readable(await say(app, USERS.champion, `triage status:in_progress site:"${site}"`, where(USERS.champion)));
    expect(filtered).toContain(moving);
    expect(filtered).not.toContain(waiting);
    expect(readable(await say(app, USERS.champion, 'triage colour:red', where(USERS.champion)))).toMatch(/Usage/);
    expect(readable(await say(app, USERS.champion, 'assigned', where(USERS.champion)))).toContain(moving);
  });
});

describe('duplicates and followers', () => {
  it('marks a duplicate, makes its reporter a follower of the original, who then hears when it changes', async () => {
    const original = await logIssue(USERS.lead);
    const dup = await logIssue(USERS.staff);
    const marked = await execute(app, USERS.champion, 'issue.duplicate', { ref: dup, version: await versionOf(dup), duplicateOf: original }, where(USERS.champion));
    expect(invokeText(marked.body)).toMatch(/Duplicate/);
    expect((await app.repository.get(original))?.affected.map((a) => a.id)).toContain(USERS.staff.aadObjectId);

    const before = connector.sentTo(chatOf(USERS.staff)).length;
    await execute(app, USERS.champion, 'issue.status', { ref: original, version: await versionOf(original), status: 'resolved' }, where(USERS.champion));
    await connector.waitFor(() =>
      connector.sentTo(chatOf(USERS.staff)).slice(before).some((c) => JSON.stringify(c.body).includes(original)),
    );
    // The follower now reads the original as a reporter does.
    expect(readable(await say(app, USERS.staff, `issue ${original}`, where(USERS.staff)))).toContain(original);
  });

  it('refuses a duplicate of a Closed issue on the card, saying why on the fresh card, and its reporter follows nothing dead', async () => {
    const original = await logIssue(USERS.lead);
    const dup = await logIssue(USERS.staff);
    for (const status of ['resolved', 'closed']) {
      await execute(app, USERS.champion, 'issue.status', { ref: original, version: await versionOf(original), status }, where(USERS.champion));
    }
    const res = await execute(app, USERS.champion, 'issue.duplicate', { ref: dup, version: await versionOf(dup), duplicateOf: original }, where(USERS.champion));
    expect(invokeText(res.body)).toContain(`${original} is closed, and a closed issue cannot be reopened`);
    expect(await app.repository.get(dup)).toMatchObject({ status: 'new', duplicateOf: null });
    expect((await app.repository.get(original))?.affected).toEqual([]);
  });

  it('a "duplicate of" that is not an issue reference (a word, a long paste) is told on the card, not as an out-of-date card; nothing changes', async () => {
    const dup = await logIssue(USERS.staff);
    for (const duplicateOf of ['hello', 'x'.repeat(10_000)]) {
      const res = invokeText((await execute(app, USERS.champion, 'issue.duplicate', { ref: dup, version: await versionOf(dup), duplicateOf }, where(USERS.champion))).body);
      expect(res, duplicateOf.slice(0, 20)).not.toContain('out of date');
      expect(res, duplicateOf.slice(0, 20)).toContain('is not an issue reference');
    }
    expect(await app.repository.get(dup)).toMatchObject({ status: 'new', duplicateOf: null, version: 1 });
  });

  it('cancels the form: the card says so and nothing is saved', async () => {
    const count = (await app.queries.listByReporter(USERS.lead.aadObjectId, { limit: 50 })).items.length;
    const res = await execute(app, USERS.lead, 'issue.cancel', {}, where(USERS.lead));
    expect(invokeText(res.body)).toMatch(/nothing was saved/i);
    expect(JSON.stringify(res.body)).not.toContain('issue.submit'); // the form is gone, not left live
    expect((await app.queries.listByReporter(USERS.lead.aadObjectId, { limit: 50 })).items).toHaveLength(count);
  });
});

describe('following one’s issues', () => {
  it('lists the user’s issues and shows one with its history, hiding internal comments from the reporter', async () => {
    clock.advance(60_000); // newest first: this one is the newest
    const ref = await logIssue(USERS.staff);
    const version = await versionOf(ref);
    await execute(app, USERS.champion, 'issue.comment', { ref, version, comment: 'Internal: device logs.', public: 'false' }, where(USERS.champion));
    await execute(app, USERS.champion, 'issue.comment', { ref, version: await versionOf(ref), comment: 'We are on it.', public: 'true' }, where(USERS.champion));
    expect(readable(await say(app, USERS.staff, 'my issues', where(USERS.staff)))).toContain(ref);
    const champ = readable(await say(app, USERS.lead, `issue ${ref}`, where(USERS.lead)));
    expect(champ).toContain('Internal: device logs.');
    const mine = readable(await say(app, USERS.staff, `issue ${ref}`, where(USERS.staff)));
    expect(mine).toContain('We are on it.');
    expect(mine).not.toContain('Internal: device logs.');
  });

  it('says plainly when an issue does not exist, and what to do instead', async () => {
    const text = readable(await say(app, USERS.staff, 'issue R-9999', where(USERS.staff)));
    expect(text).toMatch(/There is no issue R-9999\. Check the reference, or type "my issues"/);
    expect(text).not.toContain('\\');
  });
});

describe('export', () => {
  it('gives the rollout team a CSV download link counting issues (not lines), and refuses it to champions', async () => {
    await logIssue(USERS.staff, { description: 'line one\nline two\nline three' });
    await logIssue(USERS.staff, { description: 'first\r\nsecond' });
    expect(readable(await say(app, USERS.champion, 'export issues', where(USERS.champion)))).toMatch(/rollout team/);
    const text = readable(await say(app, USERS.lead, 'export issues', where(USERS.lead)));
    const url = /\((http[^)]+\/exports\/[0-9a-f]+)\)/.exec(text)?.[1] ?? '';
    expect(url).not.toBe('');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="rollout-issues-.*\.csv"/);
    const csv = await res.text();
    const issues = Number(/export of (\d+) issue/.exec(text)?.[1]);
    const refs = new Set(csv.match(/\n"R-\d{4}",/g));
    expect(issues).toBe(refs.size);
    expect((await fetch(url.replace(/[0-9a-f]{64}$/, 'f'.repeat(64)))).status).toBe(404);
  });

  it('sends the link 1:1 when asked in a channel, where everyone would see it', async () => {
    const before = connector.sentTo(chatOf(USERS.lead)).length;
    const replies = await say(app, USERS.lead, '<at>Rollout Desk</at> export issues', {
      serviceUrl: connector.url,
      conversation: { id: `${TRIAGE};messageid=7`, conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
    });
    expect(readable(replies)).toMatch(/private chat/);
    expect(readable(replies)).not.toContain('/exports/');
    // Another test's notice to the lead may still be on its way: look for the link among what arrived since.
    const links = () => connector.sentTo(chatOf(USERS.lead)).slice(before).filter((c) => JSON.stringify(c.body).includes('/exports/'));
    await connector.waitFor(() => links().length > 0, 30_000);
    expect(links()).toHaveLength(1);
  });
});

describe('SLA', () => {
  // A desk of its own: the clock jumps hours, and on the file's desk every issue the tests above logged (most of
  // them blocking) would fall due with this one, their reminders and escalations paced out to the same triage
  // channel and lead's chat (about 25 s of sends before the queue settles).
  let fileDesk: { app: App; clock: ManualClock; connector: RecordingConnector };
  beforeAll(async () => {
    fileDesk = { app, clock, connector };
    await openDesk();
  });
  afterAll(async () => {
    await closeDesk();
    ({ app, clock, connector } = fileDesk);
  });

  it('reminds the triage channel once about an issue left untriaged, and escalates a blocking one once', async () => {
    const ref = await logIssue(USERS.staff, { title: 'Cannot log in at all', category: 'Access / login' });
    const channelBefore = connector.sentTo(TRIAGE).length;
    const leadBefore = connector.sentTo(chatOf(USERS.lead)).length;
    const about = (calls: { body: unknown }[], text: string) =>
      calls.filter((c) => JSON.stringify(c.body).includes(text));
    const tick = async () => {
      await app.scheduler.tick();
      await app.settled();
    };
    clock.advance(31 * 60_000);
    await tick();
    const escalations = about(connector.sentTo(chatOf(USERS.lead)).slice(leadBefore), `**${ref}**`);
    expect(escalations).toHaveLength(1);
    expect(JSON.stringify(escalations[0]?.body)).toContain('Escalation');
    clock.advance(90 * 60_000);
    await tick();
    await tick();
    expect(about(connector.sentTo(TRIAGE).slice(channelBefore), `Reminder: **${ref}**`)).toHaveLength(1);
    clock.advance(120 * 60_000);
    await tick();
    expect(about(connector.sentTo(chatOf(USERS.lead)).slice(leadBefore), `**${ref}**`)).toHaveLength(1);
    expect(about(connector.sentTo(TRIAGE).slice(channelBefore), `Reminder: **${ref}**`)).toHaveLength(1);
  }, 90_000);
});
