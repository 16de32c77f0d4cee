import { type AdaptiveCard, CARD_BUDGET_BYTES, escapeText, renderCard, utf16Bytes } from '../cards/template.js';
import { largestFitting } from '../text/fit.js';
import type { Holding } from './personal-data.js';
import type { ForgetOutcome, ForgetPlan } from './service.js';

/** One line of a count per kind. */
interface HoldingLine {
  count: string;
  label: string;
}

/** Data for cards/privacy-forget-pick.json. */
export interface ForgetPickData {
  /** Why the last pick was not taken; '' for none. */
  error: string;
  /** What was picked and typed, shown again. */
  person: string;
  personKey: string;
  /** The people the app knows, for clients without Teams' people picker. */
  people: { id: string; name: string }[];
  /** "Not everyone is listed here: …" when not all of them fit in one Teams message; '' otherwise. */
  peopleNote: string;
}

/** Data for cards/privacy-forget-confirm.json. */
export interface ForgetConfirmData {
  /** The person's name, escaped for the TextBlock; `nameData` as it goes back in the button's data. */
  name: string;
  nameData: string;
  /** Their keys, comma-separated, and the token that confirms forgetting exactly them. */
  keys: string;
  token: string;
  holdings: HoldingLine[];
  notes: string[];
}

/** Data for cards/privacy-forget-progress.json. */
export interface ForgetProgressData {
  name: string;
  done: string;
  total: string;
  /** What the parts done so far removed or anonymised. */
  holdings: HoldingLine[];
}

/** Data for cards/privacy-my-data-progress.json. */
export interface MyDataProgressData {
  done: string;
  total: string;
}

/** Data for cards/privacy-forget-done.json. */
export interface ForgetDoneData {
  name: string;
  summary: string;
  holdings: HoldingLine[];
  notes: string[];
}

const lines = (holdings: readonly Holding[]): HoldingLine[] => holdings.map((h) => ({ count: String(h.count), label: h.label }));

/** What a card may weigh: Teams' limit less room for the activity around it. */

/**
 * The pick card, listing the known people as far as the card stays under Teams' limit (names are kept as Teams gave
 * them, up to 200 characters): the card says when some are left out, who are found by the picker's search or their id.
 */
export function forgetPickCard(people: ForgetPickData['people'], shown: Partial<Omit<ForgetPickData, 'people' | 'peopleNote'>> = {}): AdaptiveCard {
  const card = (n: number) =>
    renderCard<ForgetPickData>('privacy-forget-pick', {
      error: '',
      person: '',
      personKey: '',
      ...shown,
      people: people.slice(0, n),
      peopleNote: n < people.length ? 'Not everyone is listed here: search by name, or type their Entra object id below.' : '',
    });
  const all = card(people.length);
  return utf16Bytes(all) <= CARD_BUDGET_BYTES ? all : card(largestFitting(people.length - 1, (n) => utf16Bytes(card(n)) <= CARD_BUDGET_BYTES));
}

export function forgetConfirmCard(plan: ForgetPlan): AdaptiveCard {
  return renderCard<ForgetConfirmData>('privacy-forget-confirm', {
    name: escapeText(plan.name),
    nameData: plan.name,
    keys: plan.subject.ids.join(','),
    token: plan.token,
    holdings: lines(plan.holdings),
    notes: plan.notes,
  });
}

export function forgetDoneCard(done: Extract<ForgetOutcome, { kind: 'done' }>): AdaptiveCard {
  return renderCard<ForgetDoneData>('privacy-forget-done', {
    name: escapeText(done.name),
    summary: done.holdings.length
      ? `Where the organisation keeps a record (issues, questions, bookings) they now appear as ${done.pseudonym.name}; the rest is deleted. Running forget again changes nothing.`
      : 'Rollout Desk held nothing (more) about them.',
    holdings: lines(done.holdings),
    notes: done.notes,
  });
}

/** A forget under way in the background: how many of its parts are done, and what they did. */
export function forgetProgressCard(p: { name: string; done: number; total: number; holdings: readonly Holding[] }): AdaptiveCard {
  return renderCard<ForgetProgressData>('privacy-forget-progress', {
    name: escapeText(p.name),
    done: String(p.done),
    total: String(p.total),
    holdings: lines(p.holdings),
  });
}

/** A `my data` file being made: how many of the features' parts are read. */
export function myDataProgressCard(p: { done: number; total: number }): AdaptiveCard {
  return renderCard<MyDataProgressData>('privacy-my-data-progress', { done: String(p.done), total: String(p.total) });
}

/** What the `my data` card ends as when a fault stopped the file: nothing was made, and what to do. */
export const MY_DATA_FAILED_TEXT =
  'I could not gather your data: storage did not answer while I was reading it, and no file was made. Type "my data" again in a few minutes. If it keeps failing, tell the rollout team.';

/** What a forget stopped by a fault says: what was done, where it stopped, and that pressing Forget again finishes it. */
export function forgetStoppedText(stopped: Pick<Extract<ForgetOutcome, { kind: 'stopped' }>, 'name' | 'holdings' | 'stoppedAt'>): string {
  const done = stopped.holdings.map((h) => `${h.count} ${h.label}`).join('; ');
  return (
    `Forgetting ${stopped.name} stopped part-way (storage did not answer, at ${stopped.stoppedAt}). ` +
    // The feature it stopped in may have done some of its part: never say nothing changed.
    `${done ? `Done so far: ${done}; ` : ''}${stopped.stoppedAt} may be partly done. Press Forget again to finish it: what is done is not done twice.`
  );
}

export function forgetCancelledCard(): AdaptiveCard {
  return renderCard('privacy-forget-cancelled', {});
}
