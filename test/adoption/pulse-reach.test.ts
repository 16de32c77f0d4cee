import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pulseCard } from '../../src/adoption/cards.js';
import { sentNotice } from '../../src/adoption/pulse.js';
import { reachWithin } from '../../src/adoption/pulse-reach.js';
import { type AdoptionCaller, PulseService } from '../../src/adoption/pulse-service.js';
import { PulseStore } from '../../src/adoption/pulse-store.js';
import { ManualClock } from '../../src/clock.js';
import { ConversationStore } from '../../src/conversations/store.js';
import { Tables } from '../../src/storage/tables.js';
import { CapturedOutbox } from '../support/outbox.js';
import { startSlowLink } from '../support/slow-link.js';
import { azuriteConnection, testTables } from '../support/storage.js';
import { reads } from '../support/table-reads.js';

/*
 * The audience check of a pulse, inside the sender's turn, when storage is slow and the audience large: it stops at
 * its deadline, reads no more than one lookup per person, and the sender is told the counts are approximate.
 */

const lead: AdoptionCaller = { person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' };
const chat = (i: number) => ({
  conversationId: `a:chat-${i}`,
  conversationType: 'personal' as const,
  serviceUrl: 'https://smba.example',
  tenantId: 'tenant-1',
  channelId: 'msteams',
  bot: { id: '28:bot' },
  user: { id: `29:u${i}`, aadObjectId: `aad-u${i}`, name: `User ${i}` },
});

describe('the audience check of a pulse', () => {
  it('on slow storage, stops at its deadline having read at most one lookup per person, and says the counts are approximate', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}`;
    // Every fifth person has a chat; the check reads over a link that holds each packet 25 ms each way.
    await (await ConversationStore.open(new Tables(azuriteConnection(), prefix), new ManualClock())).rememberAll(
      Array.from({ length: 600 }, (_, i) => chat(5 * i)),
    );
    const link = await startSlowLink(azuriteConnection(), 25);
    try {
      const slow = await ConversationStore.open(new Tables(link.connectionString, prefix), new ManualClock());
      const keys = Array.from({ length: 3000 }, (_, i) => `aad-u${i}`);
      const deadlineMs = 1_000;
      const started = Date.now();
      const { value: reach, calls } = await reads(
        () => reachWithin(keys, async (k) => Boolean(await slow.personalChat(k)), { deadlineMs }),
        { table: 'Conversations' },
      );
      const took = Date.now() - started;
      // Unbounded, 3,000 lookups 16 at a time over this link take about 9 s: a bound well under that, with room
      // for a loaded machine's timers, shows the deadline held without timing it finely.
      expect(took).toBeLessThan(deadlineMs * 4);
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBeLessThanOrEqual(keys.length);
      // Some were read (and four in five of those have no chat), the rest are taken as reachable.
      expect(reach.unchecked).toBeGreaterThan(0);
      expect(reach.unchecked).toBeLessThan(keys.length);
      expect(reach.reachable.has('aad-u0')).toBe(true);
      expect(reach.reachable.has('aad-u1')).toBe(false);
      expect(reach.reachable.has('aad-u2999')).toBe(true);
      // Those with a chat are all there; of the rest, only the unchecked ones.
      expect(keys.filter((_, i) => i % 5 === 0).every((k) => reach.reachable.has(k))).toBe(true);
      expect(reach.reachable.size).toBeLessThanOrEqual(600 + reach.unchecked);

      // What the sender is told: the count is approximate.
      const service = new PulseService({
        store: await PulseStore.open(testTables()),
        outbox: new CapturedOutbox(),
        resolveAudience: async () => ({ ok: true, userKeys: [...reach.reachable], unreachable: keys.length - reach.reachable.size, unchecked: reach.unchecked, label: '3,000 listed people' }),
        clock: new ManualClock('2027-01-11T09:00:00Z'),
        minAnswers: 5,
        openDays: 14,
        questionCard: (p, a, n) => pulseCard(p, 5, a, n),
      });
      const res = await service.send(lead, { title: 'Reach', q1Kind: 'scale', q1Text: 'How is it going?' }, { kind: 'everyone' });
      if (res.kind !== 'sent') throw new Error(JSON.stringify(res.errors));
      expect(sentNotice(res.pulse)).toMatch(
        new RegExp(`^Sent to about .* people \\(3,000 listed people\\); about .* could not be reached \\(no chat with the bot\\)\\. These counts are approximate: ${reach.unchecked.toLocaleString('en-US')} of the audience could not be checked for a chat with the bot in time\\.$`),
      );
    } finally {
      await link.stop();
    }
  }, 60_000);

  it('with storage answering, reads everyone and is exact', async () => {
    const store = await ConversationStore.open(testTables(), new ManualClock());
    await store.rememberAll([chat(1), chat(3)]);
    const reach = await reachWithin(['aad-u1', 'aad-u2', 'aad-u3'], async (k) => Boolean(await store.personalChat(k)));
    expect(reach).toEqual({ reachable: new Set(['aad-u1', 'aad-u3']), unchecked: 0 });
  });
});
