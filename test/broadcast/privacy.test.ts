import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/broadcast/plan.js';
import { EMPTY_ROLLOUT } from '../../src/rollout/model.js';
import { collect } from '../../src/storage/tables.js';
import { CHAMPION, fixture, LEAD } from './support.js';

/*
 * The broadcast feature's privacy duties beyond what test/http/privacy.test.ts drives through Teams: the
 * records the automatic wins keep about a person.
 */

const STAND = { id: 'former:0123456789abcdef', name: 'Former member 0123' };

describe('forget, and the champion-of-the-month wins', () => {
  it('takes the champion out of the record that their monthly win was posted', async () => {
    // Who resolved the month's issues, as the issue log says (forget puts the stand-in there).
    let resolver = CHAMPION.person.id;
    const facts = {
      resolvedCount: async () => 0,
      openP1: async () => 0,
      anyIssues: async () => true,
      resolvedBy: async () => new Map([[resolver, { name: CHAMPION.person.name, count: 12 }]]),
    };
    const f = await fixture({ facts });
    f.plan.current = parsePlan(
      `timeZone: UTC
celebrations: { championMonthly: 10 }
messages: []
`,
      EMPTY_ROLLOUT,
    );
    expect(await f.b.wins.run()).toEqual(['champion|aad-champ|2027-01']);

    const subject = { ids: [CHAMPION.person.id, '29:chris'], name: CHAMPION.person.name };
    // The confirmation card counts it, and `my data` shows it.
    expect((await f.b.personalData.describe(subject)).holdings.map((h) => h.kind)).toContain('broadcast.wins');
    expect(JSON.stringify(await f.b.personalData.export(subject))).toContain('2027-01');

    await f.b.personalData.forget(subject, STAND);
    resolver = STAND.id;

    const rows = await collect((await f.tables.table('BroadcastWins')).listEntities());
    expect(JSON.stringify(rows)).not.toContain(CHAMPION.person.id);
    expect((await f.b.personalData.describe(subject)).holdings).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ kind: 'broadcast.wins' })]),
    );
    // The win is not posted a second time for the same month's count.
    expect(await f.b.wins.run()).toEqual([]);
  });
});

describe('forget, and a celebration that named the person', () => {
  it('the post redrawn for the next kudos names the pseudonym as plain text, never as an @mention of someone who is not there', async () => {
    const f = await fixture();
    const posted = await f.b.celebrations.celebrate(CHAMPION, { who: 'aad-adele', what: 'Every K-05 on time', image: '' }, 'k');
    if (posted.kind !== 'posted') throw new Error('not posted');
    await f.b.personalData.forget({ ids: ['aad-adele'], name: 'Adele Vance' }, STAND);

    await f.b.celebrations.kudos(LEAD, posted.celebration.id);
    const update = f.outbox.enqueued.find((m) => m.op === 'update');
    const card = JSON.stringify(update?.op === 'update' ? update.content : {});
    expect(card).toContain(STAND.name);
    expect(card).not.toContain('Adele Vance');
    // A mention of the stand-in's id points Teams at a user that does not exist (and <at> text with no entity).
    expect(card).not.toContain(`<at>${STAND.name}</at>`);
    expect(card).not.toContain(STAND.id);
  });
});
