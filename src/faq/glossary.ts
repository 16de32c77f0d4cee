import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describePath } from '../files/yaml.js';
import { parseInWorker, workerParser } from '../files/parse-in-worker.js';
import { WatchedFile, type WatchedFileOptions } from '../files/watched-file.js';

/**
 * The organisation's own words (`GLOSSARY_FILE`): the system's nickname, form codes, local terms and
 * abbreviations, each with what it means in the guidance's words. They feed the FAQ engine's
 * synonyms as exact equivalents; the general-English groups stay in `engine/synonyms.ts`.
 */
export interface Glossary {
  /** Groups of words and phrases that mean the same thing here. */
  groups: string[][];
}

export const EMPTY_GLOSSARY: Glossary = { groups: [] };

// A comma separates group members in the engine's synonym lists, so it can't be part of one.
const phrase = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(80, 'must be at most 80 characters')
  .refine((value) => !value.includes(','), 'must not contain a comma (one word or phrase per entry)');

const schema = z.strictObject({
  system: z
    .strictObject({
      name: phrase,
      nicknames: z.array(phrase).max(20).default([]),
    })
    .optional(),
  terms: z
    .array(
      z.strictObject({
        term: phrase,
        means: z.array(phrase).min(1, 'must list at least one meaning').max(20),
      }),
    )
    .max(2000)
    .default([]),
});

/** A glossary that can't be used, with the entry at fault named ("terms[3] (K-05).means: …"). */
export class GlossaryError extends Error {}

/** The longest a reason from the schema is quoted in the error. */
const MAX_MESSAGE = 200;

/** Reads and checks a glossary; throws a `GlossaryError` naming the file and the bad entry. */
export function parseGlossary(text: string, source = 'glossary'): Glossary {
  let value: unknown;
  try {
    value = parseYaml(text) ?? {};
  } catch (error) {
    throw new GlossaryError(`${source}: not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // Zod lists every unknown key: another YAML file given by mistake would make a message of tens of KB.
    const said = issue.message.length > MAX_MESSAGE ? `${issue.message.slice(0, MAX_MESSAGE)}…` : issue.message;
    throw new GlossaryError(`${source}: ${describePath(value, issue.path, 'term')}: ${said}`);
  }
  const groups: string[][] = [];
  const { system, terms } = parsed.data;
  if (system && system.nicknames.length > 0) groups.push([system.name, ...system.nicknames]);
  for (const entry of terms) groups.push([entry.term, ...entry.means]);
  return { groups };
}


export type GlossaryFileOptions = Omit<WatchedFileOptions<Glossary>, 'parse' | 'missing' | 'maxBytes' | 'tooLarge'>;

/** Far more than 2,000 terms of a few words each; reading YAML takes about a second per 300 KB. */
const GLOSSARY_MAX_BYTES = 256 * 1024;

const PARSE_GLOSSARY = workerParser(import.meta.url, './glossary', 'parseGlossary');

/**
 * A glossary file kept current without a restart (read in a worker thread: YAML takes a second per 300 KB), like the guidance folder (src/files/watched-file.ts:
 * fs.watch on its folder plus a stat poll, debounced). A missing file is an empty glossary; a bad edit
 * keeps the glossary in use and is reported with the entry at fault; a bad file at start throws.
 */
export const GlossaryFile = {
  open(file: string, options: GlossaryFileOptions = {}): Promise<WatchedFile<Glossary>> {
    return WatchedFile.open(file, {
      ...options,
      parse: (text, source) => parseInWorker<Glossary>(PARSE_GLOSSARY, text, source),
      missing: EMPTY_GLOSSARY,
      maxBytes: GLOSSARY_MAX_BYTES,
    });
  },
};
