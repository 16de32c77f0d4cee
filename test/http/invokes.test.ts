import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { App } from '../../src/app.js';
import { verb } from '../../src/registry/define.js';
import { activity, execute, invokeText, post, startTestApp, USERS } from '../support/app.js';

let app: App;
beforeAll(async () => {
  ({ app } = await startTestApp());
});
afterAll(async () => {
  await app?.stop();
});

function invoke(name: string, value: unknown, extra: Record<string, unknown> = {}) {
  return post(app, activity(USERS.staff, { type: 'invoke', name, value, deliveryMode: undefined, ...extra }));
}

/** A verb this test declares on the running bot (anyone may use it; its data is any object). */
const testVerb = (name: string) => verb(name, 'everyone', z.object({}));

/** A click on a button whose verb this test registers: one activity, so it can be sent again as Teams' retry. */
function testClick(verb: string) {
  return activity(USERS.staff, {
    type: 'invoke',
    name: 'adaptiveCard/action',
    value: { action: { type: 'Action.Execute', verb, data: {} } },
    deliveryMode: undefined,
  });
}

describe('invalid invokes get a 4xx with a reason, not an empty 501', () => {
  it('answers 400 for a card action whose value is a string, or has no action', async () => {
    for (const value of ['just a string', {}, { action: 'issue.mine' }, { action: { type: 'Action.Execute' } }]) {
      const res = await invoke('adaptiveCard/action', value);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({
        statusCode: 400,
        type: 'application/vnd.microsoft.error',
        value: { code: 'BadRequest', message: expect.any(String) },
      });
    }
  });

  it('answers 400 "not supported" for an invoke name the app does not handle', async () => {
    for (const name of ['task/fetch', 'composeExtension/fetchTask', 'no/such/thing']) {
      const res = await invoke(name, { data: {} });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ value: { code: 'NotSupported', message: expect.stringContaining(name) } });
    }
  });

  it('answers 400 for an Action.Submit sent as a Universal Action', async () => {
    const res = await invoke('adaptiveCard/action', { action: { type: 'Action.Submit', verb: 'issue.mine' } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ value: { code: 'NotSupported' } });
  });

  it('does not claim a refused invoke: the same activity sent right is handled', async () => {
    const a = activity(USERS.staff, { type: 'invoke', name: 'adaptiveCard/action', value: 'oops', deliveryMode: undefined });
    expect((await post(app, a)).status).toBe(400);
    const fixed = { ...a, value: { action: { type: 'Action.Execute', verb: 'issue.mine', data: {} } } };
    const res = await post(app, fixed);
    expect(res.status).toBe(200);
    expect(invokeText(res.json)).toContain('Your issues');
  });
});

describe('a card action that fails inside the turn', () => {
  it('answers 200 with a message saying nothing was lost, and the retry is handled', async () => {
    let calls = 0;
    app.bot.verb(testVerb('test.failsOnce'), async () => {
      calls++;
      if (calls === 1) throw new Error('storage hiccup');
      return { message: 'Worked this time.' };
    });
    const a = testClick('test.failsOnce');
    const first = await post(app, a);
    expect(first.status).toBe(200);
    expect(invokeText(first.json)).toMatch(/did not go through.*Nothing was lost/s);
    // Teams' retry (same activity id) is handled, not dropped as a repeat.
    const retry = await post(app, a);
    expect(retry.status).toBe(200);
    expect(invokeText(retry.json)).toBe('Worked this time.');
    expect(calls).toBe(2);
  });
});

describe('a replayed card action (same activity id)', () => {
  it('gets the response it produced the first time, without running again', async () => {
    let calls = 0;
    app.bot.verb(testVerb('test.count'), async () => {
      calls++;
      return { message: `Counted ${calls}.` };
    });
    const a = testClick('test.count');
    const first = await post(app, a);
    const replay = await post(app, a);
    expect(invokeText(first.json)).toBe('Counted 1.');
    expect(replay.status).toBe(first.status);
    expect(replay.json).toEqual(first.json);
    expect(calls).toBe(1);
  });

  it('gets the same card for a real action (the user\'s issue list)', async () => {
    const id = `mine-${Date.now()}`;
    const first = await execute(app, USERS.staff, 'issue.mine', {}, { id });
    const replay = await execute(app, USERS.staff, 'issue.mine', {}, { id });
    expect(first.status).toBe(200);
    expect(first.body.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(replay.body).toEqual(first.body);
  });

  it('arriving while the first attempt still runs, waits for and gets its answer', async () => {
    let finish: () => void = () => {};
    const gate = new Promise<void>((r) => {
      finish = r;
    });
    let started: () => void = () => {};
    const running = new Promise<void>((r) => {
      started = r;
    });
    app.bot.verb(testVerb('test.slow'), async () => {
      started();
      await gate;
      return { message: 'Slow but done.' };
    });
    const a = testClick('test.slow');
    const first = post(app, a);
    await running;
    const replay = post(app, a);
    // Let the retry reach the bot and find the claim taken before the first attempt answers.
    setTimeout(finish, 300);
    expect(invokeText((await first).json)).toBe('Slow but done.');
    expect(invokeText((await replay).json)).toBe('Slow but done.');
  });
});

// Found by the fuzzer once its cards were built from each verb's schema: card data is written by the client,
// and these reached storage as they came, so the turn failed and the user was told to try again, forever.
describe('forged card data that storage cannot use', () => {
  it('a button naming a row by a key storage cannot hold is told the thing does not exist', async () => {
    for (const curatedId of ['../../etc/passwd', '<at>Rollout Desk</at>', 'a#b?c']) {
      const res = await execute(app, USERS.champion, 'faq.curated.retire', { curatedId, version: 1 });
      expect(res.status).toBe(200);
      expect(invokeText(res.body)).toBe('That curated answer no longer exists.');
    }
  });

  it('a paging button with a continuation token that is not one shows the list from the start', async () => {
    for (const next of ['issue R-0062', 'bm90IGEgdG9rZW4=', 'e30=']) {
      const res = await execute(app, USERS.champion, 'faq.curated.page', { next, status: 'active' });
      expect(res.status).toBe(200);
      expect(res.body.type).toBe('application/vnd.microsoft.card.adaptive');
      expect(invokeText(res.body)).not.toMatch(/did not go through/);
    }
  });
});
