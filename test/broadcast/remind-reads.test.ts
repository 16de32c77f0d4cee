import { describe, expect, it } from 'vitest';
import { ACKS_TABLE } from '../../src/broadcast/deliveries.js';
import { parsePlan } from '../../src/broadcast/plan.js';
import { EMPTY_ROLLOUT } from '../../src/rollout/model.js';
import { safeKey } from '../../src/storage/tables.js';
import { reads } from '../support/table-reads.js';
import { finished, fixture, type Fixture, installed, LEAD, rolloutTeam, users } from './support.js';

/*
 * Remind on a delivery report of a large send: deciding whether anyone is left to remind happens inside the press's
 * turn, so it must not read every delivery row and every acknowledgement. Rows are counted, not timed.
 */

const N = 2000;

/** A finished send to two people, then `N` more people it reached (rows written as the runner leaves them). */
async function bigSend(f: Fixture): Promise<{ id: string; reached: string[] }> {
  const first = users(2, 'a');
  f.plan.current = parsePlan(
    `timeZone: UTC
messages:
  - id: welcome
    stage: launch
    title: Welcome
    body: Read this.
    audience: { users: [${first.join(', ')}] }
    when: manual
`,
    EMPTY_ROLLOUT,
  );
  for (const [k, v] of installed(first)) f.chats.set(k, v);
  const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
  if (started.kind !== 'started') throw new Error(started.text);
  await finished(f, started.send.id);
  const more = users(N, 'b');
  const at = f.clock.now().toISOString();
  await f.b.deliveries.batch(
    started.send.id,
    more.map((key) => ({ key, kind: 'user' as const, state: 'sent' as const, reason: '', attempt: 1, waiting: false, chunk: 0, queuedAt: at, heldUntil: '', at })),
  );
  return { id: started.send.id, reached: [...first, ...more] };
}

/** Acknowledgements of `people`, stored as "Got it" stores them (written in transactions to keep the test quick). */
async function acknowledge(f: Fixture, sendId: string, people: string[]): Promise<void> {
  const table = await f.tables.table(ACKS_TABLE);
  for (let i = 0; i < people.length; i += 100) {
    await table.submitTransaction(
      people.slice(i, i + 100).map((p) => ['create', { partitionKey: safeKey(sendId), rowKey: safeKey(p.toLowerCase()), at: '2027-01-11T09:00:00Z', name: p }]),
    );
  }
}

describe('Remind on a large send', () => {
  it('reads a page, not the whole send, to find someone left to remind; still refuses once everyone acknowledged', async () => {
    const f = await fixture();
    const send = await bigSend(f);
    // Ten acknowledged: the eleventh person it reached is the first left to remind.
    await acknowledge(f, send.id, send.reached.slice(0, 10));
    const r = await reads(() => f.b.service.remind(LEAD, send.id, 'card-r', rolloutTeam.id));
    expect(r.value.kind).toBe('started');
    expect(r.rows).toBeLessThan(100); // before: every sent row and every acknowledgement, 2016 rows
    await f.b.runner.idle();

    const f2 = await fixture();
    const all = await bigSend(f2);
    await acknowledge(f2, all.id, all.reached);
    expect(await f2.b.service.remind(LEAD, all.id, 'card-r', rolloutTeam.id)).toEqual({
      kind: 'message',
      text: `Everyone it reached (${N + 2}) has acknowledged it; nobody to remind, nothing was sent.`,
    });
    // The last person left unacknowledged is still found.
    const f3 = await fixture();
    const last = await bigSend(f3);
    await acknowledge(f3, last.id, last.reached.slice(0, -1));
    expect((await f3.b.service.remind(LEAD, last.id, 'card-r', rolloutTeam.id)).kind).toBe('started');
    await f3.b.runner.idle();
  }, 60_000);
});
