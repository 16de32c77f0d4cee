import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/broadcast/plan.js';
import { EMPTY_ROLLOUT } from '../../src/rollout/model.js';
import { channelIdOf, finished, fixture, installed, LEAD, rolloutTeam, sendingWelcome, users, welcomePlan } from './support.js';

/*
 * A card's refresh (`broadcast.refresh`) shows the message to whoever Teams says pressed it: like "Got it", it is
 * answered only for someone the message could have reached — a channel post in its channel, a 1:1 copy for someone
 * it was handed to — so a refresh forged with another send's id (a plan send's id is its message and time, easily
 * guessed) shows nothing of a message that was not theirs to see.
 */

const as = (id: string) => ({ person: { id, name: id }, role: 'staff' as const });

describe('a forged refresh', () => {
  it('of a channel post, from a conversation that is not its channel, shows nothing; from its channel, the post', async () => {
    const f = await fixture();
    f.plan.current = parsePlan(
      `timeZone: UTC
messages:
  - id: support-only
    stage: launch
    title: For the support channel
    body: Only its members read this.
    audience: { channel: support }
    when: manual
`,
      EMPTY_ROLLOUT,
    );
    const started = await f.b.service.send(LEAD, 'support-only', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await finished(f, started.send.id);

    for (const where of ['19:elsewhere@thread.tacv2', undefined]) {
      const res = await f.b.service.view(as('mallory'), started.send.id, where);
      expect(res).toEqual({ kind: 'message', text: 'This message was not posted in a channel you are in.' });
    }
    expect(await f.b.service.view(as('member'), started.send.id, channelIdOf('support'))).toMatchObject({
      kind: 'view',
      content: { title: 'For the support channel' },
    });
  });

  it('of a 1:1 copy cancelled before it was handed over shows nothing; a copy that reached its reader is shown', async () => {
    const { f, send } = await sendingWelcome(10, 1);
    f.outbox.take(1); // on its way at the cancel: it is sent
    await f.b.service.cancel(LEAD, send.id);
    await f.outbox.answerTaken();
    await finished(f, send.id);
    const rows = [];
    for await (const r of f.b.deliveries.rows(send.id, ['cancelled', 'sent'])) rows.push(r);
    const cancelled = rows.find((r) => r.state === 'cancelled')!;
    const sent = rows.find((r) => r.state === 'sent')!;
    expect(await f.b.service.view(as(cancelled.key), send.id)).toEqual({ kind: 'message', text: 'This message was not sent to you.' });
    expect(await f.b.service.view(as(sent.key), send.id)).toMatchObject({ kind: 'view', content: { title: 'Welcome' } });
  });
});

describe('a refresh by a reader whose copy may be on their screen', () => {
  const UNCONFIRMED = 'unconfirmed: the sender stopped when the request may have left; not sent again to avoid a duplicate';

  it('shows the message when their copy ended unconfirmed, also after Resend to failed (which leaves it out)', async () => {
    const people = users(2);
    const f = await fixture({ chats: installed(people) });
    f.plan.current = welcomePlan(people);
    f.outbox.answer = (m) => (m.key.includes('user-001') && !m.key.endsWith('|2') ? { state: 'failed', reason: UNCONFIRMED } : { state: 'sent', activityId: 'a' });
    const s = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (s.kind !== 'started') throw new Error(s.text);
    await finished(f, s.send.id);
    expect((await f.b.service.view(as('user-001'), s.send.id)).kind).toBe('view');
    expect((await f.b.service.acknowledge(as('user-001'), s.send.id)).kind).toBe('acked');
    await f.b.service.resendFailed(LEAD, s.send.id);
    expect((await f.b.service.view(as('user-001'), s.send.id)).kind).toBe('view');
  });

  it('shows the message while a resend made by an earlier version (which resent unconfirmed copies) is held', async () => {
    const people = users(2);
    const f = await fixture({ chats: installed(people) });
    f.plan.current = welcomePlan(people);
    f.outbox.answer = (m) => (m.key.includes('user-001') ? { state: 'failed', reason: UNCONFIRMED } : { state: 'sent', activityId: 'a' });
    const s = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (s.kind !== 'started') throw new Error(s.text);
    await finished(f, s.send.id);
    // Its row as that resend left it: the next attempt, held, without what earlier attempts may have shown.
    await f.b.deliveries.record(s.send.id, 'user-001', { state: 'pending', reason: '', attempt: 2, waiting: false, heldUntil: '2027-01-12T08:00:00.000Z' });
    expect((await f.b.service.view(as('user-001'), s.send.id)).kind).toBe('view');
  });
});
