import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ConversationStore } from '../../src/conversations/store.js';
import { mapLimit } from '../../src/map-limit.js';
import { ForgetLog } from '../../src/privacy/forget-log.js';
import { ForgetJobs } from '../../src/privacy/jobs.js';
import { Pseudonyms } from '../../src/privacy/pseudonym.js';
import { PersonalDataRegistry } from '../../src/privacy/registry.js';
import { PrivacyService, type PrivacyServiceDeps } from '../../src/privacy/service.js';
import { collect } from '../../src/storage/tables.js';
import { CapturedOutbox } from '../support/outbox.js';
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

describe('forget oneself', () => {
  it('the log of it names the rollout team member by their pseudonym, not their id', async () => {
    const tables = testTables();
    const clock = new ManualClock('2026-11-30T08:00:00Z');
    const conversations = await ConversationStore.open(tables, clock);
    const pseudonyms = await Pseudonyms.open(tables, () => clock.now().getTime());
    const registry = new PersonalDataRegistry();
    // The path the Forget click takes: the durable job, concluded by the service.
    const jobs: ForgetJobs = await ForgetJobs.open(tables, {
      registry,
      pseudonyms,
      conclude: (subject, by, done, once) => service.conclude(subject, by, done, once),
      outbox: new CapturedOutbox(),
      clock,
      holderId: 'test',
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const service = new PrivacyService({
      registry,
      pseudonyms,
      exports: { save: async () => ({ token: 't', expiresAt: '' }) },
      log: await ForgetLog.open(tables),
      conversations,
      roleOf: async () => 'rolloutTeam',
      clock,
      jobs,
    });
    const plan = await service.prepareForget(LEAD, { id: LEAD.person.id });
    if ('kind' in plan) throw new Error(plan.message);
    const jobRows = async () => collect((await tables.table('PrivacyForgetJobs')).listEntities());

    // Checked on the server before anything is written: the role, and the token of the card shown.
    expect(await service.startForget({ ...LEAD, role: 'staff' }, plan.subject, plan.token)).toMatchObject({ kind: 'refused' });
    expect(await service.startForget(LEAD, { ids: ['aad-someone-else'] }, plan.token)).toMatchObject({ kind: 'refused' });
    expect(await jobRows()).toEqual([]);

    const started = await service.startForget(LEAD, plan.subject, plan.token);
    if (started.kind !== 'started') throw new Error(started.message);
    expect(await jobs.runWithin(started.job.key, 60_000)).toMatchObject({ kind: 'done' });
    await jobs.told(started.job.key, started.job.run);
    const rows = await collect((await tables.table('PrivacyLog')).listEntities());
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(LEAD.person.id);
    expect(await jobRows()).toEqual([]);
  });
});
