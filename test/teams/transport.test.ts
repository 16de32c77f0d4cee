import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { NotSent, verdictOf } from '../../src/outbound/transport.js';
import { createAdapter } from '../../src/teams/adapter.js';
import { TeamsTransport } from '../../src/teams/transport.js';
import { TeamsConnectorStandIn } from '../support/teams-connector.js';

let connector: TeamsConnectorStandIn;
beforeAll(async () => {
  connector = await new TeamsConnectorStandIn().start();
});
afterAll(async () => {
  await connector?.stop();
});

const conv = () => ({
  conversationId: 'a:chat-ivy',
  conversationType: 'personal' as const,
  serviceUrl: connector.url,
  tenantId: 'tenant-1',
  channelId: 'msteams',
  bot: { id: '28:bot' },
  user: { id: '29:ivy', name: 'Ivy' },
  updatedAt: '',
});

describe('TeamsTransport', () => {
  it('makes exactly one request per call: a 429 comes back to the worker with its Retry-After, not retried inside', async () => {
    const transport = new TeamsTransport(createAdapter({ kind: 'local' }, createLogger('silent')), '');
    connector.script('a:chat-ivy', 429, 1, { retryAfterSec: 7 });
    const err = await transport.send(conv(), 'hello', { timeoutMs: 5_000, go: () => true }).catch((e: unknown) => e);
    expect(connector.conversationTimes.get('a:chat-ivy')).toHaveLength(1);
    const failure = transport.failure(err);
    expect(failure).toMatchObject({ status: 429, retryAfterMs: 7_000 });
    expect(verdictOf(failure)).toEqual({ kind: 'throttled', retryAfterMs: 7_000 });
  });

  it('reads a 403 MessageWritesBlocked as blocked and a 502 as worth another try', async () => {
    const transport = new TeamsTransport(createAdapter({ kind: 'local' }, createLogger('silent')), '');
    connector.script('a:chat-ivy', 403, 1, { code: 'MessageWritesBlocked' });
    connector.script('a:chat-ivy', 502, 1);
    const blocked = transport.failure(await transport.send(conv(), 'a', { timeoutMs: 5_000, go: () => true }).catch((e: unknown) => e));
    expect(verdictOf(blocked).kind).toBe('blocked');
    expect(blocked.code).toBe('MessageWritesBlocked');
    const gateway = transport.failure(await transport.send(conv(), 'b', { timeoutMs: 5_000, go: () => true }).catch((e: unknown) => e));
    expect(verdictOf(gateway).kind).toBe('retry');
    const sent = await transport.send(conv(), 'c', { timeoutMs: 5_000, go: () => true });
    expect(connector.messages.get(sent.activityId)?.text).toBe('c');
  });

  it("asks the caller's last check right before the request is written: refused, no request reaches the connector", async () => {
    const transport = new TeamsTransport(createAdapter({ kind: 'local' }, createLogger('silent')), '');
    const before = connector.counts.requests;
    let asked = 0;
    const refused = await transport
      .send(conv(), 'too late', { timeoutMs: 5_000, go: () => (asked++, false) })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NotSent);
    expect(asked).toBe(1);
    expect(connector.counts.requests).toBe(before);
    const sent = await transport.send(conv(), 'on time', { timeoutMs: 5_000, go: () => (asked++, true) });
    expect(asked).toBe(2);
    expect(connector.messages.get(sent.activityId)?.text).toBe('on time');
  });
});
