import { DateTime } from 'luxon';
import { z } from 'zod';
import { parseYamlFile } from '../files/yaml.js';
import { count } from '../text/count.js';
import { clip } from '../text/fit.js';
import { type Rollout, zoneSchema } from '../rollout/model.js';
import { type OccurrenceChange, SESSION_KINDS, type Schedule, type Session, type StartSpec } from './model.js';
import { isOccurrenceKey, localToInstant, ruleProblem } from './recurrence.js';
import { lastMoveDay, MOVE_LIMIT_DAYS } from './rules.js';

/**
 * The schedule file (`OFFICE_HOURS_FILE`): office hours and training sessions. Each session is checked on
 * its own — a bad rule, zone or date is named with the session's id and field, that session is held (served as it
 * last was, taking no new booking; left out when it was never good: those booked are told nothing either way), and
 * the rest of the schedule is still served; a bad field that leaves the
 * session knowable (its join link, title, topic, hosts) is named and set aside, and the session kept (setAside). Training is timed against a cohort's go-live
 * (`start: golive-14d 09:00`, in the cohort's zone), so the schedule is built with the rollout's people.
 */

/** The file as read: its zone and its entries, each still to be checked against the rollout. */
export interface ScheduleFile {
  zone: string;
  entries: unknown[];
}

export { SettingsFileError as ScheduleFileError } from '../files/yaml.js';

export const EMPTY_SCHEDULE_FILE: ScheduleFile = { zone: 'UTC', entries: [] };

const fileSchema = z.strictObject({
  zone: zoneSchema.default('UTC'),
  sessions: z.array(z.unknown()).max(500).default([]),
});

export function parseScheduleFile(text: string, source = 'schedule'): ScheduleFile {
  const file = parseYamlFile(text, source, fileSchema);
  return { zone: file.zone, entries: file.sessions };
}

const LOCAL = /^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2})$/;
const GOLIVE = /^golive(?:([+-])(\d{1,3})d)?\s+(\d{1,2}:\d{2})$/i;

/** "2026-12-08 14:00" → "2026-12-08T14:00"; undefined when it is not a real date and time. */
export function localDateTime(text: string): string | undefined {
  const m = LOCAL.exec(text.trim());
  if (!m) return undefined;
  const dt = DateTime.fromISO(`${m[1]}T${(m[2] as string).padStart(5, '0')}`, { zone: 'utc' });
  return dt.isValid ? dt.toFormat("yyyy-MM-dd'T'HH:mm") : undefined;
}

function timeOfDay(text: string): string | undefined {
  const dt = DateTime.fromFormat(text.padStart(5, '0'), 'HH:mm', { zone: 'utc' });
  return dt.isValid ? dt.toFormat('HH:mm') : undefined;
}

export function parseStart(text: string): StartSpec | undefined {
  const local = localDateTime(text);
  if (local) return { kind: 'local', local };
  const m = GOLIVE.exec(text.trim());
  const time = m ? timeOfDay(m[3] as string) : undefined;
  if (!m || !time) return undefined;
  return { kind: 'golive', days: (m[1] === '-' ? -1 : 1) * Number(m[2] ?? 0), time };
}

const id = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,59}$/, 'must be 1–60 lower-case letters, digits or dashes');
const person = z.strictObject({
  id: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  name: z.string().trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters'),
});
const dateOrDateTime = z.union([z.string(), z.date()]).transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v.trim()));

const changeSchema = z.strictObject({
  date: dateOrDateTime,
  /** Which occurrence on that day, when the rule has several. */
  time: z.string().optional(),
  cancel: z.boolean().optional(),
  moveTo: z.string().optional(),
  reason: z.string().trim().max(200).optional(),
});

/** A session's length (minutes) and seats: the file's and the Teams form's bounds. */
export const MINUTES = { min: 5, max: 600 } as const;
export const CAPACITY = { min: 1, max: 1000 } as const;
/** A join link's length: the Teams add form takes no more, and the file is held to the same. */
export const JOIN_URL_MAX = 2000;

/** A title's and a topic's length (the Teams form's inputs stop there too), and the hosts a session names. */
const TITLE_MAX = 120;
const TOPIC_MAX = 300;
const HOSTS_MAX = 10;

export const sessionSchema = z.strictObject({
  id,
  kind: z.enum(SESSION_KINDS).default('office-hours'),
  title: z.string().trim().min(1, 'must not be empty').max(TITLE_MAX, `must be at most ${TITLE_MAX} characters`),
  topic: z.string().trim().max(TOPIC_MAX, `must be at most ${TOPIC_MAX} characters`).optional(),
  start: z.string({ error: 'is required: "2026-12-08 14:00", or "golive-14d 09:00" with a cohort' }).trim(),
  rule: z.string().trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters').optional(),
  zone: zoneSchema.optional(),
  minutes: z.number().int().min(MINUTES.min, `must be at least ${MINUTES.min}`).max(MINUTES.max, `must be at most ${MINUTES.max}`).default(60),
  capacity: z.number().int().min(CAPACITY.min, `must be at least ${CAPACITY.min}`).max(CAPACITY.max, `must be at most ${CAPACITY.max}`),
  joinUrl: z
    .url({ protocol: /^https$/, error: 'must be an https:// link (the Teams meeting)' })
    .max(JOIN_URL_MAX, { error: (iss) => `must be at most ${count(JOIN_URL_MAX)} characters (this one has ${count(String(iss.input).length)})` }),
  hosts: z.array(person).max(HOSTS_MAX, `at most ${HOSTS_MAX} hosts`).default([]),
  cohort: id.optional(),
  group: id.optional(),
  course: z.string().trim().min(1, 'must not be empty').max(60, 'must be at most 60 characters').optional(),
  /** Over CHANGES_MAX, the latest are kept (buildSchedule). */
  changes: z.array(z.unknown()).default([]),
});

/**
 * The changes a session's entry takes (each is checked against its rule). A series gathers them as it runs, so past
 * the limit those of the earliest dates — long over in any series that ran so long — are ignored, with a warning, and
 * the session kept: held, it would take no booking over housekeeping (and one never served good would not be shown).
 */
const CHANGES_MAX = 200;

/** A session in the file: as on the form, but a bad join link was left off (setAside), and none is ''. */
const fileSessionSchema = z.strictObject({ ...sessionSchema.shape, joinUrl: z.union([z.literal(''), sessionSchema.shape.joinUrl]) });

/**
 * The schedule from the file's entries and the rollout's cohorts and groups. Each problem says what was done: an
 * entry whose session can't be known (its times, seats or audience) is held when its id is readable — served as
 * `previous` (the schedule built before) had it (`heldAsWas`: no new bookings), else left out (`onHold`) — and not
 * taken as removed; one with a bad title, topic, join link or host is kept without it (setAside); a bad change
 * inside a good entry is ignored.
 */
export function buildSchedule(
  file: ScheduleFile,
  rollout: Pick<Rollout, 'cohorts' | 'groups'>,
  source = 'schedule',
  previous?: Pick<Schedule, 'sessions'>,
): Schedule {
  const problems: string[] = [];
  const sessions: Session[] = [];
  const seen = new Set<string>();
  /** Entries that name a session but can't be served, and where their problem is. */
  const held: { id: string; entry: number; problem: number; asWas?: Session }[] = [];
  file.entries.forEach((entry, i) => {
    const known = entry && typeof entry === 'object' ? (entry as Record<string, unknown>).id : undefined;
    const where = `${source}: sessions[${i}]${typeof known === 'string' ? ` (${known})` : ''}`;
    const aside = setAside(entry);
    const result = checkSession(aside.entry, file.zone, rollout, 'file');
    if (!result.ok) {
      const heldId = id.safeParse(known);
      const asWas = heldId.success ? previous?.sessions.find((s) => s.id === heldId.data) : undefined;
      if (heldId.success) held.push({ id: heldId.data, entry: i, problem: problems.length, asWas });
      problems.push(`${where}${result.field ? `.${result.field}` : ''}: ${result.message}; ${!heldId.success ? LEFT_OUT : asWas ? HELD_AS_WAS : HELD}`);
      return;
    }
    if (seen.has(result.session.id)) {
      problems.push(`${where}: the id "${result.session.id}" is used twice; the first one is kept`);
      return;
    }
    seen.add(result.session.id);
    for (const w of aside.warnings) problems.push(`${where}.${w}`);
    const changes: OccurrenceChange[] = [];
    const over = latestChanges(result.rawChanges);
    if (over) {
      const n = result.rawChanges.length - CHANGES_MAX;
      problems.push(
        `${where}.changes: at most ${CHANGES_MAX} changes (this one has ${count(result.rawChanges.length)}); the ${count(n)} of the earliest dates (${over.from} to ${over.to}) are ignored and the session is kept with the other ${CHANGES_MAX}: take out the changes of dates past`,
      );
    }
    result.rawChanges.forEach((raw, j) => {
      if (over && !over.kept.has(j)) return;
      const change = checkChange(raw, result.session);
      if (typeof change === 'string') problems.push(`${where}.changes[${j}]: ${change}; this change is ignored`);
      else changes.push(change);
    });
    sessions.push({ ...result.session, changes });
  });
  // A bad entry of a session served from another entry of that id is only left out: the session is not held.
  for (const h of held) {
    if (seen.has(h.id)) problems[h.problem] = (problems[h.problem] as string).replace(HELD_AS_WAS, LEFT_OUT).replace(HELD, LEFT_OUT);
  }
  const heldAsWas: string[] = [];
  for (const h of held) {
    if (seen.has(h.id) || !h.asWas) continue;
    seen.add(h.id);
    heldAsWas.push(h.id);
    sessions.push(h.asWas);
  }
  const onHold = [...new Set(held.map((h) => h.id))].filter((x) => !seen.has(x));
  const onHoldCourses: Record<string, string> = {};
  for (const h of held) {
    const course = onHold.includes(h.id) ? heldCourse(file.entries[h.entry], h.id) : undefined;
    if (course) onHoldCourses[h.id] = course;
  }
  return { zone: file.zone, sessions, problems, onHold, onHoldCourses, heldAsWas };
}

/** Past CHANGES_MAX: the places of the changes of the latest dates (as written), and the dates of those ignored. */
function latestChanges(raw: readonly unknown[]): { kept: Set<number>; from: string; to: string } | undefined {
  if (raw.length <= CHANGES_MAX) return undefined;
  const day = (c: unknown) => {
    const d = c && typeof c === 'object' ? (c as Record<string, unknown>).date : undefined;
    return d instanceof Date ? d.toISOString().slice(0, 10) : typeof d === 'string' ? d.trim() : '';
  };
  const order = raw.map((c, j) => ({ j, day: day(c) })).sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.j - b.j));
  const ignored = order.slice(0, raw.length - CHANGES_MAX);
  // An unreadable date sorts first: ignored, and not named as a date.
  const dated = ignored.filter((x) => x.day);
  return { kept: new Set(order.slice(ignored.length).map((x) => x.j)), from: dated[0]?.day ?? '?', to: dated.at(-1)?.day ?? '?' };
}

/** The course a bad entry still names (its `course`, or for training its id, as checkSession has it), if readable. */
function heldCourse(entry: unknown, id: string): string | undefined {
  const e = entry as Record<string, unknown>;
  const course = sessionSchema.shape.course.safeParse(e.course);
  return course.success && course.data ? course.data : e.kind === 'training' ? id : undefined;
}

const LEFT_OUT = 'left out, the rest of the schedule is served';
/**
 * An entry that can't be served but still names its session: a typo while editing it, most likely. Taken as removed,
 * everyone booked on it would be told it is cancelled; so it is held until fixed or taken out: served as it last was
 * (Schedule.heldAsWas), so reminders, cancels and the hosts' agenda go on; or, when this run never had it good (the
 * entry was bad at start), served as the last good entry any instance kept in storage (OfficeHoursService.current),
 * else left out and not taken as removed (Schedule.onHold).
 */
const HELD_AS_WAS =
  'the session is held: served as it last was (its bookings, reminders, agenda and calendar entries go on, and a seat can be cancelled) but not open to new bookings, and nobody is told anything, until the entry is fixed or the session is taken out of the file; the rest of the schedule is served';
const HELD =
  'the session is held: this run of the app has read no good entry for it, so it is served as the app last kept it good (not open to new bookings) or, if none was kept, not shown (no booking, reminder or agenda); its bookings stand and nobody is told it is cancelled until the entry is fixed or the session is taken out of the file; the rest of the schedule is served';

/** `text` cut to `max` UTF-16 units (what the schema counts), ending "…", between whole characters (clip). */
function cutTo(text: string, max: number): string {
  let cut = clip(text, max);
  for (let n = max - 1; cut.length > max && n > 0; n--) cut = clip(text, n);
  return cut;
}

/**
 * The fields of a file entry whose fault leaves the session itself knowable (when it meets, for whom, its seats), set
 * aside so the session is kept: left out, it would read as taken off the schedule, and everyone booked on it would be
 * told it is cancelled (a join link over the limit, say, after an upgrade brought the limit). A join link that is
 * missing, not https or too long is left off (a cut link is a broken one: the cards then show no Join, the reminders
 * no link); a title or topic too long is cut to its limit, a title missing stands as the session's id, a topic not
 * text is left off; hosts past ten, or not readable, are left out. Each is a warning naming the field, its limit and
 * what was kept. The Teams form still refuses these (checkSession), where the person can fix the field at once.
 */
function setAside(entry: unknown): { entry: unknown; warnings: string[] } {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return { entry, warnings: [] };
  const out: Record<string, unknown> = { ...(entry as Record<string, unknown>) };
  const warnings: string[] = [];
  const problem = (schema: z.ZodType, value: unknown) => schema.safeParse(value).error?.issues[0]?.message;
  const link = out.joinUrl === undefined ? 'is missing' : problem(sessionSchema.shape.joinUrl, out.joinUrl);
  if (link) {
    warnings.push(`joinUrl: ${link}; the session is kept without a join link (those booked are shown none until it is fixed)`);
    out.joinUrl = '';
  }
  const text = (field: 'title' | 'topic', max: number, stand: () => string | undefined) => {
    const value = out[field];
    if (value === undefined && field === 'topic') return;
    const why = problem(sessionSchema.shape[field], value);
    if (!why) return;
    const cut = typeof value === 'string' && value.trim().length > max ? cutTo(value.trim(), max) : undefined;
    const kept = cut ?? stand();
    warnings.push(`${field}: ${value === undefined ? 'is missing' : why}; the session is kept ${cut ? `with it cut to ${count(max)} characters` : kept ? `with "${kept}" as its ${field}` : `without a ${field}`}`);
    if (kept) out[field] = kept;
    else delete out[field];
  };
  text('title', TITLE_MAX, () => (typeof out.id === 'string' && out.id.trim() ? out.id.trim() : 'Session'));
  text('topic', TOPIC_MAX, () => undefined);
  if (out.hosts !== undefined) {
    const list = Array.isArray(out.hosts) ? out.hosts : [];
    const readable = list.filter((h) => !problem(person, h));
    const hosts = readable.slice(0, HOSTS_MAX);
    const dropped = list.length - hosts.length;
    if (!Array.isArray(out.hosts) || dropped) {
      const why = !Array.isArray(out.hosts) ? 'is not a list' : readable.length > HOSTS_MAX ? `at most ${HOSTS_MAX} hosts` : `${dropped} host${dropped === 1 ? ' is' : 's are'} not readable (each needs an id and a name, at most 100 and 120 characters)`;
      warnings.push(`hosts: ${why}; the session is kept with ${hosts.length ? `the first ${hosts.length} readable` : 'no hosts'}`);
      out.hosts = hosts;
    }
  }
  return { entry: out, warnings };
}

type Checked =
  | { ok: true; session: Omit<Session, 'changes'> & { changes: [] }; rawChanges: unknown[] }
  | { ok: false; field?: string; message: string };

/** One session entry (from the file or the Teams form) checked and resolved against the rollout. */
export function checkSession(
  entry: unknown,
  defaultZone: string,
  rollout: Pick<Rollout, 'cohorts' | 'groups'>,
  source: Session['source'] = 'file',
): Checked {
  // From the file, a join link left off (setAside) is no link; the form needs one.
  const parsed = (source === 'file' ? fileSessionSchema : sessionSchema).safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, field: issue?.path.join('.'), message: issue?.message ?? 'not readable' };
  }
  const e = parsed.data;
  const cohort = e.cohort ? rollout.cohorts.find((c) => c.id === e.cohort) : undefined;
  if (e.cohort && !cohort) return { ok: false, field: 'cohort', message: `no cohort "${e.cohort}" in the rollout file` };
  if (e.group && !rollout.groups.some((g) => g.id === e.group)) {
    return { ok: false, field: 'group', message: `no user group "${e.group}" in the rollout file` };
  }
  if (e.kind === 'training' && !e.group) return { ok: false, field: 'group', message: 'a training session needs the user group it is for' };
  const spec = parseStart(e.start);
  if (!spec) {
    return { ok: false, field: 'start', message: `"${e.start}" is not a start; write "2026-12-08 14:00" or "golive-14d 09:00"` };
  }
  const zone = e.zone ?? cohort?.zone ?? defaultZone;
  let start: string;
  if (spec.kind === 'local') {
    start = spec.local;
  } else {
    if (!cohort) return { ok: false, field: 'start', message: `"${e.start}" is relative to a go-live: the session needs a cohort` };
    start = `${DateTime.fromISO(cohort.goLive, { zone: 'utc' }).plus({ days: spec.days }).toFormat('yyyy-MM-dd')}T${spec.time}`;
  }
  if (e.rule) {
    const problem = ruleProblem(e.rule, start);
    if (problem) return { ok: false, field: 'rule', message: problem };
  }
  const session: Omit<Session, 'changes'> & { changes: [] } = {
    id: e.id,
    kind: e.kind,
    title: e.title,
    start,
    zone,
    minutes: e.minutes,
    capacity: e.capacity,
    joinUrl: e.joinUrl,
    hosts: e.hosts,
    changes: [],
    source,
  };
  if (e.topic) session.topic = e.topic;
  if (e.rule) session.rule = e.rule;
  if (e.cohort) session.cohort = e.cohort;
  if (e.group) session.group = e.group;
  if (e.kind === 'training') session.course = e.course ?? e.id;
  return { ok: true, session, rawChanges: e.changes };
}

/** A change in the file: which occurrence (its date, and time when needed) and cancel or move. */
function checkChange(raw: unknown, session: Omit<Session, 'changes'>): OccurrenceChange | string {
  const parsed = changeSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `${issue?.path.join('.') || 'change'}: ${issue?.message ?? 'not readable'}`;
  }
  const c = parsed.data;
  const time = c.time ? timeOfDay(c.time) : session.start.slice(11);
  if (!time) return `time: "${c.time}" is not a time; write HH:mm`;
  const key = localDateTime(`${c.date} ${time}`);
  if (!key) return `date: "${c.date}" is not a date; write YYYY-MM-DD`;
  if (!isOccurrenceKey({ ...session, changes: [] }, key)) return `date: there is no session on ${c.date} at ${time}`;
  if (!c.cancel && !c.moveTo) return 'say cancel: true or moveTo: "YYYY-MM-DD HH:mm"';
  const change: OccurrenceChange = { key, version: 1 };
  if (c.cancel) change.cancelled = true;
  if (c.moveTo) {
    const to = localDateTime(c.moveTo);
    if (!to) return `moveTo: "${c.moveTo}" is not a date and time; write YYYY-MM-DD HH:mm`;
    // The limit `office hours move` keeps: further is a mistyped year, and the notice pass looks no further back.
    const latest = lastMoveDay(localToInstant(key, session.zone), session.zone);
    if (to.slice(0, 10) > latest) {
      return `moveTo: "${c.moveTo}" is more than a year past ${c.date}: a session can be moved up to ${latest} at the latest (${MOVE_LIMIT_DAYS} days on)`;
    }
    change.moveTo = to;
  }
  if (c.reason) change.reason = c.reason;
  return change;
}
