import { clip } from '../text/fit.js';
import type { Rollout } from '../rollout/model.js';
import { type Person, RosterUnanswered } from '../roles/roles.js';
import { type Audience, BROADCAST_CHANNELS, channelRecipient, type Recipient } from './model.js';
import { people } from '../text/count.js';

/**
 * Who an audience is, as a list of recipients: plain rules over what the directory answers (the people
 * with the bot in personal scope, a team's roster, the role lists, the rollout file). Duplicates are
 * removed; a person is keyed by their Entra object id, lower-cased.
 */
export interface AudienceDirectory {
  /** Everyone who has the bot in personal scope (user keys); `limit`: stop once that many are found. */
  personalChatUsers(limit?: number): Promise<string[]>;
  /** A team's members, read with the paged roster call (`firstPage`: only its first); throws when the team can't be read. */
  teamMembers(teamId: string, firstPage?: boolean): Promise<Person[]>;
  championIds(): Promise<string[]>;
  rolloutTeamIds: readonly string[];
  rollout(): Rollout;
  /** Everyone in a user group or cohort (the rollout file and who the rollout team added from Teams). */
  members(kind: 'group' | 'cohort', id: string): Promise<Person[]>;
  /** For reminders: the people a send reached 1:1, and those who acknowledged it. */
  reachedUsers(sendId: string): Promise<string[]>;
  acknowledged(sendId: string): Promise<Set<string>>;
}

export interface Resolved {
  recipients: Recipient[];
  /** What could not be resolved, for the person sending ("team X: the bot is not in it"). */
  notes: string[];
  /** Of the notes, those Teams did not answer (throttled, down): the same audience may resolve in a while. */
  unanswered: string[];
}

const user = (key: string): Recipient => ({ key: key.trim().toLowerCase(), kind: 'user' });

export async function resolveAudience(audience: Audience, dir: AudienceDirectory): Promise<Resolved> {
  const notes: string[] = [];
  const unanswered: string[] = [];
  const keys = await userKeys(audience, dir, notes, unanswered);
  if (audience.kind === 'channel') return { recipients: [channelRecipient(audience.role)], notes, unanswered };
  const seen = new Set<string>();
  const recipients: Recipient[] = [];
  for (const k of keys) {
    const r = user(k);
    if (!r.key || seen.has(r.key)) continue;
    seen.add(r.key);
    recipients.push(r);
  }
  return { recipients, notes, unanswered };
}

/**
 * Whether an audience has anyone in it, reading no more than it takes to find one (a team: its roster's first page;
 * everyone: the first personal chat). A channel always has its post.
 */
export async function anyRecipient(audience: Audience, dir: AudienceDirectory): Promise<Resolved & { found: boolean }> {
  const notes: string[] = [];
  const unanswered: string[] = [];
  if (audience.kind === 'channel') return { found: true, recipients: [channelRecipient(audience.role)], notes, unanswered };
  const keys = await userKeys(audience, dir, notes, unanswered, true);
  const recipients = keys.map(user).filter((r) => r.key);
  return { found: recipients.length > 0, recipients, notes, unanswered };
}

async function userKeys(audience: Audience, dir: AudienceDirectory, notes: string[], unanswered: string[], first = false): Promise<string[]> {
  const rollout = dir.rollout();
  switch (audience.kind) {
    case 'channel':
      return [];
    case 'everyone':
      return dir.personalChatUsers(first ? 1 : undefined);
    case 'team':
      return (await teamMembers(audience.teamId, dir, notes, unanswered, first)).map((p) => p.id);
    case 'champions':
      return dir.championIds();
    case 'rolloutTeam':
      return [...dir.rolloutTeamIds];
    case 'users':
      return audience.userIds;
    case 'unacknowledged': {
      const acked = await dir.acknowledged(audience.sendId);
      return (await dir.reachedUsers(audience.sendId)).filter((k) => !acked.has(k.toLowerCase()));
    }
    case 'group': {
      if (!rollout.groups.some((g) => g.id === audience.groupId)) {
        notes.push(`user group "${audience.groupId}" is no longer in the rollout file`);
        return [];
      }
      const group = (await dir.members('group', audience.groupId)).map((p) => p.id);
      if (!audience.cohortId) return group;
      const cohort = new Set((await cohortMembers(audience.cohortId, dir, notes)).map((k) => k.toLowerCase()));
      return group.filter((m) => cohort.has(m.toLowerCase()));
    }
    case 'cohort': {
      const members = await cohortMembers(audience.cohortId, dir, notes);
      if (!audience.groupId) return members;
      if (!rollout.groups.some((g) => g.id === audience.groupId)) {
        notes.push(`user group "${audience.groupId}" is no longer in the rollout file`);
        return [];
      }
      const inGroup = new Set((await dir.members('group', audience.groupId)).map((p) => p.id.toLowerCase()));
      return members.filter((m) => inGroup.has(m.toLowerCase()));
    }
  }
}

/** A cohort's people ('all': every cohort's). */
async function cohortMembers(cohortId: string, dir: AudienceDirectory, notes: string[]): Promise<string[]> {
  const rollout = dir.rollout();
  const cohorts = cohortId === 'all' ? rollout.cohorts : rollout.cohorts.filter((c) => c.id === cohortId);
  if (!cohorts.length) notes.push(`cohort "${cohortId}" is no longer in the rollout file`);
  const out: string[] = [];
  for (const cohort of cohorts) out.push(...(await dir.members('cohort', cohort.id)).map((p) => p.id));
  return out;
}

async function teamMembers(teamId: string, dir: AudienceDirectory, notes: string[], unanswered: string[], firstPage = false): Promise<Person[]> {
  try {
    return await dir.teamMembers(teamId, firstPage);
  } catch (err) {
    const note = `team ${teamId}: ${(err as Error).message}`;
    notes.push(note);
    if (err instanceof RosterUnanswered) unanswered.push(note);
    return [];
  }
}

/** How an audience reads in a card: "the support channel", "Field officers in Wave A". */
export function audienceLabel(audience: Audience, rollout: Rollout): string {
  const groupName = (id: string) => rollout.groups.find((g) => g.id === id)?.name ?? id;
  const cohortName = (id: string) => (id === 'all' ? 'every cohort' : (rollout.cohorts.find((c) => c.id === id)?.name ?? id));
  switch (audience.kind) {
    case 'channel':
      return `the ${audience.role} channel`;
    case 'everyone':
      return 'everyone who has the app';
    case 'team':
      return `every member of team ${audience.teamId}, 1:1`;
    case 'champions':
      return 'the champions';
    case 'rolloutTeam':
      return 'the rollout team';
    case 'users':
      return people(audience.userIds.length);
    case 'unacknowledged':
      return "those who haven't acknowledged it";
    case 'group':
      return audience.cohortId ? `${groupName(audience.groupId)} in ${cohortName(audience.cohortId)}` : groupName(audience.groupId);
    case 'cohort':
      return audience.groupId
        ? `${groupName(audience.groupId)} in ${cohortName(audience.cohortId)}`
        : cohortName(audience.cohortId);
  }
}

/** The audiences an announcement can pick (the form's choices): value → label. */
/**
 * How much of a form the audience choices may take (characters of JSON; a card counts twice that in bytes): the
 * rollout file allows 200 user groups and 200 cohorts with names of 120 characters and ids of 100, some 200 KB
 * listed in full, five times Teams' 40 KB. Past this, the rest are counted and typed (audienceFromTyped).
 */
const AUDIENCE_CHOICES_CHARS = 10_000;
const CHOICE_TITLE_CHARS = 80;
/** The choice that says "I typed it" (see audienceFromTyped). */
export const TYPED_AUDIENCE = 'typed';
export const TYPED_CHOICE = { title: 'Another user group or cohort (type its id below)', value: TYPED_AUDIENCE } as const;

/** The audience choices a form lists, as many as fit, and how many user groups and cohorts it left out. */
export function audienceChoices(rollout: Rollout): { choices: { title: string; value: string }[]; omitted: number } {
  const all = allAudienceChoices(rollout);
  const choices: { title: string; value: string }[] = [];
  let used = 0;
  for (const c of all) {
    const choice = { title: clip(c.title, CHOICE_TITLE_CHARS), value: c.value };
    used += JSON.stringify(choice).length + 2;
    // The fixed choices come first and always fit; groups and cohorts while they do.
    if (used > AUDIENCE_CHOICES_CHARS) break;
    choices.push(choice);
  }
  const omitted = all.length - choices.length;
  if (omitted) choices.push({ ...TYPED_CHOICE });
  return { choices, omitted };
}

/** A user group's or cohort's id (or its name) as typed on a form → the audience, or undefined. */
export function audienceFromTyped(
  typed: string,
  rollout: { groups: readonly { id: string; name: string }[]; cohorts: readonly { id: string; name: string }[] },
): Audience | undefined {
  const t = typed.trim().toLowerCase();
  if (!t) return undefined;
  const bare = t.replace(/^(group|cohort):/, '');
  const group = rollout.groups.find((g) => g.id.toLowerCase() === bare || g.name.toLowerCase() === bare);
  const cohort = rollout.cohorts.find((c) => c.id.toLowerCase() === bare || c.name.toLowerCase() === bare);
  if (group && !t.startsWith('cohort:')) return { kind: 'group', groupId: group.id };
  if (cohort && !t.startsWith('group:')) return { kind: 'cohort', cohortId: cohort.id };
  return undefined;
}

function allAudienceChoices(rollout: Rollout): { title: string; value: string }[] {
  return [
    ...BROADCAST_CHANNELS.map((role) => ({ title: `The ${role} channel`, value: `channel:${role}` })),
    { title: 'Everyone who has the app (1:1)', value: 'everyone' },
    { title: 'Champions (1:1)', value: 'champions' },
    { title: 'The rollout team (1:1)', value: 'rollout-team' },
    ...rollout.groups.map((g) => ({ title: `User group: ${g.name}`, value: `group:${g.id}` })),
    ...rollout.cohorts.map((c) => ({ title: `Cohort: ${c.name}`, value: `cohort:${c.id}` })),
  ];
}

/** A form's audience choice → an Audience, or undefined when it is not one of `audienceChoices`. */
export function audienceFromChoice(value: string, rollout: Rollout): Audience | undefined {
  const [kind, id = ''] = value.trim().split(':', 2) as [string, string | undefined];
  if (kind === 'channel' && (BROADCAST_CHANNELS as readonly string[]).includes(id))
    return { kind: 'channel', role: id as (typeof BROADCAST_CHANNELS)[number] };
  if (kind === 'everyone' && !id) return { kind: 'everyone' };
  if (kind === 'champions' && !id) return { kind: 'champions' };
  if (kind === 'rollout-team' && !id) return { kind: 'rolloutTeam' };
  if (kind === 'group' && rollout.groups.some((g) => g.id === id)) return { kind: 'group', groupId: id };
  if (kind === 'cohort' && rollout.cohorts.some((c) => c.id === id)) return { kind: 'cohort', cohortId: id };
  return undefined;
}
