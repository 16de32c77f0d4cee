import { DateTime } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describePath } from '../files/yaml.js';
import { type Rollout, zoneSchema } from '../rollout/model.js';
import {
  type Audience,
  BROADCAST_CHANNELS,
  type BroadcastChannel,
  type Bound,
  NO_WINS,
  type Plan,
  type PlanMessage,
  STAGES,
  TEXT_LIMITS,
  type When,
} from './model.js';
import { checkRule, recurrenceCut } from './schedule.js';

/**
 * The communication plan file (`COMM_PLAN_FILE`): checked as a whole before any of it is used. Every
 * problem is reported with the message id and the field ("messages[3] (weekly-tip).when: …"), and a file
 * with any problem is refused whole, so the last good plan stays in force.
 */

export class PlanError extends Error {
  constructor(
    readonly problems: string[],
    source: string,
  ) {
    super(`${source}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n- ${problems.join('\n- ')}`}`);
  }
}

export const LIMITS = { ...TEXT_LIMITS, messages: 200 } as const;

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** A message's id: also what `cancel <id>` looks for among sends once the file no longer has the message. */
export const PLAN_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;

const httpsUrl = z
  .string()
  .trim()
  .max(LIMITS.url, `must be at most ${LIMITS.url} characters`)
  .refine((u) => /^https:\/\/[^\s]+$/i.test(u), 'must be an https:// address');

const messageSchema = z.strictObject({
  id: z.string().trim().regex(PLAN_ID, 'must be 1–40 lower-case letters, digits and dashes'),
  stage: z.enum(STAGES, { error: `must be one of ${STAGES.join(', ')}` }),
  title: z.string().trim().min(1, 'must not be empty').max(LIMITS.title, `must be at most ${LIMITS.title} characters`),
  body: z.string().trim().min(1, 'must not be empty').max(LIMITS.body, `must be at most ${LIMITS.body} characters`),
  image: httpsUrl.optional(),
  links: z
    .array(
      z.strictObject({
        title: z.string().trim().min(1).max(LIMITS.linkTitle, `must be at most ${LIMITS.linkTitle} characters`),
        url: httpsUrl,
      }),
    )
    .max(LIMITS.links, `at most ${LIMITS.links} links`)
    .default([]),
  audience: z.unknown().refine((v) => v !== undefined, 'is missing'),
  when: z.union([
    z.string().trim().min(1),
    z.strictObject({
      every: z.string().trim().min(1).max(200),
      at: z.string().trim(),
      from: z.union([z.string(), z.date()]),
      until: z.union([z.string(), z.date()]),
      zone: zoneSchema.optional(),
    }),
  ], { error: 'must be "manual", a date and time, "golive-7d 09:00", or {every, at, from, until}' }),
  launch: z.boolean().default(false),
});

const planSchema = z.strictObject({
  timeZone: zoneSchema.default('UTC'),
  celebrations: z
    .strictObject({
      resolvedMilestones: z.array(z.number().int().min(1).max(1_000_000)).max(20).default([]),
      noP1Week: z.boolean().default(false),
      cohortAcknowledged: z.boolean().default(false),
      championMonthly: z.number().int().min(0).max(10_000).default(0),
    })
    .default(NO_WINS),
  messages: z.array(z.unknown()).max(LIMITS.messages, `at most ${LIMITS.messages} messages`).default([]),
});

/** What of the rollout a plan is checked against: its cohorts and user groups (not its people). */
export type PlanRollout = Pick<Rollout, 'cohorts' | 'groups'>;

/** Reads and checks a plan against the rollout's groups and cohorts; throws a PlanError naming every problem. */
export function parsePlan(text: string, rollout: PlanRollout, source = 'communication plan'): Plan {
  let value: unknown;
  try {
    value = parseYaml(text) ?? {};
  } catch (error) {
    throw new PlanError([`not valid YAML (${(error as Error).message.split('\n')[0]})`], source);
  }
  const top = planSchema.safeParse(value);
  if (!top.success) throw new PlanError(top.error.issues.map((i) => `${describePath(value, i.path)}: ${messageOf(value, i)}`), source);
  const problems: string[] = [];
  const notes: string[] = [];
  const messages: PlanMessage[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of top.data.messages.entries()) {
    const at = (rest: readonly PropertyKey[]) => describePath(value, ['messages', i, ...rest]);
    const parsed = messageSchema.safeParse(raw);
    // The audience is checked even when other fields are wrong, so one save shows every problem.
    const audienceProblems: string[] = [];
    const audience =
      raw && typeof raw === 'object' && 'audience' in raw
        ? audienceOf((raw as { audience: unknown }).audience, rollout, (field, message) =>
            audienceProblems.push(`${at(['audience', ...field])}: ${message}`),
          )
        : undefined;
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${at(issue.path)}: ${messageOf(raw, issue)}`);
      problems.push(...audienceProblems);
      continue;
    }
    problems.push(...audienceProblems);
    const m = parsed.data;
    if (seen.has(m.id)) problems.push(`${at(['id'])}: "${m.id}" is used by another message`);
    seen.add(m.id);
    const when = whenOf(
      m.when,
      top.data.timeZone,
      (field, message) => problems.push(`${at(['when', ...field])}: ${message}`),
      rollout.cohorts.map((c) => c.goLive),
    );
    if (!audience || !when) continue;
    if (needsCohort(when) && audience.kind !== 'cohort') {
      problems.push(`${at(['when'])}: a time relative to go-live needs a cohort audience (cohort: all, or a cohort id)`);
      continue;
    }
    if (m.launch && audience.kind !== 'cohort') {
      problems.push(`${at(['launch'])}: a launch message must go to a cohort`);
      continue;
    }
    const { image, ...rest } = m;
    // Not refused: a long-running reminder is a fair plan; but not silently cut either.
    const cut = recurrenceCut({ audience, when }, rollout);
    if (cut) notes.push(`${at(['when', 'every'])}: ${cut}`);
    messages.push({
      ...rest,
      ...(image ? { image } : {}),
      audience,
      when,
      whenText: typeof m.when === 'string' ? m.when : JSON.stringify(m.when),
      ...(cut ? { cut } : {}),
    });
  }
  if (problems.length) throw new PlanError(problems, source);
  const wins = top.data.celebrations;
  return {
    timeZone: top.data.timeZone,
    messages,
    wins: { ...wins, resolvedMilestones: [...new Set(wins.resolvedMilestones)].sort((a, b) => a - b) },
    ...(notes.length ? { notes } : {}),
  };
}

/** parsePlan as the parse worker thread calls it (plan-file.ts): `(text, source, input)`, named there by a string. @public */
export function parsePlanFile(text: string, source: string, rollout: PlanRollout): Plan {
  return parsePlan(text, rollout, source);
}

/** A field left out reads "is missing" rather than zod's type message. */
function messageOf(root: unknown, issue: { path: readonly PropertyKey[]; message: string }): string {
  let node: unknown = root;
  for (const key of issue.path) node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  return node === undefined ? 'is missing' : issue.message;
}

export function needsCohort(when: When): boolean {
  return when.kind === 'golive' || (when.kind === 'every' && (when.from.kind === 'golive' || when.until.kind === 'golive'));
}

type Report = (field: PropertyKey[], message: string) => void;

const AUDIENCE_KEYS = ['channel', 'team', 'users', 'group', 'cohort'];
const AUDIENCE_HELP = 'must be everyone, champions, rollout-team, or one of {channel}, {team}, {users}, {group}, {cohort}, {cohort, group}';

/** The audience as written → an Audience, its groups and cohorts checked against the rollout file. */
export function audienceOf(raw: unknown, rollout: PlanRollout, report: Report): Audience | undefined {
  if (raw === 'everyone') return { kind: 'everyone' };
  if (raw === 'champions') return { kind: 'champions' };
  if (raw === 'rollout-team') return { kind: 'rolloutTeam' };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    report([], AUDIENCE_HELP);
    return undefined;
  }
  const a = raw as Record<string, unknown>;
  const keys = Object.keys(a);
  const unknown = keys.filter((k) => !AUDIENCE_KEYS.includes(k));
  if (unknown.length || !keys.length) {
    report(unknown.length ? [unknown[0]!] : [], unknown.length ? `is not an audience; ${AUDIENCE_HELP}` : AUDIENCE_HELP);
    return undefined;
  }
  const single = ['channel', 'team', 'users'].filter((k) => k in a);
  if (single.length && keys.length > 1) {
    report([], `${single[0]} can't be combined with ${keys.find((k) => k !== single[0])}`);
    return undefined;
  }
  const text = (key: string, max = 300): string | undefined => {
    const v = a[key];
    if (typeof v === 'string' && v.trim() && v.trim().length <= max) return v.trim();
    report([key], 'must be a name or id');
    return undefined;
  };
  if ('channel' in a) {
    if ((BROADCAST_CHANNELS as readonly unknown[]).includes(a.channel)) return { kind: 'channel', role: a.channel as BroadcastChannel };
    report(['channel'], 'must be support or announcements (the channels set up with "setup support|announcements")');
    return undefined;
  }
  if ('team' in a) {
    const team = text('team');
    return team ? { kind: 'team', teamId: team } : undefined;
  }
  if ('users' in a) {
    const users = a.users;
    if (!Array.isArray(users) || !users.length || users.length > 5000 || users.some((u) => typeof u !== 'string' || !u.trim() || u.length > 200)) {
      report(['users'], 'must list 1–5000 people by Entra object id');
      return undefined;
    }
    return { kind: 'users', userIds: [...new Set(users.map((u) => String(u).trim()))] };
  }
  const group = 'group' in a ? text('group', 40) : undefined;
  const cohort = 'cohort' in a ? text('cohort', 40) : undefined;
  if (('group' in a && !group) || ('cohort' in a && !cohort)) return undefined;
  let ok = true;
  if (group && !rollout.groups.some((g) => g.id === group)) {
    report(['group'], `no user group "${group}" in the rollout file`);
    ok = false;
  }
  if (cohort && cohort !== 'all' && !rollout.cohorts.some((c) => c.id === cohort)) {
    report(['cohort'], `no cohort "${cohort}" in the rollout file`);
    ok = false;
  }
  if (!ok) return undefined;
  if (cohort) return group ? { kind: 'cohort', cohortId: cohort, groupId: group } : { kind: 'cohort', cohortId: cohort };
  return { kind: 'group', groupId: group! };
}

/**
 * "2027-01-11 09:00", "2027-01-11 09:00 Africa/Nairobi", "golive-7d 09:00", "manual", or {every, at, from, until}.
 * `goLives`: the cohorts' go-live dates, where a repeat "from: golive…" starts.
 */
export function whenOf(
  raw: string | { every: string; at: string; from: string | Date; until: string | Date; zone?: string },
  planZone: string,
  report: Report,
  goLives: readonly string[] = [],
): When | undefined {
  if (typeof raw !== 'string') {
    const time = TIME.test(raw.at) ? raw.at : undefined;
    if (!time) report(['at'], 'must be a time written HH:mm (24-hour)');
    const from = boundOf(raw.from, (m) => report(['from'], m));
    const until = boundOf(raw.until, (m) => report(['until'], m));
    const starts = !from ? [] : from.kind === 'date' ? [from.date] : goLives.map((d) => DateTime.fromISO(d).plus({ days: from.days }).toISODate() ?? '').filter(Boolean);
    const ruleProblem = checkRule(raw.every, [...new Set(starts)]);
    if (ruleProblem) report(['every'], ruleProblem);
    if (!time || !from || !until || ruleProblem) return undefined;
    if (from.kind === until.kind) {
      const before = from.kind === 'date' ? from.date > (until as { date: string }).date : from.days > (until as { days: number }).days;
      if (before) {
        report(['until'], 'must not be before from');
        return undefined;
      }
    }
    return { kind: 'every', rule: raw.every.replace(/^RRULE:/i, ''), time, from, until, zone: raw.zone ?? planZone };
  }
  const text = raw.trim();
  if (/^manual$/i.test(text)) return { kind: 'manual' };
  const golive = /^golive(?:([+-])(\d{1,3})([dw]))?\s+(\S+)$/i.exec(text);
  if (golive) {
    const time = golive[4]!;
    if (!TIME.test(time)) {
      report([], `"${text}": the time must be written HH:mm (24-hour)`);
      return undefined;
    }
    return { kind: 'golive', days: offsetDays(golive[1], golive[2], golive[3]), time };
  }
  const at = /^(\d{4}-\d{2}-\d{2})[ T](\S+)(?:\s+(\S+))?$/.exec(text);
  if (at) {
    const [, date, time, zone] = at as unknown as [string, string, string, string | undefined];
    const zoneOk = zone === undefined || zoneSchema.safeParse(zone).success;
    if (!DateTime.fromISO(date).isValid) report([], `"${date}" is not a date (YYYY-MM-DD)`);
    else if (!TIME.test(time)) report([], `"${time}": the time must be written HH:mm (24-hour)`);
    else if (!zoneOk) report([], `"${zone}" is not an IANA time zone such as Africa/Nairobi`);
    else return { kind: 'at', date, time, zone: zone ?? planZone };
    return undefined;
  }
  report([], `"${text}" is not a time I can read: write "2027-01-11 09:00", "golive-7d 09:00" or "manual"`);
  return undefined;
}

function offsetDays(sign: string | undefined, n: string | undefined, unit: string | undefined): number {
  if (!sign || !n) return 0;
  const days = Number(n) * (unit?.toLowerCase() === 'w' ? 7 : 1);
  return sign === '-' ? -days : days;
}

function boundOf(raw: string | Date, report: (message: string) => void): Bound | undefined {
  if (raw instanceof Date) return { kind: 'date', date: raw.toISOString().slice(0, 10) };
  const text = raw.trim();
  const golive = /^golive(?:([+-])(\d{1,3})([dw]))?$/i.exec(text);
  if (golive) return { kind: 'golive', days: offsetDays(golive[1], golive[2], golive[3]) };
  if (/^\d{4}-\d{2}-\d{2}$/.test(text) && DateTime.fromISO(text).isValid) return { kind: 'date', date: text };
  report(`"${text}" must be a date (YYYY-MM-DD) or golive, golive+8w, golive-7d`);
  return undefined;
}

