import { describe, expect, it, vi } from 'vitest';
import { confirmCard } from '../../src/broadcast/cards.js';
import { parsePlan } from '../../src/broadcast/plan.js';
import { outboundKey } from '../../src/broadcast/runner.js';
import { parseWorkingHours } from '../../src/broadcast/working-hours.js';
import { ManualClock } from '../../src/clock.js';
import { RosterUnanswered } from '../../src/roles/roles.js';
import type { Rollout } from '../../src/rollout/model.js';
import { testTables } from '../support/storage.js';
import { channelIdOf, type Fixture, fixture, finished, installed, LEAD, rolloutTeam, settle, STAFF, TestOutbox, users, welcomePlan } from './support.js';

const rollout: Rollout = {
  cohorts: [{ id: 'wave-b', name: 'Wave B', goLive: '2027-02-01', zone: 'Africa/Lusaka' }],
  groups: [{ id: 'field-officers', name: 'Field officers' }],
  members: [],
  problems: [],
};

/** A plan with one manual message to a list of people, and one to the support channel. */
function planFor(people: string[]) {
  return parsePlan(
    `timeZone: Africa/Lusaka
messages:
  - id: welcome
    stage: launch
    title: Welcome to FieldLedger
    body: "**Read this** before Monday."
    audience: { users: [${people.join(', ')}] }
    when: manual
  - id: help
    stage: launch
    title: How to get help
    body: Ask the bot.
    audience: { channel: support }
    when: manual
`,
    rollout,
  );
}

/** One message, "Training dates", due 11 Jan 2027 09:00 UTC to `audience`. */
const trainingPlan = (audience: string) =>
  parsePlan(
    `timeZone: UTC
messages:
  - id: training
    stage: design
    title: Training dates
    body: Sign up.
    audience: ${audience}
    when: 2027-01-11 09:00
`,
    rollout,
  );

const userSends = (o: TestOutbox) => o.broadcastSends().filter((m) => m.op === 'send' && m.to.kind === 'user');

describe('sending a plan message', () => {
  it('writes a row per recipient before handing over, sends each once in batches, and reports counts and acknowledgements', async () => {
    const people = users(7);
    const f = await fixture({ batch: 3, chats: installed(people.slice(0, 6)) });
    f.plan.current = planFor(people);
    f.rollout.current = rollout;

    const confirm = await f.b.service.prepareSend(LEAD, 'welcome');
    expect(confirm).toMatchObject({ kind: 'confirm', confirmation: { recipients: 7, notInstalled: 1 } });

    const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await f.b.runner.idle();
    // Rows exist before anything was delivered; only the first batch was handed over.
    const t0 = await f.b.deliveries.tally(started.send.id);
    expect(t0.total).toBe(7);
    expect(userSends(f.outbox).length).toBeLessThanOrEqual(3);

    await finished(f, started.send.id);
    const keys = userSends(f.outbox).map((m) => m.key);
    expect(new Set(keys).size).toBe(6);
    expect(f.outbox.delivered.filter((k) => k.startsWith('broadcast|'))).toHaveLength(6);

    // The requester's progress card came first, was updated in place, and ended as the report.
    const cards = f.outbox.requesterCards();
    expect(cards[0]).toMatchObject({ op: 'send', to: { kind: 'user', userKey: rolloutTeam.id }, post: { kind: 'broadcast-progress' } });
    const last = cards[cards.length - 1]!;
    expect(last.op).toBe('update');
    const report = JSON.stringify(last.op === 'update' ? last.content : '');
    expect(report).toContain('Delivery report');
    expect(report).toMatch(/"Sent","value":"6"/);
    expect(report).toMatch(/"App not installed","value":"1"/);

    // Two of six acknowledge (one twice): the report shows 33%, and "remind" names the other four.
    const ack = async (who: string) =>
      f.b.service.acknowledge({ person: { id: who, name: who }, role: 'staff' }, started.send.id);
    expect(await ack(people[0]!)).toMatchObject({ kind: 'acked', fresh: true });
    expect(await ack(people[0]!)).toMatchObject({ kind: 'acked', fresh: false });
    await ack(people[1]!);
    const refreshed = await f.b.service.report(LEAD, started.send.id);
    const text = JSON.stringify(refreshed);
    expect(text).toContain('33% (2 of 6)');
    expect(text).toContain("Remind those who haven't acknowledged (4)");
  });

  it('does not let someone acknowledge or read a 1:1 message that was not sent to them', async () => {
    const f = await fixture({ chats: installed(['a', 'b']) });
    f.plan.current = planFor(['a', 'b']);
    const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await finished(f, started.send.id);
    const mallory = { person: { id: 'mallory', name: 'M' }, role: 'staff' as const };
    expect(await f.b.service.acknowledge(mallory, started.send.id)).toMatchObject({ kind: 'message' });
    expect(await f.b.service.view(mallory, started.send.id)).toMatchObject({ kind: 'message' });
    expect(await f.b.service.view({ person: { id: 'a', name: 'A' }, role: 'staff' }, started.send.id)).toMatchObject({ kind: 'view' });
    expect(JSON.stringify(await f.b.service.report(LEAD, started.send.id))).toContain('0% (0 of 2)');
  });

  it('a confirmation pressed after the plan file changed who hears the message sends nothing, and says why', async () => {
    const f = await fixture({ chats: installed(['a', 'b', 'c']) });
    f.plan.current = planFor(['a']);
    const confirm = await f.b.service.prepareSend(LEAD, 'welcome');
    if (confirm.kind !== 'confirm') throw new Error(confirm.text);
    expect(confirm.confirmation.recipients).toBe(1);
    // The card's Send carries what it confirmed.
    expect(JSON.stringify(confirmCard(confirm.confirmation))).toContain(`"v":"${confirm.confirmation.version}"`);

    // A colleague saves the file with the message now going to three people; the card still says 1.
    f.plan.current = planFor(['a', 'b', 'c']);
    expect(await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id, confirm.confirmation.version)).toEqual({
      kind: 'message',
      text: '"welcome" was changed in the plan file after this card was shown (its text or who hears it); nothing was sent. Type "send welcome" to confirm it as it is now.',
    });
    await settle(f);
    expect(userSends(f.outbox)).toEqual([]);
    expect(await f.b.sends.all()).toEqual([]);

    // Confirmed again as it is now: it goes, and a retried press of that card finds the same send.
    const again = await f.b.service.prepareSend(LEAD, 'welcome');
    if (again.kind !== 'confirm') throw new Error(again.text);
    expect(await f.b.service.send(LEAD, 'welcome', 'card-2', rolloutTeam.id, again.confirmation.version)).toMatchObject({ kind: 'started', fresh: true });
    expect(await f.b.service.send(LEAD, 'welcome', 'card-2', rolloutTeam.id, again.confirmation.version)).toMatchObject({ kind: 'started', fresh: false });
    await settle(f);
    expect(userSends(f.outbox)).toHaveLength(3);
  });

  it('a retried confirmation (the same card clicked twice) sends nothing new', async () => {
    const f = await fixture({ chats: installed(['a', 'b']) });
    f.plan.current = planFor(['a', 'b']);
    const first = await f.b.service.send(LEAD, 'welcome', 'conv|card-7', rolloutTeam.id);
    const again = await f.b.service.send(LEAD, 'welcome', 'conv|card-7', rolloutTeam.id);
    expect(first).toMatchObject({ fresh: true });
    expect(again).toMatchObject({ fresh: false });
    await settle(f);
    expect(userSends(f.outbox)).toHaveLength(2);
  });
});

describe('"Got it" pressed for a copy that never reached the person', () => {
  it('is refused for someone held for working hours or whose copy was cancelled; one who got it before the cancel may still acknowledge', async () => {
    // Monday 09:00 UTC: 11:00 in Lusaka (sent), 18:00 in Tokyo (held).
    const chats = installed(['lusaka'], 'Africa/Lusaka');
    chats.set('tokyo', { teamsUserId: '29:tokyo', timeZone: 'Asia/Tokyo' });
    const f = await fixture({ chats, workingHours: parseWorkingHours('Mon-Fri 08:00-18:00') });
    f.plan.current = planFor(['tokyo', 'lusaka']);
    const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await settle(f);
    const as = (id: string) => ({ person: { id, name: id }, role: 'staff' as const });
    const notSent = { kind: 'message', text: 'This message was not sent to you; nothing was recorded.' };
    expect(await f.b.service.acknowledge(as('tokyo'), started.send.id)).toEqual(notSent);

    await f.b.service.cancel(LEAD, started.send.id);
    await finished(f, started.send.id);
    expect(await f.b.service.acknowledge(as('tokyo'), started.send.id)).toEqual(notSent);
    expect(await f.b.service.acknowledge(as('lusaka'), started.send.id)).toMatchObject({ kind: 'acked', fresh: true });
    expect([...(await f.b.acks.who(started.send.id))]).toEqual(['lusaka']);
  });

  it('is refused for someone whose copy failed or who blocked the app; they are not counted as having read it', async () => {
    const people = ['sent', 'failed', 'blocked'];
    const f = await fixture({ chats: installed(people) });
    f.plan.current = planFor(people);
    f.outbox.answer = (m) =>
      m.key.endsWith('|failed')
        ? { state: 'failed', reason: 'HTTP 502' }
        : m.key.endsWith('|blocked')
          ? { state: 'blocked', reason: 'HTTP 403' }
          : { state: 'sent', activityId: 'x' };
    const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await finished(f, started.send.id);
    const as = (id: string) => ({ person: { id, name: id }, role: 'staff' as const });
    const notSent = { kind: 'message', text: 'This message was not sent to you; nothing was recorded.' };
    expect(await f.b.service.acknowledge(as('failed'), started.send.id)).toEqual(notSent);
    expect(await f.b.service.acknowledge(as('blocked'), started.send.id)).toEqual(notSent);
    expect(await f.b.service.acknowledge(as('sent'), started.send.id)).toMatchObject({ kind: 'acked', fresh: true });
    expect([...(await f.b.acks.who(started.send.id))]).toEqual(['sent']);
  });
});

describe('cancel mid-send', () => {
  it('leaves unsent what was not yet handed over; what was on its way finishes and is counted', async () => {
    const people = users(10);
    const f = await fixture({ batch: 2, chats: installed(people) });
    f.plan.current = planFor(people);
    const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await f.b.runner.idle();
    // One message answered (which hands the next batch over), then the cancel.
    await f.outbox.deliver(1);
    await f.b.runner.idle();
    const handed = userSends(f.outbox).length;
    expect(handed).toBeLessThanOrEqual(4);
    // A worker has taken what was handed over: those requests are on their way.
    f.outbox.take(handed);

    const res = await f.b.service.cancel(LEAD, started.send.id);
    expect(res).toMatchObject({ kind: 'cancelled' });
    expect('text' in res && res.text).toContain(`${10 - handed} not sent`);
    await f.outbox.answerTaken();
    await finished(f, started.send.id);

    expect(f.outbox.delivered.filter((k) => k.startsWith('broadcast|'))).toHaveLength(handed);
    const report = JSON.stringify(f.outbox.requesterCards().at(-1));
    expect(report).toContain('Delivery report (cancelled)');
    expect(report).toMatch(new RegExp(`"Not sent \\(cancelled\\)","value":"${10 - handed}"`));
    expect(report).toContain('Cancelled by Lee Lead');
  });

  it('cancelling a plan message skips its scheduled times until its "when" changes', async () => {
    const clock = new ManualClock('2027-01-25T05:00:00Z');
    const f = await fixture({ clock, members: { 'cohort:wave-b': ['a'] }, chats: installed(['a']) });
    f.rollout.current = rollout;
    const text = (when: string) => `messages:
  - id: golive-week
    stage: launch
    title: Next Monday
    body: Get ready.
    audience: { cohort: wave-b }
    when: ${when}
`;
    f.plan.current = parsePlan(text('golive-7d 09:00'), rollout);
    await f.b.service.cancel(LEAD, 'golive-week');
    clock.set('2027-01-25T07:01:00Z'); // 09:01 in Lusaka
    expect(await f.b.service.runDue()).toEqual([]);
    f.plan.current = parsePlan(text('golive-7d 09:30'), rollout);
    clock.set('2027-01-25T07:31:00Z');
    expect(await f.b.service.runDue()).toHaveLength(1);
  });
});

describe('a message taken out of the plan file while it is under way', () => {
  it('"cancel <id>" still finds and stops its send held for working hours: the one not yet reached never gets it', async () => {
    // Monday 09:00 UTC: 11:00 in Lusaka (sent at once), 18:00 in Tokyo (held until Tuesday 08:00 there).
    const clock = new ManualClock('2027-01-11T09:00:30Z');
    const chats = installed(['lusaka'], 'Africa/Lusaka');
    chats.set('tokyo', { teamsUserId: '29:tokyo', timeZone: 'Asia/Tokyo' });
    const f = await fixture({ clock, chats, workingHours: parseWorkingHours('Mon-Fri 08:00-18:00') });
    const text = (messages: string) => `timeZone: UTC\nmessages:${messages}\n`;
    f.plan.current = parsePlan(
      text(`
  - id: welcome
    stage: launch
    title: Welcome to FieldLedger
    body: Read this before Monday.
    audience: { users: [tokyo, lusaka] }
    when: 2027-01-11 09:00`),
      rollout,
    );
    const [sendId] = await f.b.service.runDue();
    await settle(f);
    expect(userSends(f.outbox).map((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey)).toEqual(['lusaka']);

    // The rollout team sees it was wrong and takes it out of the file, then types cancel (as they typed its id).
    f.plan.current = parsePlan(text(' []'), rollout);
    const res = await f.b.service.cancel(LEAD, 'Welcome');
    expect(res).toEqual({
      kind: 'cancelled',
      text: '"welcome" is no longer in the plan file; what of it was still under way is stopped. Cancelled "Welcome to FieldLedger": 1 not sent.',
    });

    clock.set('2027-01-11T23:00:00Z'); // 08:00 Tuesday in Tokyo
    await f.b.service.tick();
    await finished(f, sendId!);
    expect(userSends(f.outbox).map((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey)).toEqual(['lusaka']);
    expect(await f.b.sends.get(sendId!)).toMatchObject({ status: 'cancelled', counts: { sent: 1, cancelled: 1 } });
    // Nothing under way any more: the id is unknown again.
    expect(await f.b.service.cancel(LEAD, 'welcome')).toMatchObject({ kind: 'message', text: expect.stringContaining('There is no plan message or send called "welcome"') });
  });
});

describe('a plan message whose audience comes out empty at its time', () => {
  it('tells the rollout team what was not reached and why (a team the app is not in, a user group with nobody in it), once', async () => {
    const f = await fixture({ clock: new ManualClock('2027-01-11T09:00:30Z') });
    f.rollout.current = rollout;
    const message = (id: string, audience: string) => `
  - id: ${id}
    stage: design
    title: Training *dates*
    body: Sign up.
    audience: ${audience}
    when: 2027-01-11 09:00`;
    f.plan.current = parsePlan(`timeZone: UTC\nmessages:${message('training', "{ team: '19:finance-team' }")}${message('officers', '{ group: field-officers }')}\n`, rollout);
    const started = await f.b.service.runDue();
    expect(started).toHaveLength(2);
    await settle(f);
    await f.b.service.tick(); // the scheduler's next pass: told once, not again
    await settle(f);
    expect(f.told).toEqual([
      {
        key: 'plan-unreached|p.training.all.20270111T0900',
        text: '"Training ∗dates∗" (training), due 11 Jan 2027 09:00 UTC for every member of team 19:finance-team, 1:1, reached nobody: team 19:finance-team: the app is not installed in this team. Once that is put right, send it with "send training".',
      },
      {
        key: 'plan-unreached|p.officers.all.20270111T0900',
        text: '"Training ∗dates∗" (officers), due 11 Jan 2027 09:00 UTC for Field officers, reached nobody: that audience has nobody in it the app knows of. Once that is put right, send it with "send officers".',
      },
    ]);
  });
});

describe('cancelling a manual message', () => {
  it('with no send under way says there is nothing to cancel and leaves the plan list as it was (it has no scheduled times)', async () => {
    const people = users(2);
    const f = await fixture({ chats: installed(people) });
    f.plan.current = planFor(people);
    f.rollout.current = rollout;
    const statusOf = async () => {
      const page = await f.b.service.planPage(LEAD, { kind: 'start' });
      if (!('items' in page)) throw new Error('refused');
      return page.items.find((i) => i.id === 'welcome')?.status;
    };
    const before = await statusOf();
    const res = await f.b.service.cancel(LEAD, 'welcome');
    expect(res).toEqual({ kind: 'cancelled', text: '"welcome" goes out only when sent with "send welcome", and no send of it is under way: nothing to cancel.' });
    expect(await statusOf()).toBe(before);
    expect(before).toBe('Not sent yet');
    // It can still be sent.
    expect(await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id)).toMatchObject({ kind: 'started' });
  });
});

/**
 * A send to nine people (batches of 3) started on one instance, which `stop` ends somewhere in it (what it still held
 * is then lost); another instance's scheduled job, later, finishes it. Every broadcast key answered, on either.
 */
async function resumedElsewhere(stop: (a: Fixture, outbox: TestOutbox) => Promise<void>) {
  const tables = testTables();
  const people = users(9);
  const clock = new ManualClock('2027-01-11T09:00:00Z');
  const outboxA = new TestOutbox();
  const a = await fixture({ tables, clock, batch: 3, chats: installed(people), outbox: outboxA, staleMs: 10 * 60_000 });
  a.plan.current = planFor(people);
  const started = await a.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
  if (started.kind !== 'started') throw new Error(started.text);
  await a.b.runner.idle();
  await stop(a, outboxA);
  outboxA.lose(); // the process stops: what it still held is gone
  const deliveredBefore = outboxA.delivered.filter((k) => k.startsWith('broadcast|'));

  // Another instance, later: the same tables; its scheduled job finds the send still running.
  const outboxB = new TestOutbox();
  // The outbound path remembers what it sent (by key), whichever instance asks.
  for (const k of deliveredBefore) outboxB.answered.set(k, { state: 'sent', activityId: 'x' });
  const b = await fixture({ tables, clock, batch: 3, chats: installed(people), outbox: outboxB, staleMs: 10 * 60_000 });
  b.plan.current = a.plan.current;
  clock.advance(11 * 60_000);
  await b.b.service.tick();
  await finished(b, started.send.id);

  const delivered = [...deliveredBefore, ...outboxB.delivered.filter((k) => k.startsWith('broadcast|'))].sort();
  return { delivered, everyone: people.map((p) => outboundKey(started.send.id, p, 1)).sort(), outboxB };
}

describe('resume after a crash', () => {
  it('hands over again, under the same keys, what was handed over and never answered; nobody is missed or messaged twice', async () => {
    const { delivered, everyone, outboxB } = await resumedElsewhere(async (a, outbox) => {
      await outbox.deliver(2); // two answered, the next batch handed over
      await a.b.runner.idle();
    });
    expect(delivered).toEqual(everyone);
    const report = JSON.stringify(outboxB.requesterCards().at(-1));
    expect(report).toMatch(/"Sent","value":"9"/);
  });

  it('a crash after a batch was claimed and before its rows said so: the next instance sends that batch, once', async () => {
    const { delivered, everyone } = await resumedElsewhere(async (a, outbox) => {
      // The process stops right after its next batch's claim (the cursor moved) and before that batch's rows are written.
      const crash = vi.spyOn(a.b.deliveries, 'batch').mockRejectedValueOnce(new Error('killed'));
      // The progress card, then a first answer, which claims the next batch and stops there.
      await expect(outbox.deliver(2)).rejects.toThrow('killed');
      expect(crash).toHaveBeenCalledTimes(1);
    });
    expect(delivered).toEqual(everyone);
  });

  it('two instances pumping the same send never hand the same recipient over twice', async () => {
    const tables = testTables();
    const people = users(40);
    const clock = new ManualClock('2027-01-11T09:00:00Z');
    const shared = new TestOutbox();
    const a = await fixture({ tables, clock, batch: 4, chats: installed(people), outbox: shared });
    const b = await fixture({ tables, clock, batch: 4, chats: installed(people), outbox: new TestOutbox() });
    a.plan.current = planFor(people);
    b.plan.current = a.plan.current;
    const started = await a.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await a.b.runner.idle();
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).b.runner.pump(started.send.id)));
    const handed = [...a.outbox.broadcastSends(), ...b.outbox.broadcastSends()].map((m) => m.key);
    expect(new Set(handed).size).toBe(handed.length);
    expect(handed.length).toBeGreaterThan(4);
  });
});

describe('working hours', () => {
  it('holds a 1:1 message outside the recipient\'s working hours and sends it when their day starts', async () => {
    // Monday 09:00 UTC: 18:00 in Tokyo (after hours), 11:00 in Lusaka.
    const clock = new ManualClock('2027-01-11T09:00:00Z');
    const chats = installed(['tokyo']);
    for (const [k, v] of installed(['lusaka'], 'Africa/Lusaka')) chats.set(k, v);
    chats.set('tokyo', { teamsUserId: '29:tokyo', timeZone: 'Asia/Tokyo' });
    const f = await fixture({ clock, chats, workingHours: parseWorkingHours('Mon-Fri 08:00-18:00') });
    f.plan.current = planFor(['tokyo', 'lusaka']);
    const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await settle(f);
    expect(userSends(f.outbox).map((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey)).toEqual(['lusaka']);
    const progress = JSON.stringify(f.outbox.requesterCards().at(-1));
    expect(progress).toMatch(/"Held for working hours","value":"1"/);

    clock.set('2027-01-11T22:59:00Z'); // 07:59 Tuesday in Tokyo: still held
    await f.b.service.tick();
    await settle(f);
    expect(userSends(f.outbox)).toHaveLength(1);
    clock.set('2027-01-11T23:00:00Z'); // 08:00 Tuesday in Tokyo
    await f.b.service.tick();
    await finished(f, started.send.id);
    expect(userSends(f.outbox).map((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey)).toEqual(['lusaka', 'tokyo']);
  });
});

describe('refusals', () => {
  it('refuses send, announce, cancel, resend and remind to staff, and sends nothing', async () => {
    const f = await fixture({ chats: installed(['a']) });
    f.plan.current = planFor(['a']);
    expect(await f.b.service.prepareSend(STAFF, 'welcome')).toMatchObject({ kind: 'refused' });
    expect(await f.b.service.send(STAFF, 'welcome', 'k', STAFF.person.id)).toMatchObject({ kind: 'refused' });
    expect(
      await f.b.service.announce(STAFF, { title: 'x', body: 'y', audience: 'everyone', timing: 'now', date: '', time: '' }, 'k', 's'),
    ).toMatchObject({ kind: 'refused' });
    expect(await f.b.service.cancel(STAFF, 'welcome')).toMatchObject({ kind: 'refused' });
    expect(await f.b.service.resendFailed(STAFF, 'welcome')).toMatchObject({ kind: 'refused' });
    expect(await f.b.service.planPage(STAFF, { kind: 'start' })).toMatchObject({ kind: 'refused' });
    await settle(f);
    expect(f.outbox.enqueued).toEqual([]);
    expect(await f.b.sends.all()).toEqual([]);
  });
});

describe('announce', () => {
  it('checks each field and changes nothing on bad input; a later time is scheduled and goes when due', async () => {
    const clock = new ManualClock('2027-01-11T09:00:00Z');
    const f = await fixture({ clock, chats: installed(['a', 'b']) });
    f.plan.current = { ...planFor(['a']), timeZone: 'Africa/Lusaka' };
    const bad = await f.b.service.announce(
      LEAD,
      { title: '', body: 'x'.repeat(4001), audience: 'group:nope', timing: 'at', date: '2027-01-10', time: '09:00' },
      'k1',
      rolloutTeam.id,
    );
    expect(bad).toMatchObject({
      kind: 'invalid',
      errors: { title: expect.any(String), body: expect.stringContaining('4001'), audience: expect.any(String), when: expect.stringContaining('passed') },
    });
    expect(await f.b.sends.all()).toEqual([]);
    // Card data is written by the client: a time Teams' picker never gives ("24:00", read by ISO as the next
    // midnight) is refused, not moved to another day.
    for (const time of ['24:00', '23:60', '9:00']) {
      const odd = await f.b.service.announce(LEAD, { title: 'Odd', body: 'x', audience: 'everyone', timing: 'at', date: '2027-01-12', time }, `k-${time}`, rolloutTeam.id);
      expect(odd).toMatchObject({ kind: 'invalid', errors: { when: 'Pick a date and a time, or choose "Now".' } });
    }
    expect(await f.b.sends.all()).toEqual([]);

    const ok = await f.b.service.announce(
      LEAD,
      { title: 'Server maintenance', body: 'FieldLedger is down **Saturday** 06:00–08:00.', audience: 'everyone', timing: 'at', date: '2027-01-12', time: '08:00' },
      'k2',
      rolloutTeam.id,
    );
    expect(ok).toMatchObject({ kind: 'started', send: { status: 'scheduled', dueAt: '2027-01-12T06:00:00.000Z' } });
    await f.b.service.tick();
    await settle(f);
    expect(userSends(f.outbox)).toHaveLength(0);
    clock.set('2027-01-12T06:00:30Z');
    await f.b.service.tick();
    await settle(f);
    expect(userSends(f.outbox).map((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey).sort()).toEqual(['a', 'b']);
  });
});

describe('resend and remind', () => {
  it('resends only to the failed, under a new key; reminds only those who did not acknowledge', async () => {
    const people = users(4);
    const f = await fixture({ chats: installed(people) });
    f.plan.current = planFor(people);
    f.outbox.answer = (m) => (m.key.endsWith(people[3]!) ? { state: 'failed', reason: 'HTTP 502' } : { state: 'sent', activityId: 'x' });
    const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await finished(f, started.send.id);
    expect(JSON.stringify(f.outbox.requesterCards().at(-1))).toContain('Resend to failed (1)');

    f.outbox.answer = () => ({ state: 'sent', activityId: 'y' });
    expect(await f.b.service.resendFailed(LEAD, started.send.id)).toEqual({ kind: 'resending', count: 1, unconfirmed: 0 });
    await finished(f, started.send.id);
    expect(f.outbox.delivered.filter((k) => k.startsWith('broadcast|'))).toContain(outboundKey(started.send.id, people[3]!, 2));
    expect(JSON.stringify(f.outbox.requesterCards().at(-1))).toMatch(/"Sent","value":"4"/);

    await f.b.service.acknowledge({ person: { id: people[0]!, name: 'x' }, role: 'staff' }, started.send.id);
    const before = userSends(f.outbox).length;
    const reminder = await f.b.service.remind(LEAD, started.send.id, 'card-r', rolloutTeam.id);
    if (reminder.kind !== 'started') throw new Error(reminder.text);
    await finished(f, reminder.send.id);
    const reminded = userSends(f.outbox).slice(before).map((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey);
    expect(reminded.sort()).toEqual(people.slice(1).sort());
    // A reminder's "Got it" counts toward the original message.
    await f.b.service.acknowledge({ person: { id: people[1]!, name: 'x' }, role: 'staff' }, reminder.send.ackFor);
    expect(JSON.stringify(await f.b.service.report(LEAD, started.send.id))).toContain('50% (2 of 4)');
  });

  it('Remind pressed on a report after everyone acknowledged (or when it reached nobody) says so and sends nothing', async () => {
    const people = users(2);
    const f = await fixture({ chats: installed(people) });
    f.plan.current = planFor(people);
    const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await finished(f, started.send.id);
    // The report card offered "Remind … (2)"; both acknowledge before the press.
    expect(JSON.stringify(f.outbox.requesterCards().at(-1))).toContain("Remind those who haven't acknowledged (2)");
    for (const id of people) await f.b.service.acknowledge({ person: { id, name: id }, role: 'staff' }, started.send.id);
    const cardsBefore = f.outbox.enqueued.length;
    expect(await f.b.service.remind(LEAD, started.send.id, 'card-r', rolloutTeam.id)).toEqual({
      kind: 'message',
      text: 'Everyone it reached (2) has acknowledged it; nobody to remind, nothing was sent.',
    });
    await settle(f);
    expect(f.outbox.enqueued.length).toBe(cardsBefore); // no progress card, no report of a send to nobody
    expect((await f.b.sends.all()).map((s) => s.id)).toEqual([started.send.id]);

    // Everyone blocked the app: nobody was reached 1:1.
    f.outbox.answer = () => ({ state: 'blocked', reason: 'HTTP 403' });
    const blocked = await f.b.service.send(LEAD, 'welcome', 'card-2', rolloutTeam.id);
    if (blocked.kind !== 'started') throw new Error(blocked.text);
    await finished(f, blocked.send.id);
    expect(await f.b.service.remind(LEAD, blocked.send.id, 'card-r2', rolloutTeam.id)).toEqual({
      kind: 'message',
      text: 'It reached nobody 1:1, so there is nobody to remind; nothing was sent.',
    });
  });
});

describe('a send id typed in another case', () => {
  it('"preview" and "cancel" find the send (a plan occurrence with its time, an announcement) whatever the case typed', async () => {
    const clock = new ManualClock('2027-01-11T09:00:30Z');
    const f = await fixture({ clock, chats: installed(['a']) });
    f.plan.current = trainingPlan('{ users: [a] }');
    const [planSend] = await f.b.service.runDue();
    await settle(f);
    expect(planSend).toBe('p.training.all.20270111T0900');
    expect(await f.b.service.preview(LEAD, 'P.TRAINING.ALL.20270111T0900')).toMatchObject({ kind: 'preview', content: { title: 'Training dates' } });
    expect(await f.b.service.preview(LEAD, 'p.training.all.20270111t0900')).toMatchObject({ kind: 'preview', label: expect.stringContaining(planSend!) });

    const later = await f.b.service.announce(
      LEAD,
      { title: 'Maintenance', body: 'Down Saturday.', audience: 'everyone', timing: 'at', date: '2027-01-12', time: '08:00' },
      'k1',
      rolloutTeam.id,
    );
    if (later.kind !== 'started') throw new Error('not started');
    expect(await f.b.service.cancel(LEAD, later.send.id.toUpperCase())).toEqual({ kind: 'cancelled', text: 'Cancelled "Maintenance": 0 not sent.' });
    expect(await f.b.sends.get(later.send.id)).toMatchObject({ status: 'cancelled' });
  });
});

describe('a forged Send for a confirmation that showed nobody', () => {
  it('is refused on the server: nothing is sent or recorded, and the answer says the audience is empty and who to check', async () => {
    const f = await fixture({ chats: installed(['a']) });
    f.rollout.current = rollout;
    f.plan.current = parsePlan(
      `timeZone: UTC
messages:
  - id: officers
    stage: design
    title: For field officers
    body: Sign up.
    audience: { group: field-officers }
    when: manual
`,
      rollout,
    );
    const confirm = await f.b.service.prepareSend(LEAD, 'officers');
    if (confirm.kind !== 'confirm') throw new Error(confirm.text);
    expect(confirm.confirmation.recipients).toBe(0);
    // The card offers no Send; a forged press of one (with the version the card carried) sends nothing.
    const res = await f.b.service.send(LEAD, 'officers', 'card-1', rolloutTeam.id, confirm.confirmation.version);
    expect(res).toEqual({
      kind: 'message',
      text: 'Nothing was sent: Field officers has nobody in it the app knows of. Check who is in that user group or cohort (the rollout file, and who the rollout team added), then type "send officers" again.',
    });
    await settle(f);
    expect(await f.b.sends.all()).toEqual([]);
    expect(f.outbox.enqueued).toEqual([]);
    expect(f.told).toEqual([]);
  });
});

describe('Send pressed for a team audience', () => {
  const teamSendPlan = () =>
    parsePlan(
      `timeZone: UTC
messages:
  - id: finance
    stage: design
    title: For finance
    body: Sign up.
    audience: { team: '19:finance-team' }
    when: manual
`,
      rollout,
    );

  /** What the requester was sent 1:1 that is not a message's copy, a progress card or a report: notices, as text. */
  const noticesTo = (o: TestOutbox, userKey: string) =>
    o.enqueued.filter((m) => m.op === 'send' && !m.topic && m.to.kind === 'user' && m.to.userKey === userKey && typeof m.content === 'string');

  it('checks in the turn only that the team has someone (its roster\'s first page); when Teams does not answer, it is confirmed all the same, waits, and goes once when Teams answers', async () => {
    const clock = new ManualClock('2027-01-11T09:00:00Z');
    let down = true;
    const reads: boolean[] = [];
    const f = await fixture({
      clock,
      chats: installed(['a', 'b']),
      teamMembers: async (_teamId, firstPage) => {
        reads.push(firstPage === true);
        if (down) throw new RosterUnanswered("could not read the team's members from Teams (HTTP 503)");
        return [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }];
      },
    });
    f.rollout.current = rollout;
    f.plan.current = teamSendPlan();
    // `send finance` while Teams does not answer: not "nobody to send this to", and it can be sent all the same.
    const confirm = await f.b.service.prepareSend(LEAD, 'finance');
    if (confirm.kind !== 'confirm') throw new Error(confirm.text);
    const card = JSON.stringify(confirmCard(confirm.confirmation));
    expect(card).toContain('Teams did not answer for this audience just now');
    expect(card).not.toContain('Nobody to send this to');
    expect(card).toContain('"title":"Send when Teams answers"');
    expect(card).toContain('If you send it, it goes as soon as Teams answers (tried again for up to 6 hours), and only once.');
    reads.length = 0;
    const pressed = await f.b.service.send(LEAD, 'finance', 'card-1', rolloutTeam.id);
    if (pressed.kind !== 'started') throw new Error(pressed.text);
    // Told in the press's answer, in plain words, that nothing has gone yet, why, until when it is tried, and how to stop it.
    expect(pressed.delayed).toBe(
      `"For finance" (finance) has not gone to every member of team 19:finance-team, 1:1 yet: team 19:finance-team: could not read the team's members from Teams (HTTP 503). I will try again until 11 Jan 2027 15:00 UTC and send it as soon as Teams answers (it will not go out twice); your progress card follows then. To stop it, type "cancel ${pressed.send.id}".`,
    );
    await settle(f);
    expect(reads).toEqual([true]);
    expect(await f.b.sends.get(pressed.send.id)).toMatchObject({ status: 'resolving', total: 0 });
    // The same card pressed again makes no second send, and says it is still waiting.
    const again = await f.b.service.send(LEAD, 'finance', 'card-1', rolloutTeam.id);
    expect(again).toMatchObject({ kind: 'started', fresh: false, send: { id: pressed.send.id }, delayed: expect.stringContaining('has not gone to') });

    // Still down at the next pass after its backoff: read again, not told again.
    clock.set('2027-01-11T09:01:30Z');
    await f.b.service.tick();
    await settle(f);
    expect(reads).toEqual([true, false]);
    expect(userSends(f.outbox)).toEqual([]);

    down = false;
    clock.set('2027-01-11T09:04:00Z');
    await Promise.all([f.b.service.tick(), f.b.service.tick()]);
    await finished(f, pressed.send.id);
    clock.set('2027-01-11T10:00:00Z');
    await f.b.service.tick();
    await settle(f);
    expect(userSends(f.outbox).map((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey).sort()).toEqual(['a', 'b']);
    expect(await f.b.sends.get(pressed.send.id)).toMatchObject({ status: 'done', total: 2 });
    // The press's answer was the one "not gone yet"; the progress card and report followed.
    expect(noticesTo(f.outbox, rolloutTeam.id)).toEqual([]);
    expect(f.told).toEqual([]);
    expect(f.outbox.requesterCards().length).toBeGreaterThan(0);
  });

  it('a send whose whole roster Teams then does not answer (its first page did) waits and is tried again, the requester told once; it goes once when Teams answers', async () => {
    const clock = new ManualClock('2027-01-11T09:00:00Z');
    let down = true;
    const f = await fixture({
      clock,
      chats: installed(['a', 'b']),
      teamMembers: async (_teamId, firstPage) => {
        if (down && !firstPage) throw new RosterUnanswered('could not read the team\'s members from Teams (HTTP 429)');
        return [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }];
      },
    });
    f.rollout.current = rollout;
    f.plan.current = teamSendPlan();
    const started = await f.b.service.send(LEAD, 'finance', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    expect(started.delayed).toBeUndefined();
    await settle(f);
    // Not "sent to nobody": nothing written or sent, and a report of 0 of 0 is not drawn.
    expect(await f.b.sends.get(started.send.id)).toMatchObject({ status: 'resolving', total: 0, tries: 1 });
    expect(noticesTo(f.outbox, rolloutTeam.id).map((m) => m.op === 'send' && m.content)).toEqual([
      `"For finance" (finance) has not gone to every member of team 19:finance-team, 1:1 yet: team 19:finance-team: could not read the team's members from Teams (HTTP 429). I will try again until 11 Jan 2027 15:00 UTC and send it as soon as Teams answers (it will not go out twice); your progress card follows then. To stop it, type "cancel ${started.send.id}".`,
    ]);

    clock.set('2027-01-11T09:01:30Z');
    await f.b.service.tick();
    await settle(f);
    expect(await f.b.sends.get(started.send.id)).toMatchObject({ status: 'resolving', tries: 2 });
    down = false;
    clock.set('2027-01-11T09:04:00Z');
    await f.b.service.tick();
    await finished(f, started.send.id);
    expect(userSends(f.outbox).map((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey).sort()).toEqual(['a', 'b']);
    expect(noticesTo(f.outbox, rolloutTeam.id)).toHaveLength(1);
    expect(f.told).toEqual([]);
  });

  it('a team Teams refuses (403) is not tried again: the press says nothing was sent and why', async () => {
    let reads = 0;
    const f = await fixture({
      chats: installed(['a']),
      teamMembers: async () => {
        reads++;
        throw new Error("could not read the team's members from Teams (HTTP 403)");
      },
    });
    f.rollout.current = rollout;
    f.plan.current = teamSendPlan();
    const res = await f.b.service.send(LEAD, 'finance', 'card-1', rolloutTeam.id);
    expect(res).toMatchObject({ kind: 'message', text: expect.stringMatching(/^Nothing was sent: .*HTTP 403/) });
    await f.b.service.tick();
    await settle(f);
    expect(await f.b.sends.all()).toEqual([]);
    expect(reads).toBe(1);
  });
});

describe('Send pressed when who is in its audience cannot be found out in time', () => {
  it('says in plain words, for each kind of audience, that nothing was sent and to try again', async () => {
    // The press waits 0.5 s for its audience here (production 5 s); the lookups take longer than that.
    const f = await fixture({ chats: installed(['a']), members: { 'group:field-officers': ['a'] }, audienceCheckMs: 500 });
    f.rollout.current = rollout;
    f.plan.current = parsePlan(
      `timeZone: UTC
messages:
  - id: all-staff
    stage: launch
    title: For everyone
    body: Hello.
    audience: everyone
    when: manual
  - id: officers
    stage: launch
    title: For field officers
    body: Hello.
    audience: { group: field-officers }
    when: manual
`,
      rollout,
    );
    // Our own lookups slower than the press may wait: storage under load.
    const slow = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 1_500));
    f.b.directory.personalChatUsers = () => slow(['a']);
    f.b.directory.members = () => slow([{ id: 'a', name: 'A' }]);
    const [everyone, group] = await Promise.all([
      f.b.service.send(LEAD, 'all-staff', 'card-1', rolloutTeam.id),
      f.b.service.send(LEAD, 'officers', 'card-2', rolloutTeam.id),
    ]);
    expect(everyone).toEqual({
      kind: 'message',
      text: "Nothing was sent: I couldn't check in time who is in its audience (everyone who has the app); try again in a minute.",
    });
    expect(group).toEqual({
      kind: 'message',
      text: "Nothing was sent: I couldn't check in time who is in its audience (Field officers); try again in a minute.",
    });
    expect(await f.b.sends.all()).toEqual([]);
  }, 20_000);
});

describe('a plan message whose team roster Teams does not answer at its time', () => {
  const teamPlan = () => trainingPlan("{ team: '19:finance-team' }");

  it('is tried again at later passes (the rollout team told once it is delayed and why) and goes once when Teams answers', async () => {
    const clock = new ManualClock('2027-01-11T09:00:30Z');
    let down = true;
    const reads: string[] = [];
    const f = await fixture({
      clock,
      chats: installed(['a', 'b']),
      teamMembers: async (teamId) => {
        reads.push(clock.now().toISOString());
        if (down) throw new RosterUnanswered("could not read the team's members from Teams (HTTP 503)");
        return [teamId === '19:finance-team' ? { id: 'a', name: 'A' } : { id: 'x', name: 'X' }, { id: 'b', name: 'B' }];
      },
    });
    f.rollout.current = rollout;
    f.plan.current = teamPlan();
    await f.b.service.tick();
    await settle(f);
    const sendId = 'p.training.all.20270111T0900';
    expect(await f.b.sends.get(sendId)).toMatchObject({ status: 'resolving', total: 0, tries: 1 });
    expect(f.told).toEqual([
      {
        key: `plan-delayed|${sendId}`,
        text: '"Training dates" (training), due 11 Jan 2027 09:00 UTC for every member of team 19:finance-team, 1:1, is delayed: team 19:finance-team: could not read the team\'s members from Teams (HTTP 503). I will try again until 11 Jan 2027 15:00 UTC and tell you only if it still cannot go; it will not go out twice.',
      },
    ]);
    // Before its backoff is over the next pass does not read again; after it, it does (and fails again: not told again).
    clock.set('2027-01-11T09:01:00Z');
    await f.b.service.tick();
    await settle(f);
    expect(reads).toHaveLength(1);
    clock.set('2027-01-11T09:01:40Z');
    await f.b.service.tick();
    await settle(f);
    expect(reads).toHaveLength(2);
    expect(f.told).toHaveLength(1);
    const page = await f.b.service.planPage(LEAD, { kind: 'start' });
    if (!('items' in page)) throw new Error('refused');
    expect(page.items[0]?.status).toContain('Delayed: Teams did not answer for its audience; trying again 11 Jan 2027 09:03');

    // Teams answers: it goes, once, however many passes (and instances) come after.
    down = false;
    clock.set('2027-01-11T09:04:00Z');
    await Promise.all([f.b.service.tick(), f.b.service.tick()]);
    await finished(f, sendId);
    clock.set('2027-01-11T10:00:00Z');
    await f.b.service.tick();
    await settle(f);
    expect(userSends(f.outbox).map((m) => m.op === 'send' && m.to.kind === 'user' && m.to.userKey).sort()).toEqual(['a', 'b']);
    expect(await f.b.sends.get(sendId)).toMatchObject({ status: 'done', total: 2 });
    expect(f.told).toHaveLength(1);
  });

  it('a crash between saving its retry time and telling the rollout team loses nothing: the next pass tells them, once', async () => {
    const clock = new ManualClock('2027-01-11T09:00:30Z');
    const tables = testTables();
    const roster = async (): Promise<never> => {
      throw new RosterUnanswered("could not read the team's members from Teams (HTTP 503)");
    };
    const first = await fixture({ clock, tables, teamMembers: roster });
    first.rollout.current = rollout;
    first.plan.current = teamPlan();
    // The fault: the retry time is saved, then the instance stops before anything else is done.
    const save = first.b.sends.update.bind(first.b.sends);
    first.b.sends.update = async (send, changes) => {
      const saved = await save(send, changes);
      if (changes.retryAt) throw new Error('instance stopped');
      return saved;
    };
    const stopped: unknown[] = [];
    (first.b.runner as unknown as { d: { log: { warn(o: { err?: unknown }): void } } }).d.log.warn = (o) => void (o.err && stopped.push(o.err));
    await first.b.service.runDue(); // claims the message and starts it (its audience read fails: it waits)
    await first.b.runner.idle();
    expect(stopped).toEqual([new Error('instance stopped')]);
    const sendId = 'p.training.all.20270111T0900';
    expect(await first.b.sends.get(sendId)).toMatchObject({ status: 'resolving', tries: 1 });
    expect(first.told).toEqual([]);

    // Another instance's next pass, before the retry time: it tells what was owed, and only that.
    const second = await fixture({ clock, tables, teamMembers: roster });
    second.rollout.current = rollout;
    second.plan.current = teamPlan();
    clock.set('2027-01-11T09:01:00Z');
    await second.b.service.tick();
    await settle(second);
    expect(second.told).toEqual([
      {
        key: `plan-delayed|${sendId}`,
        text: '"Training dates" (training), due 11 Jan 2027 09:00 UTC for every member of team 19:finance-team, 1:1, is delayed: team 19:finance-team: could not read the team\'s members from Teams (HTTP 503). I will try again until 11 Jan 2027 15:00 UTC and tell you only if it still cannot go; it will not go out twice.',
      },
    ]);
    // Later passes (and further failed reads) do not tell it again.
    for (const at of ['2027-01-11T09:02:00Z', '2027-01-11T09:05:00Z', '2027-01-11T09:10:00Z']) {
      clock.set(at);
      await second.b.service.tick();
      await settle(second);
    }
    expect((await second.b.sends.get(sendId))!.tries).toBeGreaterThan(1);
    expect(second.told).toHaveLength(1);
  });

  it('a notice that could not be handed over (storage down for a moment) is told at the next pass, once', async () => {
    const clock = new ManualClock('2027-01-11T09:00:30Z');
    let failTell = true;
    const told: string[] = [];
    const f = await fixture({
      clock,
      teamMembers: async () => {
        throw new RosterUnanswered("could not read the team's members from Teams (HTTP 503)");
      },
    });
    f.rollout.current = rollout;
    f.plan.current = teamPlan();
    // The fixture's own tellRolloutTeam records; this one fails the first hand-over.
    (f.b.runner as unknown as { d: { tellRolloutTeam(key: string, text: string): Promise<void> } }).d.tellRolloutTeam = async (key) => {
      if (failTell) throw new Error('storage did not answer');
      told.push(key);
    };
    await f.b.service.tick();
    await settle(f);
    expect(told).toEqual([]);
    failTell = false;
    clock.set('2027-01-11T09:01:00Z');
    await f.b.service.tick();
    await settle(f);
    clock.set('2027-01-11T09:02:00Z');
    await f.b.service.tick();
    await settle(f);
    expect(told).toEqual(['plan-delayed|p.training.all.20270111T0900']);
  });

  it('when Teams still does not answer by the end of the grace period, the rollout team is told once more that it reached nobody', async () => {
    const clock = new ManualClock('2027-01-11T09:00:30Z');
    let reads = 0;
    const f = await fixture({
      clock,
      teamMembers: async () => {
        reads++;
        throw new RosterUnanswered("could not read the team's members from Teams (HTTP 503)");
      },
    });
    f.rollout.current = rollout;
    f.plan.current = teamPlan();
    // A tick every 10 minutes (42 of them): a read on every tick, not backing off, would count 42.
    for (let t = Date.parse('2027-01-11T09:00:30Z'); t <= Date.parse('2027-01-11T16:00:00Z'); t += 10 * 60_000) {
      clock.set(new Date(t).toISOString());
      await f.b.service.tick();
      await settle(f);
    }
    const send = await f.b.sends.get('p.training.all.20270111T0900');
    expect(send).toMatchObject({ status: 'done', total: 0 });
    // 1, 2, 4, 8, 16 minutes, then every 30 until 15:00 (the 6-hour grace), and the last read.
    expect(reads).toBe(send!.tries! + 1);
    expect(reads).toBeGreaterThan(5);
    expect(reads).toBeLessThan(20);
    expect(f.told.map((t) => t.key)).toEqual(['plan-delayed|p.training.all.20270111T0900', 'plan-unreached|p.training.all.20270111T0900']);
    expect(f.told[1]!.text).toContain(`reached nobody: team 19:finance-team: could not read the team's members from Teams (HTTP 503). I tried ${reads} times since its time. Once that is put right, send it with "send training".`);
    expect(userSends(f.outbox)).toEqual([]);
  });
});

describe('"Got it" pressed on a channel post', () => {
  it('counts only a press from the channel it was posted in (the conversation Teams names, not the card\'s data), asking Teams nothing; a forged press from another conversation is refused', async () => {
    const asked: string[] = [];
    let setUp = channelIdOf('support');
    const f = await fixture({
      channelMember: async (role, id) => {
        asked.push(`${role}:${id}`);
        return { id, name: id };
      },
      channelConversation: async () => setUp,
    });
    f.plan.current = planFor(['a']);
    const started = await f.b.service.send(LEAD, 'help', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await finished(f, started.send.id);
    // `setup support` done in another channel since: the post stays where it was, and so do its readers.
    setUp = '19:elsewhere@thread.tacv2';
    const as = (id: string) => ({ person: { id, name: id }, role: 'staff' as const });
    const refusal = { kind: 'message', text: 'This message was not posted in a channel you are in; nothing was recorded.' };

    expect(await f.b.service.acknowledge(as('mallory'), started.send.id, '19:elsewhere@thread.tacv2')).toEqual(refusal);
    expect(await f.b.service.acknowledge(as('mallory'), started.send.id)).toEqual(refusal); // from a 1:1 chat
    expect(await f.b.service.acknowledge(as('aad-member'), started.send.id, channelIdOf('support'))).toMatchObject({ kind: 'acked', fresh: true });
    expect(await f.b.service.acknowledge(as('aad-member'), started.send.id, channelIdOf('support'))).toMatchObject({ kind: 'acked', fresh: false });
    expect([...(await f.b.acks.who(started.send.id))]).toEqual(['aad-member']);
    expect(asked).toEqual([]);
  });
});

describe('send <id> typed twice, both cards confirmed', () => {
  it('sends once: the second press finds the first under way and asks again, warning; pressed again, it sends', async () => {
    const people = users(3);
    const f = await fixture({ chats: installed(people) });
    f.plan.current = welcomePlan(people);
    const first = await f.b.service.prepareSend(LEAD, 'welcome');
    const second = await f.b.service.prepareSend(LEAD, 'welcome');
    if (first.kind !== 'confirm' || second.kind !== 'confirm') throw new Error('no confirmation');
    const c1 = first.confirmation;
    const c2 = second.confirmation;
    expect((await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id, c1.version, c1.underWay)).kind).toBe('started');
    const again = await f.b.service.send(LEAD, 'welcome', 'card-2', rolloutTeam.id, c2.version, c2.underWay);
    await settle(f);
    const copies = (p: string) => f.outbox.delivered.filter((k) => k.startsWith('broadcast|') && k.split('|')[2] === p).length;
    expect(people.map(copies)).toEqual([1, 1, 1]);
    if (again.kind !== 'confirm') throw new Error(`expected the confirmation again, got ${again.kind}`);
    expect(again.confirmation.notes.join(' ')).toContain('It is being sent already');
    // Confirmed knowing it: sent again, as asked.
    expect((await f.b.service.send(LEAD, 'welcome', 'card-2', rolloutTeam.id, again.confirmation.version, again.confirmation.underWay)).kind).toBe('started');
  });
});
