import type { Scheduler, SchedulerLog } from '../scheduler/runner.js';
import type { IssueRepository } from './repository.js';
import type { IssueService } from './service.js';
import type { SlaCheck } from './sla.js';

/** The SLA job: reminders in the triage channel, escalations to the rollout team, each once. */
export function scheduleIssueJobs(
  scheduler: Scheduler,
  sla: SlaCheck,
  w: { issues: IssueService; repository: Pick<IssueRepository, 'repairIndexes' | 'backfillDuplicatesIn'>; log: SchedulerLog & { warn(obj: object, msg: string): void } },
  everyMs: number,
): void {
  scheduler.add({
    name: 'issues.sla',
    everyMs,
    run: async () => {
      for (const event of await sla.run()) {
        try {
          await w.issues.enqueue(await w.issues.slaMessages(event));
        } catch (err) {
          await sla.release(event); // not queued: the next run tries again
          throw err;
        }
      }
    },
  });
  scheduler.add({
    name: 'issues.repairIndexes',
    everyMs: Math.max(everyMs, 5 * 60_000),
    run: async () => {
      const repaired = await w.repository.repairIndexes();
      if (repaired) w.log.warn({ repaired }, 'repaired issue index rows');
    },
  });
  // Once per deployment's data: lists links made before originals listed their duplicates (see the method).
  scheduler.add({
    name: 'issues.backfillDuplicatesIn',
    everyMs: Math.max(everyMs, 5 * 60_000),
    run: async () => {
      const result = await w.repository.backfillDuplicatesIn();
      if (!result.done) return;
      w.log.info({ originals: result.originals }, 'listed duplicates linked before originals kept a list');
      if (result.chains.length) w.log.warn({ chains: result.chains }, 'duplicates pointing at a duplicate, linked before this check existed');
    },
  });
}
