import { describe, expect, it } from 'vitest';
import { activityProblem } from '../../src/http/activity-shape.js';

const ok = {
  type: 'message',
  id: 'a1',
  channelId: 'msteams',
  serviceUrl: 'https://smba.trafficmanager.net/emea/',
  from: { id: '29:x', aadObjectId: 'aad-x', name: 'X' },
  recipient: { id: '28:bot', name: 'Rollout Desk' },
  conversation: { id: 'a:1', conversationType: 'personal', tenantId: 't' },
  channelData: { tenant: { id: 't' } },
  entities: [{ type: 'mention', mentioned: { id: '28:bot' } }],
  text: 'hello',
  value: 'anything: its readers check it',
};

describe('activityProblem', () => {
  it('accepts an activity as Teams sends it', () => {
    expect(activityProblem(ok)).toBeUndefined();
    expect(activityProblem({ ...ok, type: 'invoke', name: 'adaptiveCard/action', value: {} })).toBeUndefined();
    expect(activityProblem({ ...ok, conversation: { id: '19:abc@thread.tacv2;messageid=1700000000000' } })).toBeUndefined();
    // Events that change nothing twice may come without an id.
    expect(activityProblem({ ...ok, type: 'conversationUpdate', id: undefined, channelId: 'emulator' })).toBeUndefined();
    expect(
      activityProblem({
        ...ok,
        from: { ...ok.from, role: 'user' },
        conversation: { id: '19:abc@thread.tacv2', conversationType: 'channel', isGroup: true, aadObjectId: null },
      }),
    ).toBeUndefined();
  });

  // Each of these was found by the fuzzer: botbuilder or the bot read the field without checking it and the
  // turn failed (or, for serviceUrl, the request got a 500).
  it.each([
    ['no recipient', { recipient: undefined }, /no "recipient"/],
    ['recipient null', { recipient: null }, /"recipient"/],
    ['from without id', { from: { name: 'x' } }, /no "from.id"/],
    ['from.id a number', { from: { id: 5 } }, /"from.id"/],
    ['conversation an array', { conversation: [null, 1] }, /"conversation"/],
    ['conversation.id an object', { conversation: { id: {} } }, /"conversation.id"/],
    ['channelId a number', { channelId: 0 }, /"channelId"/],
    ['entities a string', { entities: '\uDFFF' }, /"entities"/],
    ['serviceUrl a number on an invoke', { type: 'invoke', serviceUrl: 7 }, /"serviceUrl"/],
    ['serviceUrl not a URL', { serviceUrl: '😀' }, /"serviceUrl".*http\(s\) URL/],
    ['serviceUrl another scheme', { serviceUrl: 'file:///etc/passwd' }, /"serviceUrl"/],
    ['an entity without a type', { entities: [{ k: [] }] }, /"entities.0.type"/],
    ['an invoke without a serviceUrl (it may have to send a message)', { type: 'invoke', serviceUrl: undefined }, /no "serviceUrl"/],
    ['a conversation id that is not ASCII (it goes into a header)', { conversation: { id: '𝕳𝖊𝖑𝖑𝖔' } }, /"conversation.id".*ASCII/],
    ['an activity id with a line break', { id: 'a\nb' }, /"id"/],
    ['a Teams messageUpdate without channelData', { type: 'messageUpdate', channelData: undefined }, /channelData/],
    ['membersAdded an object', { membersAdded: { id: 'x' } }, /"membersAdded"/],
    ['channelData.tenant a string', { channelData: { tenant: 'x' } }, /"channelData.tenant"/],
    // A reply carries these back; botbuilder's serialiser threw on them after the bot had acted.
    ['conversation.aadObjectId a number', { conversation: { id: 'a:1', aadObjectId: -1 } }, /"conversation.aadObjectId"/],
    ['conversation.isGroup a string', { conversation: { id: 'a:1', isGroup: 'yes' } }, /"conversation.isGroup"/],
    ['from.role a number', { from: { id: '29:x', role: 1 } }, /"from.role"/],
    // Without its id a retry is a second message or click: found by the fuzzer (a forget pick answered twice).
    ['a message without an id', { id: undefined }, /a message activity has no "id"/],
    ['a card action without an id', { type: 'invoke', name: 'adaptiveCard/action', id: undefined }, /an? invoke activity has no "id"/],
  ])('refuses %s, naming the field', (_what, change, message) => {
    expect(activityProblem({ ...ok, ...change })).toMatch(message);
  });
});
