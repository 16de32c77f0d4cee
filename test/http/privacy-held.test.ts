import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buttonData, execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { askMyData } from '../support/my-data.js';
import { type PausableAzurite, startPausableAzurite } from '../support/pausable-azurite.js';

/*
 * A report sent while storage does not answer is kept on disk until storage is back and it is filed. Until then it
 * is the reporter's data as much as a filed issue: `my data` lists it, and `forget` anonymises it as it does a
 * filed issue (the organisation keeps the report), so it is filed under their pseudonym, never under their name,
 * and nothing is sent to them about it.
 */

let azurite: PausableAzurite;
let app: App;
let connector: RecordingConnector;

const NOOR: TestUser = { id: '29:noor-held', aadObjectId: 'aad-noor-held', name: 'Noor Held' };
const where = (u: TestUser) => personalChat(connector.url, u);
const form = {
  title: 'Visit list will not open at Kalulu',
  description: 'Noor: the visit list at Kalulu spins for ever since this morning.',
  location: 'Visits',
  category: 'Data entry',
  severity: 'slows',
  site: 'Kalulu',
};

/** Sends the form while storage is frozen: kept on disk, not filed. */
async function reportWhileDown(u: TestUser): Promise<void> {
  azurite.pause();
  let res;
  try {
    res = await execute(app, u, 'issue.logAnyway', { form }, where(u));
  } finally {
    azurite.resume();
  }
  expect(invokeText(res.body)).toMatch(/Saved — it will be filed in a moment/);
}

beforeAll(async () => {
  azurite = await startPausableAzurite();
  connector = await new RecordingConnector().start();
  // The timer that files held reports is pushed out: the test files them itself, after looking at them.
  ({ app } = await startTestApp({ AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString }, undefined, undefined, { heldRetryMs: 3_600_000 }));
  for (const u of [NOOR, USERS.lead]) await say(app, u, 'whoami', where(u));
});
afterAll(async () => {
  await app?.stop();
  await azurite?.stop();
  await connector?.stop();
});

describe('reports held while storage was down', () => {
  it('are listed in `my data` before they are filed, and `forget` anonymises them: filed later under the pseudonym, not lost, and not under the person', async () => {
    await reportWhileDown(NOOR);

    const { file } = await askMyData(app, connector, NOOR);
    expect(file).toContain(form.description);
    expect(file).toContain(form.title);

    const asked = await say(app, USERS.lead, `forget ${NOOR.id}`, where(USERS.lead));
    expect(JSON.stringify(asked)).toContain('not yet filed');
    const done = await execute(app, USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), { ...where(USERS.lead), replyToId: 'card-held-1' });
    expect(invokeText(done.body)).toContain('is forgotten');
    const pseudonym = /appear as (Former member [0-9a-f]{4})/.exec(invokeText(done.body))?.[1] ?? '';
    expect(pseudonym).not.toBe('');

    await app.fileHeldReports();
    await app.settled();
    expect((await app.queries.listByReporter(NOOR.aadObjectId)).items).toEqual([]);
    expect((await app.queries.listByReporter(NOOR.id)).items).toEqual([]);
    // The organisation keeps the report: filed, as the first issue of this log, naming the pseudonym.
    const filed = readable(await say(app, USERS.lead, 'issue R-0001', where(USERS.lead)));
    expect(filed).toContain(form.title);
    expect(filed).toContain(pseudonym);
    expect(filed).not.toContain(NOOR.name);
    // Nobody tells Noor it was filed: she is forgotten.
    expect(JSON.stringify(connector.sentTo(where(NOOR).conversation.id))).not.toContain('filed now');
  }, 90_000);
});
