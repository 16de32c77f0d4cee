import { createHash } from 'node:crypto';
import { type Document, isMap, isSeq, parseDocument, type YAMLSeq } from 'yaml';
import { z } from 'zod';
import { BOT_METRIC_NAMES, BOT_METRICS, type BotMetric } from './bot-metrics.js';
import { FIGURE_BOUND, FIGURE_BOUND_TEXT, readDecimal } from './numbers.js';
import { clip } from '../text/fit.js';

/**
 * The rollout's measures of success (`MEASURES_FILE`, default `sample/measures.yaml`): each with a baseline,
 * a target and the date it is due, and where its figures come from — the IMS (entered by the rollout team)
 * or a metric Rollout Desk computes itself. Plain data and pure functions; the file is read and written by
 * measures-file.ts.
 */

export { BOT_METRIC_NAMES, BOT_METRICS, type BotMetric } from './bot-metrics.js';

export type MeasureSource = { kind: 'ims' } | { kind: 'bot'; metric: BotMetric };

export interface Measure {
  /** Stable key: figures are stored under it. Lower-case letters, digits and dashes. */
  id: string;
  name: string;
  unit: string;
  baseline: { value: number; date: string };
  target: { value: number; by: string };
  source: MeasureSource;
}

export const MEASURE_LIMITS = { id: 40, name: 120, unit: 20, measures: 30 } as const;

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar date written YYYY-MM-DD that exists (2027-02-30 does not). */
export const isoDay = z
  .string({ error: 'must be a date like 2027-03-31' })
  .trim()
  .refine((v) => {
    const d = new Date(`${v}T00:00:00Z`);
    return ISO_DAY.test(v) && !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
  }, 'must be a date like 2027-03-31');

const figure = z.number({ error: 'must be a number' }).finite('must be a number').min(-FIGURE_BOUND).max(FIGURE_BOUND);

export const measureSchema = z.strictObject({
  id: z
    .string({ error: 'must be text' })
    .trim()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes (like report-days)')
    .max(MEASURE_LIMITS.id, `must be at most ${MEASURE_LIMITS.id} characters`),
  name: z
    .string({ error: 'must be text' })
    .trim()
    .min(1, 'must not be empty')
    .max(MEASURE_LIMITS.name, `must be at most ${MEASURE_LIMITS.name} characters`),
  unit: z.string({ error: 'must be text' }).trim().max(MEASURE_LIMITS.unit, `must be at most ${MEASURE_LIMITS.unit} characters`).default(''),
  baseline: z.strictObject({ value: figure, date: isoDay }),
  target: z.strictObject({ value: figure, by: isoDay }),
  source: z
    .string({ error: 'must be "ims" or "bot.<metric>"' })
    .trim()
    .refine(
      (v) => v === 'ims' || (v.startsWith('bot.') && v.slice(4) in BOT_METRICS),
      `must be "ims" or one of ${BOT_METRIC_NAMES.map((m) => `bot.${m}`).join(', ')}`,
    ),
});

const fileSchema = z.strictObject({
  measures: z.array(z.unknown()).max(MEASURE_LIMITS.measures, `must list at most ${MEASURE_LIMITS.measures} measures`).default([]),
});

/** A measures file that can't be used, with the entry at fault named ("measures[2] (report-days).target.by: …"). */
export class MeasuresError extends Error {}

export function sourceOf(text: string): MeasureSource {
  return text === 'ims' ? { kind: 'ims' } : { kind: 'bot', metric: text.slice(4) as BotMetric };
}

export function sourceText(source: MeasureSource): string {
  return source.kind === 'ims' ? 'ims' : `bot.${source.metric}`;
}

/**
 * Whether two measure names read the same to the person typing one: case, spacing and how an accent is encoded
 * ("Café" typed precomposed or as e + a combining accent) aside.
 */
export function sameName(a: string, b: string): boolean {
  const key = (s: string) => s.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
  return key(a) === key(b);
}

/** Whether reaching the target means going down (median days) rather than up (share active). */
export function lowerIsBetter(m: Pick<Measure, 'baseline' | 'target'>): boolean {
  return m.target.value < m.baseline.value;
}

function toMeasure(raw: z.infer<typeof measureSchema>): Measure {
  return {
    id: raw.id,
    name: raw.name,
    unit: raw.unit,
    baseline: { value: raw.baseline.value, date: raw.baseline.date },
    target: { value: raw.target.value, by: raw.target.by },
    source: sourceOf(raw.source),
  };
}

/** Reads and checks a measures file's text; throws a `MeasuresError` naming the file and the bad entry. */
export function parseMeasures(text: string, source = 'measures'): Measure[] {
  let doc: Document;
  try {
    doc = parseDocument(text);
  } catch (error) {
    throw new MeasuresError(`${source}: not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  if (doc.errors.length) throw new MeasuresError(`${source}: not valid YAML (${doc.errors[0]!.message.split('\n')[0]})`);
  const value: unknown = doc.toJS() ?? {};
  const file = fileSchema.safeParse(value);
  if (!file.success) throw new MeasuresError(`${source}: ${describe(value, file.error.issues[0]!)}`);
  const out: Measure[] = [];
  const seen = new Set<string>();
  file.data.measures.forEach((entry, i) => {
    const parsed = measureSchema.safeParse(entry);
    const id = entry && typeof entry === 'object' ? (entry as { id?: unknown }).id : undefined;
    const where = `measures[${i}]${typeof id === 'string' && id ? ` (${id})` : ''}`;
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new MeasuresError(`${source}: ${where}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
    }
    if (seen.has(parsed.data.id)) throw new MeasuresError(`${source}: ${where}.id: "${parsed.data.id}" is used twice`);
    seen.add(parsed.data.id);
    out.push(toMeasure(parsed.data));
  });
  return out;
}

function describe(value: unknown, issue: z.core.$ZodIssue): string {
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : value && typeof value === 'object' ? issue.message : 'the file must hold a "measures:" list';
}

/** A short fingerprint of the file's text: edit cards carry it, so an edit made on a stale card is refused. */
export function versionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

// ---- edits (from Teams) ----------------------------------------------------------------------------

/** What the rollout team sends from the edit card (all text: card inputs are strings). */
export interface MeasureInput {
  id?: string;
  name?: string;
  unit?: string;
  baselineValue?: string;
  baselineDate?: string;
  targetValue?: string;
  targetBy?: string;
  source?: string;
}

export type MeasureEdit =
  | { kind: 'add'; input: MeasureInput }
  | { kind: 'update'; id: string; input: MeasureInput }
  | { kind: 'remove'; id: string };

export type FieldErrors = Partial<Record<keyof MeasureInput | 'form', string>>;

const numberText = (label: string) =>
  z
    .string()
    .trim()
    .min(1, `${label}: enter a number`)
    .transform((v, ctx) => {
      // The figures' reading ("1,234" is 1234; "2,5" is refused, never 25).
      const n = readDecimal(v);
      if (n === undefined) {
        const hint = v.includes(',') ? ' (write decimals with a point, like 2.5)' : '';
        ctx.addIssue({ code: 'custom', message: `${label}: "${clip(v, 20)}" is not a number${hint}` });
        return z.NEVER;
      }
      // The file's own bound (figure, above): a value past it would be written and then fail to read back.
      if (Math.abs(n) > FIGURE_BOUND) {
        ctx.addIssue({ code: 'custom', message: `${label}: "${clip(v, 20)}" ${FIGURE_BOUND_TEXT}` });
        return z.NEVER;
      }
      return n;
    });

/** Checks an edit card's inputs; the messages name the field, as the card shows them. */
export function checkMeasureInput(input: MeasureInput): { ok: true; measure: Measure } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const take = <T>(key: keyof MeasureInput, schema: z.ZodType<T>, value: unknown): T | undefined => {
    const r = schema.safeParse(value ?? '');
    if (!r.success) errors[key] = r.error.issues[0]?.message ?? 'not valid';
    return r.success ? r.data : undefined;
  };
  const id = take('id', measureSchema.shape.id, input.id);
  const name = take('name', measureSchema.shape.name, input.name);
  const unit = take('unit', z.string().trim().max(MEASURE_LIMITS.unit, `at most ${MEASURE_LIMITS.unit} characters`), input.unit);
  const baselineValue = take('baselineValue', numberText('Baseline'), input.baselineValue);
  const baselineDate = take('baselineDate', isoDay, input.baselineDate);
  const targetValue = take('targetValue', numberText('Target'), input.targetValue);
  const targetBy = take('targetBy', isoDay, input.targetBy);
  const source = take('source', measureSchema.shape.source, input.source || 'ims');
  // The target's side of the baseline is what says whether higher or lower is better (lowerIsBetter); level with
  // it, any figure would read as 100 % of the way.
  if (baselineValue !== undefined && targetValue !== undefined && baselineValue === targetValue && !errors.targetValue) {
    errors.targetValue = `Target: must differ from the baseline (${baselineValue}), so it says whether higher or lower is better`;
  }
  // Swapped by mistake, every figure would read as behind (expected 100 % from the first day).
  if (baselineDate && targetBy && targetBy <= baselineDate) errors.targetBy = `must be after the baseline date (${baselineDate})`;
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    measure: {
      id: id!,
      name: name!,
      unit: unit ?? '',
      baseline: { value: baselineValue!, date: baselineDate! },
      target: { value: targetValue!, by: targetBy! },
      source: sourceOf(source!),
    },
  };
}

export function measureInputOf(m: Measure): MeasureInput {
  return {
    id: m.id,
    name: m.name,
    unit: m.unit,
    baselineValue: String(m.baseline.value),
    baselineDate: m.baseline.date,
    targetValue: String(m.target.value),
    targetBy: m.target.by,
    source: sourceText(m.source),
  };
}

function yamlOf(m: Measure): Record<string, unknown> {
  return {
    id: m.id,
    name: m.name,
    unit: m.unit,
    baseline: { value: m.baseline.value, date: m.baseline.date },
    target: { value: m.target.value, by: m.target.by },
    source: sourceText(m.source),
  };
}

export type EditOutcome =
  | { ok: true; text: string; measures: Measure[] }
  | { ok: false; errors: FieldErrors };

/**
 * Applies an edit to the file's text, keeping its comments and layout (the `yaml` document model), and
 * checks the result parses. Pure: the caller writes the text.
 */
export function applyMeasureEdit(text: string, edit: MeasureEdit): EditOutcome {
  const doc = parseDocument(text) as Document;
  const current = parseMeasures(text);
  if (!isMap(doc.contents)) doc.contents = doc.createNode({ measures: [] });
  let list = doc.get('measures');
  if (!isSeq(list)) {
    doc.set('measures', doc.createNode([]));
    list = doc.get('measures');
  }
  const seq = list as YAMLSeq;
  const index = edit.kind === 'add' ? -1 : current.findIndex((m) => m.id === edit.id);
  if (edit.kind !== 'add' && index < 0) return { ok: false, errors: { form: `There is no measure "${edit.id}" any more; it may have been removed.` } };
  if (edit.kind === 'remove') {
    seq.delete(index);
  } else {
    const checked = checkMeasureInput(edit.kind === 'update' ? { ...edit.input, id: edit.id } : edit.input);
    if (!checked.ok) return checked;
    // A figure typed by name must find one measure (figures.ts imsMeasure).
    const clash = current.find((m) => m.id !== checked.measure.id && sameName(m.name, checked.measure.name));
    if (clash) return { ok: false, errors: { name: `another measure (${clash.id}) has this name; choose another` } };
    if (edit.kind === 'add') {
      if (current.some((m) => m.id === checked.measure.id)) return { ok: false, errors: { id: `"${checked.measure.id}" is already a measure; choose another id` } };
      if (current.length >= MEASURE_LIMITS.measures) return { ok: false, errors: { form: `There can be at most ${MEASURE_LIMITS.measures} measures.` } };
      seq.add(doc.createNode(yamlOf(checked.measure), { flow: false }));
    } else {
      // Field by field, so a comment beside an untouched value stays where it was.
      const node = seq.get(index, true);
      if (!isMap(node)) return { ok: false, errors: { form: 'That measure is not written as a list entry; edit the file by hand.' } };
      const next = yamlOf(checked.measure);
      for (const key of ['name', 'unit', 'source'] as const) if (node.get(key) !== next[key]) node.set(key, next[key]);
      for (const key of ['baseline', 'target'] as const) {
        const inner = node.get(key, true);
        const values = next[key] as Record<string, unknown>;
        if (isMap(inner)) for (const [k, v] of Object.entries(values)) inner.set(k, v);
        else node.set(key, doc.createNode(values, { flow: true }));
      }
    }
  }
  const out = doc.toString({ lineWidth: 0 });
  return { ok: true, text: out, measures: parseMeasures(out) };
}
