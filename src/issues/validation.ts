import { z } from 'zod';
import {
  LIMITS,
  type NewIssue,
  type Reporter,
  SEVERITIES,
} from './model.js';
import { oneLine } from '../text/one-line.js';

/**
 * Validation of everything that arrives from a card or a message. Card data is client-controlled,
 * so the server checks again what the card already checked, and names the field in each message.
 */

export type FieldErrors<K extends string = string> = Partial<Record<K, string>>;
export type Validated<T, K extends string = string> =
  | { ok: true; value: T }
  | { ok: false; errors: FieldErrors<K> };

/**
 * Characters that show nothing: format controls (zero-width space and joiners, direction marks, BOM), spaces of
 * every kind, and the Hangul and Braille blanks. A field of only these is empty to a reader, so it is "required".
 */
const INVISIBLE = /[\p{Cf}\p{Z}\s\u115F\u1160\u3164\uFFA0\u2800]/gu;

function text(label: string, max: number, required: boolean | 'any') {
  const base = z
    // A field the client left out (Teams may send an empty input as no value at all) is missing, not "not text".
    .string({ error: (iss) => (iss.input === undefined ? `${label} is required.` : `${label} must be text.`) })
    .trim()
    .max(max, {
      error: (iss) =>
        // Counted by code point, as zod's max counts (an emoji is one character, not two UTF-16 units).
        `${label} can be at most ${max} characters (this one has ${[...String(iss.input ?? '')].length}).`,
    });
  // 'any': present, whatever it shows (ids and Teams display names are the client's, not typed in a form).
  if (required === 'any') return base.min(1, { error: `${label} is required.` });
  return required
    ? base.refine((s) => s.replace(INVISIBLE, '') !== '', { error: `${label} is required.`, abort: true })
    : base;
}

export type NewIssueField = keyof NewIssue;

/** The schema of each list of categories (the configured one: a single list), built once rather than on every report. */
const newIssueSchemas = new WeakMap<readonly string[], ReturnType<typeof buildNewIssueSchema>>();

function newIssueSchema(categories: readonly string[]) {
  let schema = newIssueSchemas.get(categories);
  if (!schema) newIssueSchemas.set(categories, (schema = buildNewIssueSchema(categories)));
  return schema;
}

function buildNewIssueSchema(categories: readonly string[]) {
  return z.object({
    title: text('Title', LIMITS.title, true).transform(oneLine),
    description: text('What happened', LIMITS.description, true),
    location: text('Where', LIMITS.location, true).transform(oneLine),
    category: z
      .string({ error: 'Category is required.' })
      .trim()
      .min(1, { error: 'Category is required.' })
      .refine((c) => categories.includes(c), { error: `Category must be one of: ${categories.join(', ')}.` }),
    severity: z.enum(SEVERITIES, { error: 'How bad is it? Choose one of the options.' }),
    site: text('Site or department', LIMITS.site, true).transform(oneLine),
    faqQuestion: text('FAQ question', LIMITS.faqQuestion, false)
      .optional()
      .transform((q) => (q ? q : undefined)),
  });
}

/** Turns zod's issues into one message per field (the first one for each). */
function fieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const iss of error.issues) {
    const key = iss.path.length ? String(iss.path[0]) : 'form';
    out[key] ??= iss.message;
  }
  return out;
}

/** Checks a submitted issue form (raw card values); `faqQuestion` empty means none. */
export function validateNewIssue(
  input: unknown,
  categories: readonly string[],
): Validated<NewIssue, NewIssueField | 'form'> {
  const parsed = newIssueSchema(categories).safeParse(input ?? {});
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) };
  const { faqQuestion, ...rest } = parsed.data;
  return { ok: true, value: faqQuestion ? { ...rest, faqQuestion } : rest };
}

const personSchema = z.object({
  id: text('Person id', LIMITS.personId, 'any'),
  name: text('Name', LIMITS.personName, 'any'),
});

export const reporterSchema = personSchema.extend({
  aadObjectId: z.string().max(LIMITS.personId).optional(),
  conversationKey: z.string().max(400).optional(),
});

export function validateReporter(input: unknown): Validated<Reporter> {
  const parsed = reporterSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) };
  const r: Reporter = { id: parsed.data.id, name: parsed.data.name };
  if (parsed.data.aadObjectId) r.aadObjectId = parsed.data.aadObjectId;
  if (parsed.data.conversationKey) r.conversationKey = parsed.data.conversationKey;
  return { ok: true, value: r };
}

export const commentTextSchema = text('Comment', LIMITS.comment, true);
