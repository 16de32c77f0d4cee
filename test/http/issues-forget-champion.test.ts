import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { LATEST_KEPT_MS } from '../../src/privacy/forgotten-keys.js';
import { buttonData, execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * The triage card's Assign list names the champions, read once a minute by each instance. A champion forgotten on
 * one instance is not named there by a card another instance draws within that minute, once LATEST_KEPT_MS (5 s)
 * has passed since that instance last asked whether anyone was forgotten.
 */

let app: App;
/** A second instance on the same storage, whose champion list was read before the forget. */
let other: App;
let connector: RecordingConnector;
const clock = new ManualClock();
const TRIAGE = '19:triage-forget@thread.tacv2';
/** A champion of her own, forgotten here; the other champion stays. */
const GRACE: TestUser = { id: '29:grace-t', aadObjectId: 'aad-grace-t', name: 'Grace Mwansa' };
/** A champion forgotten while assigned an issue, whose triage card the forget redraws. */
const HANA: TestUser = { id: '29:hana-t', aadObjectId: 'aad-hana-t', name: 'Hana Phiri' };
const where = (u: TestUser) => personalChat(connector.url, u);
let seq = 0;
const form = () => ({
  title: `Visit list will not open ${++seq}`,
  description: 'The visit list spins for ever since this morning.',
  location: 'Visits',
  category: 'Data entry',
  severity: 'slows',
  site: `Site ${seq}`,
});

/** Logs an issue through `on`; the triage card posted for it. */
async function triageCardFrom(on: App): Promise<string> {
  const res = await execute(on, USERS.staff, 'issue.logAnyway', { form: form() }, where(USERS.staff));
  const ref = /R-\d{4}/.exec(invokeText(res.body))?.[0] ?? '';
  expect(ref, invokeText(res.body)).not.toBe('');
  const posted = () => connector.sentTo(TRIAGE).map((c) => JSON.stringify(c.body)).find((b) => b.includes(ref));
  await connector.waitFor(() => posted() !== undefined);
  return posted()!;
}

/** The rollout team forgets `u` on the first instance; the pseudonym they now appear as. */
async function forget(u: TestUser): Promise<string> {
  const asked = await say(app, USERS.lead, `forget ${u.name}`, where(USERS.lead));
  const done = invokeText((await execute(app, USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), where(USERS.lead))).body);
  expect(done).toContain(`${u.name} is forgotten`);
  const pseudonym = /appear as (Former member [0-9a-f]{4})/.exec(done)?.[1] ?? '';
  expect(pseudonym).not.toBe('');
  return pseudonym;
}

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  const env = { TABLE_PREFIX: `t${randomBytes(4).toString('hex')}`, CHAMPION_IDS: `${USERS.champion.aadObjectId},${GRACE.aadObjectId},${HANA.aadObjectId}` };
  ({ app } = await startTestApp(env, clock));
  ({ app: other } = await startTestApp(env, clock));
  for (const u of [USERS.staff, USERS.champion, USERS.lead, GRACE, HANA]) await say(app, u, 'whoami', where(u));
  const setup = await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', {
    serviceUrl: connector.url,
    conversation: { id: `${TRIAGE};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
  });
  expect(readable(setup)).toContain('triage channel');
});
afterAll(async () => {
  await app?.stop();
  await other?.stop();
  await connector?.stop();
});

describe('a champion forgotten on one instance', () => {
  it('is not named in the Assign list of a triage card another instance draws within the minute it keeps that list', async () => {
    // The other instance draws a card first: it has read the champions' names.
    const before = await triageCardFrom(other);
    expect(before).toContain(`"title":"${GRACE.name}"`);
    expect(before).toContain(`"title":"${USERS.champion.name}"`);

    const pseudonym = await forget(GRACE);

    // The other instance sees the forget once its kept read of the latest forget is LATEST_KEPT_MS old (5 s), well
    // within the minute it keeps the champion list: that list is as fresh as it was.
    clock.advance(LATEST_KEPT_MS);
    const after = await triageCardFrom(other);
    expect(after).not.toContain('Grace');
    expect(after).toContain(`"title":"${pseudonym}"`);
    expect(after).toContain(`"title":"${USERS.champion.name}"`);
    // And on the instance that forgot her.
    const here = await triageCardFrom(app);
    expect(here).not.toContain('Grace');
    expect(here).toContain(`"title":"${USERS.champion.name}"`);
  }, 60_000);

  it('assigned an issue: the triage card the forget redraws names them by their pseudonym, in the Assign list too', async () => {
    const card = await triageCardFrom(app);
    const ref = /R-\d{4}/.exec(card)![0];
    const assigned = await execute(app, HANA, 'issue.assignMe', { ref, version: (await app.repository.get(ref))!.version }, where(HANA));
    expect(JSON.stringify(assigned.body)).toContain(`"title":"${HANA.name}"`);
    const pseudonym = await forget(HANA);
    await app.settled();
    const redrawn = () => connector.calls.filter((c) => c.method === 'PUT' && c.conversationId === TRIAGE && JSON.stringify(c.body).includes(ref));
    await connector.waitFor(() => redrawn().some((c) => JSON.stringify(c.body).includes(pseudonym)));
    const last = JSON.stringify(redrawn().at(-1)?.body);
    expect(last).not.toContain('Hana');
    expect(last).toContain(`"title":"${pseudonym}"`);
  }, 60_000);
});
