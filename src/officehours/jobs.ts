import type { Scheduler, SchedulerLog } from '../scheduler/runner.js';
import type { OfficeHoursReminders } from './reminders.js';

/** Reminders, hosts' agendas and change notices: one job, run on the lease holder, each message once. */
export function scheduleOfficeHoursJobs(scheduler: Scheduler, reminders: OfficeHoursReminders, log: SchedulerLog, everyMs: number): void {
  scheduler.add({
    name: 'officehours.reminders',
    everyMs,
    run: async (now) => {
      const sent = await reminders.run(now);
      if (sent.reminders || sent.agendas || sent.notices) log.info(sent, 'office-hours reminders, agendas and notices queued');
    },
  });
}
