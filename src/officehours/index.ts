/**
 * Office hours and training sessions: the schedule (recurrence rules in a time zone), bookings with a
 * question, each user group's training timeline, reminders, the hosts' agenda, and the measures the
 * adoption dashboard reads. Plain functions and classes over plain data; no botbuilder.
 */
export { AgendaBuilder } from './agenda.js';
export { BookingStore } from './bookings.js';
export * from './cards.js';
export { ScheduleChanges } from './changes.js';
export { liveSchedule, openScheduleFile } from './file.js';
export { scheduleOfficeHoursJobs } from './jobs.js';
export { CalendarLinks } from './links.js';
export { bookingsAndAttendance, trainedBeforeGoLive } from './measures.js';
export * from './model.js';
export { asksForOfficeHours } from './recognise.js';
export { listCommand } from './rules.js';
export { OfficeHoursReminders, ReminderMarks } from './reminders.js';
export { type HeldQuestion, type ListAt, OfficeHoursService, type Viewer } from './service.js';
export { OFFICE_HOURS_COMMANDS, OFFICE_HOURS_VERBS } from './verbs.js';
