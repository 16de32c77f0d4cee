import { type Role, roleAtLeast } from './roles.js';

/**
 * The one role table: every permission a command, card verb or API route needs, and the least role that
 * holds it. Commands and verbs name a permission (src/registry), never a role, so this is the only place
 * that says who may do what.
 */
export const PERMISSIONS = {
  /** Anyone who can talk to the bot: help, whoami, asking questions. */
  everyone: 'staff',
  'issues.report': 'staff',
  /** "+1 / this is mine too" on an issue the user was offered, and their own issues. */
  'issues.follow': 'staff',
  'issues.readOwn': 'staff',
  'issues.triage': 'champion',
  'issues.readAll': 'champion',
  'issues.export': 'rolloutTeam',
  'faq.ask': 'staff',
  'faq.feedback': 'staff',
  'faq.gaps': 'champion',
  'faq.searchGuidance': 'champion',
  /** Write, edit and retire champions' curated answers. */
  'faq.curate': 'champion',
  'faq.exportCurated': 'rolloutTeam',
  'channels.setup': 'rolloutTeam',
  /** The adoption dashboard's aggregate figures and the measures' progress. */
  'adoption.view': 'staff',
  /** Edit the measures of success; enter and import figures from the IMS. */
  'adoption.measures': 'rolloutTeam',
  'adoption.pulse.send': 'rolloutTeam',
  /** Answer a pulse sent to you (the service checks it was). */
  'adoption.pulse.answer': 'staff',
  /** Pulse results (aggregate only, free text without names). */
  'adoption.pulse.results': 'champion',
  /** The communication plan's delivery and acknowledgements, and office hours' bookings, on the tab. */
  'adoption.communications': 'champion',
  'adoption.officeHours': 'champion',
  /** The office-hours schedule and one's own training timeline; booking a seat. */
  'officehours.view': 'staff',
  'officehours.book': 'staff',
  /** Hosts' work: the agenda's actions, attendance. */
  'officehours.host': 'champion',
  /** Add sessions, cancel or move one occurrence. */
  'officehours.manage': 'rolloutTeam',
  /** See the rollout's user groups and cohorts. */
  'rollout.view': 'champion',
  /** Add or remove people from user groups and cohorts. */
  'rollout.manage': 'rolloutTeam',
  /** The communication plan: plan, preview, send, cancel, announce, reports, resend and remind. */
  'broadcast.manage': 'rolloutTeam',
  /** "Got it" on an announcement (a 1:1 one only by its recipient: checked by the service). */
  'broadcast.acknowledge': 'staff',
  'broadcast.celebrate': 'champion',
  'broadcast.kudos': 'staff',
  /** `my data`: a download of everything the app holds about oneself. */
  'privacy.myData': 'staff',
  /** `forget <person>`: remove or anonymise a person's data everywhere. */
  'privacy.forget': 'rolloutTeam',
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;

export function allows(role: Role, permission: Permission): boolean {
  return roleAtLeast(role, PERMISSIONS[permission]);
}

/** What a user is told when their role lacks a permission (once per refused action). */
export function refusalFor(permission: Permission): string {
  const needed = PERMISSIONS[permission];
  return needed === 'rolloutTeam'
    ? 'That is for the rollout team only. If you need it, ask your rollout team.'
    : 'That is for champions and the rollout team. If you need it, ask your rollout team.';
}
