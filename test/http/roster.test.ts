import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { RecordingConnector, RETRY_AT_ONCE } from '../support/connector.js';
import { readable, say, startTestApp, USERS } from '../support/app.js';

const TEAM = '19:champions@thread.tacv2';
let app: App;
let connector: RecordingConnector;
const clock = new ManualClock();

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp({ CHAMPIONS_TEAM_ID: TEAM, CHAMPION_IDS: '', ROLE_CACHE_SECONDS: '60' }, clock));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('champions by team membership', () => {
  it('reads the champions team with the paged roster call and treats its members as champions', async () => {
    connector.answer('GET', /\/pagedmembers/, {
      members: [{ id: '29:x', name: 'Sam Staff', aadObjectId: USERS.staff.aadObjectId }],
      continuationToken: undefined,
    });
    // The bot learns where the team is when it is used in the team's General channel.
    await say(app, USERS.lead, 'whoami', {
      serviceUrl: connector.url,
      conversation: { id: TEAM, conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { team: { id: TEAM, name: 'Champions' }, channel: { id: TEAM } },
    });
    const text = readable(await say(app, USERS.staff, 'whoami'));
    expect(text).toContain('Champion');
    const rosterCalls = connector.calls.filter((c) => c.path.includes('/pagedmembers'));
    expect(rosterCalls).toHaveLength(1);
    expect(decodeURIComponent(rosterCalls[0]?.path ?? '')).toContain(TEAM);
    // Cached: a second question does not read the roster again.
    await say(app, USERS.staff, 'whoami');
    expect(connector.calls.filter((c) => c.path.includes('/pagedmembers'))).toHaveLength(1);
  });

  it('when Teams will not answer the roster read (down, throttled), the last known champions stay champions', async () => {
    clock.advance(61_000); // past the role cache: the next question reads the roster again
    connector.failNext(503, 10, RETRY_AT_ONCE);
    const text = readable(await say(app, USERS.staff, 'whoami'));
    connector.clearFailures();
    expect(connector.rejected.some((c) => c.method === 'GET' && c.path.includes('/pagedmembers'))).toBe(true);
    expect(text).toContain('Champion');
  });
});
