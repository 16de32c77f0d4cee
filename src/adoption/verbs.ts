import { z } from 'zod';
import { command, verb } from '../registry/define.js';
import { MAX_CSV_CHARS } from './figures.js';

/**
 * The adoption feature's command and card verbs (see src/registry). Card data is client-written: these
 * schemas bound it; the services check it against the measures and pulses as stored, and the role again.
 */

export const ADOPTION_COMMANDS = {
  adoption: command('adoption', 'adoption.view', 'The measures of success and how the rollout is doing'),
};

const text = (max: number) => z.string().max(max).optional().default('');
const version = z.string().max(40);
const measureFields = {
  id: text(200),
  name: text(1000),
  unit: text(200),
  baselineValue: text(100),
  baselineDate: text(100),
  targetValue: text(100),
  targetBy: text(100),
  source: text(100),
};
const stale = 'This card is out of date; type "adoption" for the current measures.';
const pulseId = z.object({ pulseId: z.string().max(80) });
const answerValue = z.union([z.string().max(4000), z.number()]).optional();
const questionInputs = Object.fromEntries(
  ['q1', 'q2', 'q3'].flatMap((q) => [
    [`${q}Kind`, text(40)],
    [`${q}Text`, text(1000)],
    [`${q}Options`, text(2000)],
  ]),
) as Record<`${'q1' | 'q2' | 'q3'}${'Kind' | 'Text' | 'Options'}`, ReturnType<typeof text>>;

export const ADOPTION_VERBS = {
  // from: the first measure a paged card shows (cards.ts measuresCard); absent on the other cards' Back buttons.
  show: verb('adoption.measures.show', 'adoption.view', z.object({ from: z.coerce.number().int().min(0).max(100).optional() })),
  form: verb('adoption.measures.form', 'adoption.measures', z.object({ id: text(100) }), stale),
  save: verb(
    'adoption.measures.save',
    'adoption.measures',
    z.object({ mode: z.enum(['add', 'update']), version, measureId: text(100), ...measureFields }),
    stale,
  ),
  remove: verb('adoption.measures.remove', 'adoption.measures', z.object({ version, measureId: z.string().max(100) }), stale),
  enterFigure: verb(
    'adoption.figures.enter',
    'adoption.measures',
    z.object({ measure: text(200), date: text(100), value: text(100) }),
    stale,
  ),
  // A little past MAX_CSV_CHARS, so a paste just over it gets the service's "the file has about N figures", not
  // "out of date"; still under the activity's 1 MB body limit, which bounds the rest.
  importFigures: verb('adoption.figures.import', 'adoption.measures', z.object({ csv: text(MAX_CSV_CHARS + 40_000) }), stale),
  importStatus: verb('adoption.figures.importStatus', 'adoption.measures', z.object({ importId: z.string().max(40) }), stale),
  compose: verb('adoption.pulse.compose', 'adoption.pulse.send', z.object({})),
  send: verb(
    'adoption.pulse.send',
    'adoption.pulse.send',
    // draftId: from the compose card (pulse-service send); cards made before it was kept have none.
    z.object({ draftId: z.string().regex(/^\d{4}-\d{2}-\d{2}-[0-9a-f]{16}$/).optional(), title: text(1000), audience: text(120), audienceTyped: text(200), people: text(20_000), ...questionInputs }),
  ),
  answer: verb(
    'adoption.pulse.answer',
    'adoption.pulse.answer',
    pulseId.extend({ q1: answerValue, q2: answerValue, q3: answerValue }),
    'This pulse card is out of date.',
  ),
  change: verb('adoption.pulse.change', 'adoption.pulse.answer', pulseId, 'This pulse card is out of date.'),
  results: verb('adoption.pulse.results', 'adoption.pulse.results', pulseId, 'This card is out of date.'),
};
