import type { Scheduler, SchedulerLog } from '../scheduler/runner.js';
import type { IssueRepository } from './repository.js';
import type { IssueService } from './service.js';
import type { SlaCheck } from './sla.js';

/** The SLA job: reminders in the triage channel, escalations to the rollout team, each once. */
export function scheduleIssueJobs(
  scheduler: Scheduler,
  sla: SlaCheck,
  w: { issues: IssueService; repository: Pick<IssueRepository, 'repairIndexes'>; log: SchedulerLog & { warn(obj: object, msg: string): void } },
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
}
