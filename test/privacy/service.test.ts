import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ConversationStore } from '../../src/conversations/store.js';
import { mapLimit } from '../../src/map-limit.js';
import { PrivacyService, type PrivacyServiceDeps } from '../../src/privacy/service.js';
import { testTables } from '../support/storage.js';

const LEAD = { person: { id: 'aad-lead', name: 'Lee Lead' }, keys: ['aad-lead'], role: 'rolloutTeam' as const };

/** The service with only the app's known people behind it (finding a person by name needs nothing else). */
async function serviceWith(people: { id: string; name: string }[]): Promise<PrivacyService> {
  const conversations = await ConversationStore.open(testTables(), new ManualClock());
  await mapLimit(people, 16, (p) => conversations.rememberPerson(p.id, p.name));
  return new PrivacyService({ conversations } as unknown as PrivacyServiceDeps);
}

describe('forget, finding the person by name', () => {
  it('finds someone the app knows even when it knows more people than a pick list shows', async () => {
    // 600 colleagues spoke to the bot; Zoe's Entra id sorts after all of theirs.
    const others = Array.from({ length: 600 }, (_, i) => ({ id: `0000${String(i).padStart(4, '0')}-aaaa-4aaa-8aaa-aaaaaaaaaaaa`, name: `Colleague ${i}` }));
    const zoe = { id: 'ffff0000-aaaa-4aaa-8aaa-aaaaaaaaaaaa', name: 'Zoe Zimmer' };
    const service = await serviceWith([...others, zoe]);
    expect(await service.findByName(LEAD, '  zoe   ZIMMER ')).toEqual([zoe]);
  });
});
