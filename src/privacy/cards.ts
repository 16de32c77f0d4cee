import { type AdaptiveCard, escapeText, renderCard } from '../cards/template.js';
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

/** Data for cards/privacy-forget-done.json. */
export interface ForgetDoneData {
  name: string;
  summary: string;
  holdings: HoldingLine[];
  notes: string[];
}

const lines = (holdings: readonly Holding[]): HoldingLine[] => holdings.map((h) => ({ count: String(h.count), label: h.label }));

export function forgetPickCard(people: ForgetPickData['people'], shown: Partial<Omit<ForgetPickData, 'people'>> = {}): AdaptiveCard {
  return renderCard<ForgetPickData>('privacy-forget-pick', { error: '', person: '', personKey: '', ...shown, people });
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

export function forgetCancelledCard(): AdaptiveCard {
  return renderCard('privacy-forget-cancelled', {});
}
