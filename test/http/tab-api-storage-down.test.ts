import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { say, startTestApp, USERS } from '../support/app.js';
import { type PausableAzurite, startPausableAzurite } from '../support/pausable-azurite.js';

/*
 * The tab's API while storage does not answer (an Azurite of this file's own, frozen): the board must say
 * storage is the trouble and that trying again later is the way, not "the request could not be handled".
 */
let azurite: PausableAzurite;
let app: App;

beforeAll(async () => {
  azurite = await startPausableAzurite();
  ({ app } = await startTestApp({ AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, LOG_LEVEL: 'silent' }));
  await say(app, USERS.champion, 'whoami', { conversation: { id: 'a:chat-champion', conversationType: 'personal', tenantId: 'tenant-1' } });
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await azurite?.stop();
});

describe('the tab API while storage does not answer', () => {
  it('answers 503 saying storage is not answering and to try again, then serves the board once storage is back', async () => {
    const get = async () => {
      const res = await fetch(`${app.url}/api/tab/issues`, { headers: { 'x-demo-user': USERS.champion.aadObjectId } });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: string; message?: string; mode?: string } };
    };
    azurite.pause();
    let down: Awaited<ReturnType<typeof get>>;
    try {
      down = await get();
    } finally {
      azurite.resume();
    }
    expect(down.status).toBe(503);
    expect(down.body.error).toBe('StorageUnavailable');
    expect(down.body.message).toMatch(/storage is not answering/i);
    expect(down.body.message).toMatch(/try again/i);
    expect(down.retryAfter).not.toBeNull();
    const back = await get();
    expect(back.status).toBe(200);
    expect(back.body.mode).toBe('board');
  }, 60_000);
});
