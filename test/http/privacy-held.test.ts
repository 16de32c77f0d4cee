import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { ForgottenKeys } from '../../src/privacy/forgotten-keys.js';
import { FORGET_CLOCK_SKEW_MS } from '../../src/privacy/forgotten-keys.js';
import { fileHeldReport } from '../../src/privacy/held-reports.js';
import { Pseudonyms } from '../../src/privacy/pseudonym.js';
import { buttonData, execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { askMyData } from '../support/my-data.js';
import { answering, PAUSED_STORAGE_OPTIONS, type PausableAzurite, startPausableAzurite } from '../support/pausable-azurite.js';

/*
 * A report sent while storage does not answer is kept on disk until storage is back and it is filed. Until then it
 * is the reporter's data as much as a filed issue: `my data` lists it, and `forget` anonymises it as it does a
 * filed issue (the organisation keeps the report), so it is filed under their pseudonym, never under their name,
 * and nothing is sent to them about it.
 */

let azurite: PausableAzurite;
let app: App;
/** A second instance on the same storage, with its own disk. */
let other: App;
let connector: RecordingConnector;
const clock = new ManualClock();

/** An instance's clock that runs ahead of the others' by `ms`. */
class AheadClock extends ManualClock {
  constructor(private readonly base: ManualClock, private readonly ms: number) {
    super();
  }
  override now(): Date {
    return new Date(this.base.now().getTime() + this.ms);
  }
}
/** A third instance whose clock runs two minutes ahead of the other two. */
let ahead: App;

const NOOR: TestUser = { id: '29:noor-held', aadObjectId: 'aad-noor-held', name: 'Noor Held' };
const OMAR: TestUser = { id: '29:omar-held', aadObjectId: 'aad-omar-held', name: 'Omar Elsewhere' };
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
async function reportWhileDown(u: TestUser, on: App = app): Promise<void> {
  azurite.pause();
  let res;
  try {
    res = await execute(on, u, 'issue.logAnyway', { form }, where(u));
  } finally {
    azurite.resume();
    await answering(app, other, ahead);
  }
  expect(invokeText(res.body)).toMatch(/Saved — it will be filed in a moment/);
}

/** The rollout team forgets `u` (on the first instance); the pseudonym they now appear as. */
async function forgetByLead(u: TestUser, cardId: string): Promise<string> {
  const asked = await say(app, USERS.lead, `forget ${u.id}`, where(USERS.lead));
  const done = await execute(app, USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), { ...where(USERS.lead), replyToId: cardId });
  expect(invokeText(done.body)).toContain('is forgotten');
  const pseudonym = /appear as (Former member [0-9a-f]{4})/.exec(invokeText(done.body))?.[1] ?? '';
  expect(pseudonym).not.toBe('');
  return pseudonym;
}

/** `on` files the reports it holds: `u`'s is issue `ref`, under the pseudonym, and nobody tells `u`. */
async function expectFiledUnder(on: App, u: TestUser, ref: string, pseudonym: string): Promise<void> {
  await on.fileHeldReports();
  await on.settled();
  expect((await on.queries.listByReporter(u.aadObjectId)).items).toEqual([]);
  expect((await on.queries.listByReporter(u.id)).items).toEqual([]);
  const filed = readable(await say(app, USERS.lead, `issue ${ref}`, where(USERS.lead)));
  expect(filed).toContain(form.title);
  expect(filed).toContain(pseudonym);
  expect(filed).not.toContain(u.name);
  expect(JSON.stringify(connector.sentTo(where(u).conversation.id))).not.toContain('filed now');
}

beforeAll(async () => {
  azurite = await startPausableAzurite();
  connector = await new RecordingConnector().start();
  // The timer that files held reports is pushed out: the test files them itself, after looking at them.
  const env = { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, TABLE_PREFIX: `t${randomBytes(4).toString('hex')}` };
  ({ app } = await startTestApp(env, clock, undefined, { heldRetryMs: 3_600_000, ...PAUSED_STORAGE_OPTIONS }));
  ({ app: other } = await startTestApp(env, clock, undefined, { heldRetryMs: 3_600_000, ...PAUSED_STORAGE_OPTIONS }));
  ({ app: ahead } = await startTestApp(env, new AheadClock(clock, 2 * 60_000), undefined, { heldRetryMs: 3_600_000, ...PAUSED_STORAGE_OPTIONS }));
  for (const u of [NOOR, OMAR, USERS.lead]) await say(app, u, 'whoami', where(u));
});
afterAll(async () => {
  await app?.stop();
  await other?.stop();
  await ahead?.stop();
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

  it('a forget on one instance reaches a report held on another instance\'s disk: that instance files it under the pseudonym and tells nobody', async () => {
    // Held on the other instance, where this instance's forget cannot see it.
    await reportWhileDown(OMAR, other);

    const pseudonym = await forgetByLead(OMAR, 'card-held-2');
    await expectFiledUnder(other, OMAR, 'R-0002', pseudonym);
  }, 90_000);

  it('a report held on an instance whose clock runs ahead, just before a forget on another, is still filed under the pseudonym', async () => {
    const LENA: TestUser = { id: '29:lena-held', aadObjectId: 'aad-lena-held', name: 'Lena Skewed' };
    await say(app, LENA, 'whoami', where(LENA));
    // Kept at (its clock) two minutes later than the forget below is recorded (the first instance's clock).
    await reportWhileDown(LENA, ahead);

    const pseudonym = await forgetByLead(LENA, 'card-held-skew');
    await expectFiledUnder(ahead, LENA, 'R-0003', pseudonym);
  }, 90_000);

  it('a report held after its person was forgotten (they came back) is filed under their name', async () => {
    // Past the margin a filer allows for clock skew between instances (held-reports.ts).
    clock.advance(FORGET_CLOCK_SKEW_MS + 60_000);
    await say(other, OMAR, 'whoami', where(OMAR));
    await reportWhileDown(OMAR, other);
    await other.fileHeldReports();
    await other.settled();
    expect((await other.queries.listByReporter(OMAR.aadObjectId)).items.map((i) => i.title)).toEqual([form.title]);
  }, 60_000);

  it('a forget that runs while a held report is being filed (after the filer looked, before the issue exists) still leaves the issue anonymised', async () => {
    const ZOE: TestUser = { id: '29:zoe-held', aadObjectId: 'aad-zoe-held', name: 'Zoe Between' };
    await say(app, ZOE, 'whoami', where(ZOE));
    const zoe = { id: ZOE.aadObjectId, name: ZOE.name };
    const entry = {
      key: 'held-zoe-1',
      at: clock.now().toISOString(),
      item: { caller: { person: zoe, reporter: { ...zoe, conversationKey: ZOE.aadObjectId }, role: 'staff' as const }, values: { ...form, title: 'Zoe: sync stops at noon' }, opts: { requestKey: 'held-zoe-1', checkSimilar: false } },
    };
    let pseudonym = '';
    let ref = '';
    await fileHeldReport(entry, {
      forgotten: await ForgottenKeys.open(other.tables, await Pseudonyms.open(other.tables, () => clock.now().getTime())),
      file: async (report) => {
        // The whole forget runs on the first instance now: its issues part finds nothing yet.
        const asked = await say(app, USERS.lead, `forget ${ZOE.id}`, where(USERS.lead));
        const done = await execute(app, USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), { ...where(USERS.lead), replyToId: 'card-held-3' });
        pseudonym = /appear as (Former member [0-9a-f]{4})/.exec(invokeText(done.body))?.[1] ?? '';
        ref = (await other.issues.fileHeld(report))?.ref ?? '';
      },
      anonymiseFiled: (subject, stand) => other.personalData.forgetPart(1, subject, stand),
    });
    expect(pseudonym).not.toBe('');
    expect((await other.queries.listByReporter(ZOE.aadObjectId)).items).toEqual([]);
    expect((await other.queries.listByReporter(ZOE.id)).items).toEqual([]);
    // Kept, under the pseudonym the forget gave her.
    const filed = readable(await say(app, USERS.lead, `issue ${ref}`, where(USERS.lead)));
    expect(filed).toContain('Zoe: sync stops at noon');
    expect(filed).toContain(pseudonym);
    expect(filed).not.toContain(ZOE.name);
  }, 90_000);
});
