import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { execute, invokeText, say, startTestApp, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { type PausableAzurite, startPausableAzurite } from '../support/pausable-azurite.js';

let azurite: PausableAzurite;
let app: App;
let connector: RecordingConnector;

const chat = 'a:chat-storage-down';
const where = {
  conversation: { id: chat, conversationType: 'personal', tenantId: 'tenant-1' },
};

beforeAll(async () => {
  azurite = await startPausableAzurite();
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp({ AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString }));
  await say(app, USERS.staff, 'whoami', { ...where, serviceUrl: connector.url });
});
afterAll(async () => {
  await app?.stop();
  await azurite?.stop();
  await connector?.stop();
});

describe('a report while storage does not answer', () => {
  it('is kept on disk with a clear reply, then filed once when storage is back, and the reporter hears its reference', async () => {
    const form = {
      title: 'Cannot open the visit list',
      description: 'The list spins for ever since this morning.',
      location: 'Visits',
      category: 'Data entry',
      severity: 'slows',
      site: 'Oskaya',
    };
    azurite.pause();
    const res = await execute(app, USERS.staff, 'issue.logAnyway', { form }, { ...where, serviceUrl: connector.url });
    azurite.resume();
    expect(res.status).toBe(200);
    expect(invokeText(res.body)).toMatch(/Saved — it will be filed in a moment/);
    expect((await app.queries.listByReporter(USERS.staff.aadObjectId)).items).toEqual([]);

    await app.fileHeldReports();
    await app.fileHeldReports(); // a second pass files nothing twice
    const mine = (await app.queries.listByReporter(USERS.staff.aadObjectId)).items;
    expect(mine.map((i) => i.title)).toEqual(['Cannot open the visit list']);
    await app.settled();
    await connector.waitFor(() => connector.sentTo(chat).some((c) => JSON.stringify(c.body).includes('filed now')));
    expect(JSON.stringify(connector.sentTo(chat).at(-1)?.body)).toContain(mine[0]!.ref);
  }, 60_000);
});
