import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { activityRunner, createAdapter } from '../../src/teams/adapter.js';
import { LocalTokenService } from '../support/botframework-auth.js';

const APP_ID = '11111111-1111-1111-1111-111111111111';
let tokens: LocalTokenService;
beforeAll(async () => {
  tokens = await new LocalTokenService().start();
});
afterAll(async () => {
  await tokens?.stop();
});

describe('activityRunner in authenticated mode', () => {
  it('refuses an activity without a serviceUrl even with a valid token (botbuilder skips the serviceurl check then)', async () => {
    const adapter = createAdapter(
      { kind: 'SingleTenant', appId: APP_ID, password: 'secret', tenantId: 'tenant', openIdMetadataUrl: tokens.metadataUrl },
      createLogger('silent'),
    );
    let turns = 0;
    const run = activityRunner(adapter, async () => void turns++, createLogger('silent'));
    const activity = {
      type: 'invoke',
      name: 'adaptiveCard/action',
      channelId: 'msteams',
      from: { id: '29:x' },
      recipient: { id: '28:bot' },
      conversation: { id: 'a:1' },
      value: { action: { type: 'Action.Execute', verb: 'issue.mine' } },
    };
    const token = `Bearer ${tokens.token(APP_ID, 'https://smba.trafficmanager.net/emea/')}`;
    expect(await run(activity, token)).toMatchObject({ status: 401, body: { error: 'Unauthorized' } });
    expect(turns).toBe(0);
    // The same activity with the token's serviceUrl is run.
    const res = await run({ ...activity, serviceUrl: 'https://smba.trafficmanager.net/emea/' }, token);
    expect(res.status).not.toBe(401);
    expect(turns).toBe(1);
  });
});
