import { describe, expect, it } from 'vitest';
import { outboundKey } from '../../src/broadcast/runner.js';
import { type Fixture, finished, fixture, installed, LEAD, rolloutTeam, settle, users, welcomePlan } from './support.js';

/*
 * "Resend to failed" sends again only what failed for sure. A copy that failed unconfirmed (the sender stopped when
 * its request may have left) may be on its reader's screen: resending it could message them twice, so it is left out
 * and the report and the reply say so. After a resend, a reader counts as reached (Got it, the card's refresh) only
 * if some attempt's copy may have gone to them.
 */

const UNCONFIRMED = 'unconfirmed: the sender stopped when the request may have left; not sent again to avoid a duplicate';
const as = (id: string) => ({ person: { id, name: id }, role: 'staff' as const });
const broadcastDelivered = (f: Fixture) => f.outbox.delivered.filter((k) => k.startsWith('broadcast|'));

/** `welcome` to three people: user-000 gets it, user-001 fails unconfirmed, user-002 fails for sure (HTTP 502). */
async function sentWithFailures(opts: Parameters<typeof fixture>[0] = {}) {
  const people = users(3);
  const f = await fixture({ chats: installed(people, opts.workingHours ? 'UTC' : undefined), ...opts });
  f.plan.current = welcomePlan(people);
  f.outbox.answer = (m) =>
    m.key.endsWith('|user-001')
      ? { state: 'failed', reason: UNCONFIRMED }
      : m.key.endsWith('|user-002')
        ? { state: 'failed', reason: 'HTTP 502' }
        : { state: 'sent', activityId: `a-${m.key}` };
  const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
  if (started.kind !== 'started') throw new Error(started.text);
  await finished(f, started.send.id);
  f.outbox.answer = (m) => ({ state: 'sent', activityId: `b-${m.key}` });
  return { f, sendId: started.send.id };
}

describe('Resend to failed', () => {
  it('leaves out a copy that failed unconfirmed, and the report and the reply say how many', async () => {
    const { f, sendId } = await sentWithFailures();
    const report = JSON.stringify(f.outbox.requesterCards().at(-1));
    expect(report).toContain('Resend to failed (1)');
    expect(report).toContain('1 of the failed may have reached people');

    expect(await f.b.service.resendFailed(LEAD, sendId)).toEqual({ kind: 'resending', count: 1, unconfirmed: 1 });
    await finished(f, sendId);
    const resent = broadcastDelivered(f).filter((k) => k.endsWith('|2'));
    expect(resent).toEqual([outboundKey(sendId, 'user-002', 2)]);
    expect(await f.b.deliveries.get(sendId, 'user-001')).toMatchObject({ state: 'failed', attempt: 1 });
  });

  it('with only unconfirmed failures, resends nothing and says why', async () => {
    const { f, sendId } = await sentWithFailures();
    const first = await f.b.service.resendFailed(LEAD, sendId);
    expect(first.kind).toBe('resending');
    await finished(f, sendId);
    const before = f.outbox.enqueued.length;

    const again = await f.b.service.resendFailed(LEAD, sendId);
    expect(again).toMatchObject({ kind: 'message', text: expect.stringContaining('Nothing was resent') });
    expect(f.outbox.enqueued.length).toBe(before);
  });
});

describe('after a resend, Got it and the card refresh', () => {
  it('are refused to a reader whose only copy failed for sure while the resend is held for their working hours', async () => {
    const { f, sendId } = await sentWithFailures({ workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start: 8 * 60, end: 18 * 60 } });
    f.clock.advance(10 * 3600_000); // 19:00 UTC: the resend waits for the morning
    await f.b.service.resendFailed(LEAD, sendId);
    await settle(f);
    expect((await f.b.deliveries.get(sendId, 'user-002'))?.heldUntil).not.toBe('');

    expect(await f.b.service.view(as('user-002'), sendId)).toEqual({ kind: 'message', text: 'This message was not sent to you.' });
    expect(await f.b.service.acknowledge(as('user-002'), sendId)).toMatchObject({ kind: 'message', text: expect.stringContaining('not sent to you') });
    // The unconfirmed copy (not resent) may be on its reader's screen.
    expect((await f.b.service.view(as('user-001'), sendId)).kind).toBe('view');
  });

  it('are answered once the resent copy is sent', async () => {
    const { f, sendId } = await sentWithFailures();
    await f.b.service.resendFailed(LEAD, sendId);
    await finished(f, sendId);
    expect((await f.b.service.view(as('user-002'), sendId)).kind).toBe('view');
    expect((await f.b.service.acknowledge(as('user-002'), sendId)).kind).toBe('acked');
  });
});
