import { describe, expect, it } from 'vitest';
import { scheduleIssueJobs } from '../../src/issues/jobs.js';
import type { IssueService } from '../../src/issues/service.js';
import { SlaCheck, SlaMarks } from '../../src/issues/sla.js';
import { LeaseStore } from '../../src/scheduler/lease.js';
import { Scheduler } from '../../src/scheduler/runner.js';
import { IssueRepository } from '../../src/issues/repository.js';
import { alice, amina, bo, form, openStore, writeOldDuplicateLink } from './fixtures.js';

const quiet: { info(obj: object, msg?: string): void; warn(obj: object, msg: string): void; error(obj: object, msg?: string): void } = { info: () => {}, warn: () => {}, error: () => {} };

/** The issue jobs on a scheduler of their own over the store's tables, as app.ts wires them. */
async function issueJobs(store: Awaited<ReturnType<typeof openStore>>, log: typeof quiet = quiet) {
  const { repo, queries, clock, tables } = store;
  const scheduler = new Scheduler(await LeaseStore.open(tables), clock, quiet);
  const sla = new SlaCheck(queries, await SlaMarks.open(tables), repo.config.sla, clock);
  // SLA reminders are not what these tests are about: their messages go nowhere.
  const issues = { slaMessages: async () => [], enqueue: async () => {} } as unknown as IssueService;
  scheduleIssueJobs(scheduler, sla, { issues, repository: repo, log }, 60_000);
  return scheduler;
}

async function logIssues(repo: Awaited<ReturnType<typeof openStore>>['repo'], n: number) {
  for (let i = 0; i < n; i++) if ((await repo.logIssue(form({ title: `Locked out ${i}` }), alice)).kind !== 'created') throw new Error('not created');
}

describe('issue jobs: duplicate links made before originals listed their duplicates', () => {
  it('refuses to link an issue whose duplicate was linked by an earlier version, naming it, once the scheduler has run', async () => {
    const store = await openStore();
    const { repo, issueTables, clock } = store;
    await logIssues(repo, 4);
    const [a, b, c, d] = ['R-0001', 'R-0002', 'R-0003', 'R-0004'];
    // C was linked to A by an earlier version (A does not list it); D is linked now, so A lists D only.
    await writeOldDuplicateLink(issueTables, c, a, amina, clock.now());
    expect((await repo.act(d, { kind: 'duplicate', of: a }, amina)).kind).toBe('updated');

    await (await issueJobs(store)).tick();

    const chain = await repo.act(a, { kind: 'duplicate', of: b }, bo);
    expect(chain).toMatchObject({
      kind: 'refused',
      message: expect.stringMatching(new RegExp(`^${a} has duplicates of its own \\((${c}, ${d}|${d}, ${c})\\)`)),
    });
    expect(await repo.get(a)).toMatchObject({ status: 'new', duplicateOf: null });
  });

  it('refuses an old link\'s original alone too, and reads the issue log for old links only once', async () => {
    const store = await openStore();
    const { repo, issueTables, clock } = store;
    await logIssues(repo, 3);
    await writeOldDuplicateLink(issueTables, 'R-0003', 'R-0001', amina, clock.now());
    // Reads of the issue log beyond one partition (the repair job's reads of its markers are within one).
    let scans = 0;
    const main = issueTables.main;
    const listEntities = main.listEntities.bind(main);
    main.listEntities = ((...args: Parameters<typeof listEntities>) => {
      if (!args[0]?.queryOptions?.filter?.startsWith('PartitionKey eq')) scans++;
      return listEntities(...args);
    }) as typeof main.listEntities;

    const scheduler = await issueJobs(store);
    await scheduler.tick();
    expect(await repo.act('R-0001', { kind: 'duplicate', of: 'R-0002' }, bo)).toMatchObject({
      kind: 'refused',
      message: 'R-0001 has a duplicate of its own (R-0003), which would then point at a duplicate. Link R-0002 to R-0001 instead, or reopen R-0003 first.',
    });
    const afterFirst = scans;
    expect(afterFirst).toBeGreaterThan(0);
    // Later runs (a day of ticks) find the backfill done and do not read the issue log again.
    for (let i = 0; i < 24; i++) {
      clock.advance(60 * 60_000);
      await scheduler.tick();
    }
    expect(scans).toBe(afterFirst);
  });

  it('logs a chain of old links once, also when its original changed while its list was being written', async () => {
    const store = await openStore();
    const { repo, issueTables, clock } = store;
    await logIssues(repo, 3);
    const [a, b, c] = ['R-0001', 'R-0002', 'R-0003'];
    // A is a duplicate of B now; C was linked to A by an earlier version: C → A → B.
    expect((await repo.act(a, { kind: 'duplicate', of: b }, amina)).kind).toBe('updated');
    await writeOldDuplicateLink(issueTables, c, a, amina, clock.now());
    // Someone changes A just before the backfill writes A's list, so that write is tried again.
    let changed = false;
    const main = new Proxy(issueTables.main, {
      get(target, prop, receiver) {
        if (prop !== 'updateEntity') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<typeof target.updateEntity>) => {
          if (!changed && args[0].rowKey === a && 'duplicatesIn' in args[0]) {
            changed = true;
            await target.updateEntity({ partitionKey: args[0].partitionKey, rowKey: a, touchedBy: 'someone else' }, 'Merge');
          }
          return target.updateEntity(...args);
        };
      },
    });
    const warned: unknown[] = [];
    const log = { ...quiet, warn: (obj: object) => void warned.push(obj) };
    const scheduler = await issueJobs({ ...store, repo: new IssueRepository({ ...issueTables, main }, { clock }) }, log);
    await scheduler.tick();
    expect(changed).toBe(true);
    expect(warned).toEqual([{ chains: [`${c} → ${a} → ${b}`] }]);
  });
});
