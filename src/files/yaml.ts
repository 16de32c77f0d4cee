import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

/** A settings file that can't be used at all (not YAML, or not the expected shape), naming the file. */
export class SettingsFileError extends Error {}

/**
 * A YAML settings file's top level, checked against `schema`: its entries stay `unknown` here so that each
 * can be checked on its own (one bad entry is named and left out, the rest used).
 */
export function parseYamlFile<T>(text: string, source: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new SettingsFileError(`${source}: not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SettingsFileError(`${source}: ${issue?.path.join('.') || 'the file'}: ${issue?.message ?? 'not readable'}`);
  }
  return parsed.data;
}
