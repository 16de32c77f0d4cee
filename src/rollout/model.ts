import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { parseYamlFile } from '../files/yaml.js';

/**
 * The rollout's people model, shared by every feature that speaks to part of the organisation (the
 * communication plan's audiences, office hours and training, adoption measures):
 * - a **cohort** is a wave of the rollout: a named set of people with its own go-live date and time zone
 *   ("Wave B: Sefara, Lumbe, Dhoro — go-live 2027-02-01, Africa/Lusaka"); a person is in at most one;
 * - a **user group** is people who do the same tasks in the new system (field officers, supervisors…);
 *   a person may be in several.
 * It comes from the rollout file (`ROLLOUT_FILE`) plus the people the rollout team adds from Teams.
 */

export interface Cohort {
  id: string;
  name: string;
  /** The day the cohort starts using the system, `YYYY-MM-DD` in its own zone. */
  goLive: string;
  /** IANA time zone the cohort works in, e.g. `Africa/Nairobi`. */
  zone: string;
}

export interface UserGroup {
  id: string;
  name: string;
  description?: string;
}

/** A person as the rollout file lists them: Entra object id, name, user groups, cohort. */
export interface RolloutMember {
  id: string;
  name: string;
  groups: string[];
  cohort?: string;
}

export interface Rollout {
  cohorts: Cohort[];
  groups: UserGroup[];
  members: RolloutMember[];
  /** Entries that could not be used, each naming the entry and the field ("cohorts[2] (wave-b).zone: …"). */
  problems: string[];
}

export const EMPTY_ROLLOUT: Rollout = { cohorts: [], groups: [], members: [], problems: [] };

/** A file that can't be read at all (not YAML, not the expected shape); single bad entries are `problems`. */
export { SettingsFileError as RolloutFileError } from '../files/yaml.js';

const id = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1–40 lower-case letters, digits or dashes (e.g. wave-b)');
const name = z.string().trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters');

export const zoneSchema = z
  .string()
  .trim()
  .refine((zone) => IANAZone.isValidZone(zone), {
    error: (iss) => `"${String(iss.input)}" is not a time zone; use an IANA name such as Africa/Nairobi`,
  });

export const dateSchema = z
  .string({ error: 'must be a date YYYY-MM-DD' })
  .trim()
  .refine((d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && DateTime.fromISO(d).isValid, {
    error: (iss) => `"${String(iss.input)}" is not a date; write YYYY-MM-DD`,
  });

const cohortSchema = z.strictObject({ id, name, goLive: dateSchema, zone: zoneSchema });
const groupSchema = z.strictObject({ id, name, description: z.string().trim().max(300).optional() });
const memberSchema = z.strictObject({
  id: z.string().trim().min(1, 'must not be empty').max(100),
  name,
  groups: z.array(id).max(20).default([]),
  cohort: id.optional(),
});

/**
 * The most people a rollout file may list: what its size limit (ROLLOUT_MAX_BYTES, 3 MB) holds at about 125
 * bytes a person written one line each as the sample does. More short lines would fit in 3 MB, but a count
 * past what the limit was sized for is refused too, so the two say the same.
 */
export const ROLLOUT_MAX_PEOPLE = 25_000;

const fileSchema = z.strictObject({
  cohorts: z.array(z.unknown()).max(200).default([]),
  groups: z.array(z.unknown()).max(200).default([]),
  members: z
    .array(z.unknown())
    .max(ROLLOUT_MAX_PEOPLE, {
      error: (iss) =>
        `lists ${(iss.input as unknown[]).length.toLocaleString('en')} people; a rollout file may list at most ${ROLLOUT_MAX_PEOPLE.toLocaleString('en')} (what fits in its 3 MB)`,
    })
    .default([]),
});

/**
 * Reads a rollout file. Each entry is checked on its own: a bad one is left out and named in `problems`
 * (with its id when it has one), the rest is used. Members naming an unknown group or cohort keep the rest
 * of their memberships.
 */
export function parseRollout(text: string, source = 'rollout file'): Rollout {
  const file = { data: parseYamlFile(text, source, fileSchema) };
  const problems: string[] = [];
  const cohorts = entries('cohorts', file.data.cohorts, cohortSchema, problems, source);
  const groups = entries('groups', file.data.groups, groupSchema, problems, source);
  const cohortIds = new Set(cohorts.map((c) => c.id));
  const groupIds = new Set(groups.map((g) => g.id));
  const members: RolloutMember[] = [];
  for (const [i, m] of entries('members', file.data.members, memberSchema, problems, source, 'name').entries()) {
    const where = `${source}: members[${i}] (${m.name})`;
    const unknown = m.groups.filter((g) => !groupIds.has(g));
    if (unknown.length) problems.push(`${where}.groups: no user group "${unknown.join('", "')}"`);
    const member: RolloutMember = { id: m.id, name: m.name, groups: m.groups.filter((g) => groupIds.has(g)) };
    if (m.cohort && !cohortIds.has(m.cohort)) problems.push(`${where}.cohort: no cohort "${m.cohort}"`);
    else if (m.cohort) member.cohort = m.cohort;
    members.push(member);
  }
  return { cohorts, groups, members, problems };
}

/** The valid entries of one list; each bad one named in `problems`. Ids must be unique. */
function entries<T extends { id: string }>(
  list: string,
  raw: unknown[],
  schema: z.ZodType<T>,
  problems: string[],
  source: string,
  label: 'id' | 'name' = 'id',
): T[] {
  const out: T[] = [];
  const seen = new Set<string>();
  raw.forEach((item, i) => {
    const known = item && typeof item === 'object' ? (item as Record<string, unknown>)[label] : undefined;
    const where = `${source}: ${list}[${i}]${typeof known === 'string' ? ` (${known})` : ''}`;
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      problems.push(`${where}${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'not readable'}`);
      return;
    }
    if (seen.has(parsed.data.id)) {
      problems.push(`${where}: the id "${parsed.data.id}" is used twice; the first one is kept`);
      return;
    }
    seen.add(parsed.data.id);
    out.push(parsed.data);
  });
  return out;
}
