import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activity, personalChat, post, readable, type Reply, startTestApp, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/**
 * Admission control (src/http/inflight.ts) on the real app: one turn at a time here, held at the Teams
 * connector stand-in (a reply that Teams is slow to take), so the next one cannot start.
 */
let connector: RecordingConnector;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
/** The same, with a long enough wait that a turn in line always gets its place. */
let patient: Awaited<ReturnType<typeof startTestApp>>['app'];

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp({ TURN_CONCURRENCY: '1', TURN_QUEUE_MS: '300' }));
  ({ app: patient } = await startTestApp({ TURN_CONCURRENCY: '1', TURN_QUEUE_MS: '60000' }));
});
afterAll(async () => {
  await app?.stop();
  await patient?.stop();
  await connector?.stop();
});

/** A message whose reply goes to the connector (not in the HTTP response), so holding the chat holds the turn. */
function heldMessage(text: string) {
  const chat = personalChat(connector.url, USERS.champion);
  return activity(USERS.champion, { text, deliveryMode: undefined, ...chat });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

describe('admission control', () => {
  it('answers a turn that cannot start in time 503 with Retry-After, having done nothing, and handles its retry as new', async () => {
    const chat = personalChat(connector.url, USERS.champion);
    const hold = connector.hold(chat.conversation.id);
    const first = post(app, heldMessage('help'));
    await until(() => hold.waiting() > 0);

    // The only place is taken: this turn waits its 300 ms, then is turned away without being handled.
    const question = activity(USERS.staff, { text: 'how do I reset my password' });
    const res = await fetch(`${app.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(question),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toMatchObject({ error: 'Busy' });

    hold.release();
    expect((await first).status).toBe(200);

    // Teams' retry of the same activity (same id) is answered, not dropped as a repeat.
    const retry = await post(app, question);
    expect(retry.status).toBe(200);
    const replies = (retry.json.activities as Reply[] | undefined) ?? [];
    expect(readable(replies)).toMatch(/password/i);
    expect((await app.questions.recent(1)).filter((q) => q.question === 'how do I reset my password')).toHaveLength(1);
  });

  it('lets a turn that waits in line run once the place comes free, after the turn ahead of it', async () => {
    const chat = personalChat(connector.url, USERS.champion);
    const hold = connector.hold(chat.conversation.id);
    const ended: string[] = [];
    const first = post(patient, heldMessage('help')).then((r) => (ended.push('first'), r));
    await until(() => hold.waiting() > 0);
    const waiting = post(patient, activity(USERS.staff, { text: 'my issues' })).then((r) => (ended.push('second'), r));
    await new Promise((r) => setTimeout(r, 200)); // time for it to arrive and queue
    hold.release();
    expect((await first).status).toBe(200);
    const second = await waiting;
    expect(second.status).toBe(200);
    expect(readable((second.json.activities as Reply[] | undefined) ?? [])).toMatch(/issues/i);
    expect(ended).toEqual(['first', 'second']);
  });
});
