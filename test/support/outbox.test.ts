import { describe, expect, it } from 'vitest';
import { type DeliveryResult, type OutboundMessage, WITHDRAWN } from '../../src/outbound/message.js';
import { CapturedOutbox } from './outbox.js';

const send = (key: string, topic: string): OutboundMessage => ({ op: 'send', key, topic, to: { kind: 'user', userKey: key }, content: 'hi' });

describe('CapturedOutbox.withdraw', () => {
  it('tells the topic\'s listeners each message was withdrawn, as the real outbox does for one no worker took', async () => {
    const outbox = new CapturedOutbox();
    const heard: [string, DeliveryResult][] = [];
    outbox.onResult('broadcast:', async (m, r) => void heard.push([m.key, r]));
    await outbox.withdraw([send('a', 'broadcast:s1'), send('b', 'digest:x')]);
    expect(heard).toEqual([['a', { state: 'failed', reason: WITHDRAWN }]]);
  });
});
