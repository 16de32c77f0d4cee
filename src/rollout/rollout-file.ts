import { DateTime, IANAZone } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describePath, WatchedFile, type WatchedFileOptions } from '../files/watched.js';
import { EMPTY_ROLLOUT, type Rollout } from './model.js';

/**
 * `ROLLOUT_FILE` (default `sample/rollout.yaml`): the rollout's people, user groups and cohorts. Checked on
 * load (the entry and field at fault named), re-read on change; a bad edit keeps the last good model.
 */

const slug = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1–40 lower-case letters, digits and dashes');
const personId = z.string().trim().min(1, 'must not be empty').max(200);
const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

const date = z.union([z.string(), z.date()]).transform((value, ctx) => {
  // An unquoted YAML date arrives as a Date at midnight UTC.
  const s = value instanceof Date ? value.toISOString().slice(0, 10) : value.trim();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || !DateTime.fromISO(s).isValid) {
    ctx.addIssue({ code: 'custom', message: 'must be a date written YYYY-MM-DD' });
    return z.NEVER;
  }
  return s;
});

export const timeZoneSchema = z
  .string()
  .trim()
  .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone such as Africa/Nairobi');

const schema = z.strictObject({
  people: z.array(z.strictObject({ id: personId, name: text(120) })).max(50_000).default([]),
  groups: z
    .array(
      z.strictObject({
        id: slug,
        name: text(80),
        description: z.string().trim().max(300).default(''),
        members: z.array(personId).max(50_000).default([]),
      }),
    )
    .max(200)
    .default([]),
  cohorts: z
    .array(
      z.strictObject({
        id: slug,
        name: text(120),
        goLive: date,
        timeZone: timeZoneSchema,
        users: z.array(personId).max(50_000).default([]),
        teams: z.array(text(300)).max(100).default([]),
      }),
    )
    .max(200)
    .default([]),
});

export class RolloutFileError extends Error {}

export function parseRollout(textIn: string, source = 'rollout file'): Rollout {
  let value: unknown;
  try {
    value = parseYaml(textIn) ?? {};
  } catch (error) {
    throw new RolloutFileError(`${source}: not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RolloutFileError(`${source}: ${describePath(value, issue.path)}: ${issue.message}`);
  }
  for (const list of ['groups', 'cohorts'] as const) {
    const seen = new Set<string>();
    for (const [i, entry] of parsed.data[list].entries()) {
      if (seen.has(entry.id)) throw new RolloutFileError(`${source}: ${list}[${i}] (${entry.id}).id: used twice`);
      seen.add(entry.id);
    }
  }
  return parsed.data;
}

export function openRolloutFile(
  file: string,
  hooks: Pick<WatchedFileOptions<Rollout>, 'onChange' | 'onInvalid' | 'pollMs'> = {},
): Promise<WatchedFile<Rollout>> {
  return WatchedFile.open(file, { parse: parseRollout, missing: () => EMPTY_ROLLOUT, ...hooks });
}
