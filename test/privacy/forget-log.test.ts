import { describe, expect, it } from 'vitest';
import { ForgetLog, ForgetLogPersonalData } from '../../src/privacy/forget-log.js';
import { collect } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';

const LEAD = { ids: ['aad-lead', '29:lead'], name: 'Lee Lead' };
const STAND = { id: 'former:0123456789abcdef', name: 'Former member 0123' };
const done = [{ feature: 'issues', tally: { holdings: [{ kind: 'issues.reported', label: 'issues', count: 2, action: 'anonymise' as const }] } }];

describe('the forget log, when the rollout team member who asked is forgotten', () => {
  it('counts, exports and then anonymises the forgets they asked for; the log keeps its rows', async () => {
    const tables = testTables();
    const log = await ForgetLog.open(tables);
    await log.record(new Date('2026-11-30T08:00:00Z'), 'aad-lead', 'Former member aaaa', done);
    await log.record(new Date('2026-11-30T09:00:00Z'), 'aad-other', 'Former member bbbb', done);
    const part = await ForgetLogPersonalData.open(tables);

    expect((await part.describe(LEAD)).holdings).toEqual([expect.objectContaining({ kind: 'privacy.forgetsAsked', count: 1 })]);
    expect(JSON.stringify(await part.export(LEAD))).toContain('2026-11-30T08:00:00.000Z');

    await part.forget(LEAD, STAND);
    const rows = await collect((await tables.table('PrivacyLog')).listEntities());
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain('aad-lead');
    expect(rows.map((r) => r.by).sort()).toEqual(['aad-other', STAND.id]);
    expect((await part.describe(LEAD)).holdings).toEqual([]);
  });
});
