import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { execute, invokeText, personalChat, startTestApp, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * An announcement scheduled from the form, over HTTP as Teams sends it: the sample plan's programme time is
 * Africa/Maputo (UTC+2), which is the zone the form asks the time in.
 */

let app: App;
let connector: RecordingConnector;
beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp({}, new ManualClock('2027-01-11T06:00:00Z')));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('announce at a time', () => {
  it('the reply gives the time as typed, in the plan\'s zone and naming it, not the same instant in UTC', async () => {
    const res = await execute(
      app,
      USERS.lead,
      'broadcast.announce',
      { title: 'Server maintenance', body: 'Down on Saturday.', audience: 'rollout-team', timing: 'at', date: '2027-01-16', time: '09:00' },
      { ...personalChat(connector.url, USERS.lead), replyToId: 'announce-form-1' },
    );
    const text = invokeText(res.body);
    expect(text).toContain('Scheduled "Server maintenance" for 16 Jan 2027 09:00 (Africa/Maputo)');
    expect(text).not.toContain('07:00');
  });
});
