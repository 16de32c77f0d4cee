import { createHash, randomBytes } from 'node:crypto';
import type { AdaptiveCard } from '../cards/template.js';
import { audienceFromTyped } from '../broadcast/audience.js';
import type { Clock } from '../clock.js';
import type { OutboundMessage, Outbox } from '../outbound/message.js';
import { allows } from '../roles/permissions.js';
import type { Person, Role } from '../roles/roles.js';
import type { DayRange, PulseMetrics, PulseProvider, PulseResult } from './metrics.js';
import {
  type Answers,
  checkAnswers,
  checkPulseInput,
  firstTextPages,
  type Pulse,
  type PulseErrors,
  type PulseInput,
  pulseResult,
  pulseTrends,
  type QuestionId,
  respondentKey,
  seriesOf,
  type TextCursor,
  type TextEntry,
  textEntries,
  textPage,
} from './pulse.js';
import type { PulseStore } from './pulse-store.js';

/** Who is acting: their stored identity (`id` is also the key of their 1:1 chat) and their role. */
export interface AdoptionCaller {
  person: Person;
  role: Role;
}

/** Who a pulse goes to, as the rollout team chose it. */
export type PulseAudience =
  | { kind: 'everyone' }
  | { kind: 'champions' }
  | { kind: 'rolloutTeam' }
  | { kind: 'people'; keys: string[] }
  /** A user group or a cohort of the rollout's people model (src/rollout). */
  | { kind: 'group'; groupId: string }
  | { kind: 'cohort'; cohortId: string };

export type ResolvedAudience = { ok: true; userKeys: string[]; label: string } | { ok: false; message: string };

/**
 * Turns an audience into the user keys of the people to send to: the communication plan's audience rules
 * (audience.ts), so a pulse reaches the same people an announcement to that audience would.
 */
export type AudienceResolver = (audience: PulseAudience) => Promise<ResolvedAudience>;

export interface PulseServiceDeps {
  store: PulseStore;
  outbox: Outbox;
  resolveAudience: AudienceResolver;
  clock: Clock;
  /** Results are shown only from this many answers (PULSE_MIN_ANSWERS, default 5). */
  minAnswers: number;
  /** Answers are taken for this many days after sending. */
  openDays: number;
  /** The card each recipient gets (adoption/cards.ts), and the answered view of it. */
  questionCard: (pulse: Pulse, answers?: Answers, notice?: string) => AdaptiveCard;
}

export type SendOutcome =
  | { kind: 'invalid'; errors: PulseErrors }
  /** `again`: this compose card was sent already; nothing more was sent. */
  | { kind: 'sent'; pulse: Pulse; again?: boolean };

export type AnswerOutcome =
  | { kind: 'message'; text: string }
  /** The form again, with what was typed and why it was not taken. */
  | { kind: 'form'; pulse: Pulse; answers: Answers; notice: string }
  | { kind: 'answered'; pulse: Pulse; answers: Answers; replaced: boolean }
  /** Closed: no form any more, only the person's recorded answer (if they gave one). */
  | { kind: 'closed'; pulse: Pulse; answers?: Answers };

const MAX_AUDIENCE = 20_000;
const RESULTS_CACHE_MS = 30_000;

/** A pulse's results, and each shown free-text question's answers in the dashboard's order (see textEntries). */
interface Results {
  at: number;
  result: PulseResult;
  texts: Partial<Record<QuestionId, TextEntry[]>>;
}

const ID_LIST = /[\s,;]+/;

/**
 * The compose card's audience choice and its list of ids → an audience, or what is wrong. "typed": a user group
 * or cohort the card could not list, by the id or name typed, among those `known`.
 */
export function audienceOf(
  choice: string | undefined,
  people: string | undefined,
  typed?: string,
  known?: { groups: readonly { id: string; name: string }[]; cohorts: readonly { id: string; name: string }[] },
): PulseAudience | { error: string } {
  switch ((choice ?? '').trim()) {
    case 'typed': {
      if (!(typed ?? '').trim()) return { error: 'Type the id (or the name) of the user group or cohort.' };
      // As the announce form reads it (a "group:" or "cohort:" prefix too).
      const audience = known && audienceFromTyped(typed ?? '', known);
      if (audience?.kind === 'group' || audience?.kind === 'cohort') return audience;
      return { error: `There is no user group or cohort "${(typed ?? '').trim().slice(0, 100)}" in the rollout file. Type its id (or its name).` };
    }
    case 'everyone':
      return { kind: 'everyone' };
    case 'champions':
      return { kind: 'champions' };
    case 'rolloutTeam':
      return { kind: 'rolloutTeam' };
    case 'people': {
      const keys = [...new Set((people ?? '').split(ID_LIST).map((k) => k.trim()).filter(Boolean))];
      if (!keys.length) return { error: 'List the people (their Entra object ids), separated by commas.' };
      if (keys.some((k) => k.length > 200)) return { error: 'An id in the list is too long to be an Entra object id.' };
      return { kind: 'people', keys };
    }
    default: {
      // A user group or cohort from the compose card's choices ("group:field-officers"); the resolver checks it exists.
      const m = /^(group|cohort):([\w.-]{1,100})$/.exec((choice ?? '').trim());
      if (m?.[1] === 'group') return { kind: 'group', groupId: m[2]! };
      if (m?.[1] === 'cohort') return { kind: 'cohort', cohortId: m[2]! };
      return { error: 'Choose who the pulse goes to.' };
    }
  }
}

export class PulseService implements PulseProvider {
  private readonly cache = new Map<string, Results>();

  constructor(private readonly d: PulseServiceDeps) {}

  get minAnswers(): number {
    return this.d.minAnswers;
  }

  /** A compose card's draft id: the day it was made and a random part (see send). */
  newDraft(): string {
    return `${this.d.clock.now().toISOString().slice(0, 10)}-${randomBytes(8).toString('hex')}`;
  }

  /**
   * Rollout team: create a pulse and send it to each person in the audience, 1:1. The pulse's id comes from
   * the compose card's draft id, so the same card sent twice (a double click: two invokes, two activity ids)
   * is one pulse, sent once.
   */
  async send(caller: AdoptionCaller, input: PulseInput, audience: PulseAudience | { error: string }, draftId?: string): Promise<SendOutcome> {
    if (!allows(caller.role, 'adoption.pulse.send')) return { kind: 'invalid', errors: { form: 'Sending a pulse is for the rollout team.' } };
    const now = this.d.clock.now();
    const id = draftId
      ? `p-${draftId.slice(0, 10)}-${createHash('sha256').update(`${draftId}|${caller.person.id}`).digest('hex').slice(0, 8)}`
      : `p-${now.toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
    if (draftId) {
      const sent = await this.d.store.get(id);
      if (sent) return { kind: 'sent', pulse: sent, again: true };
    }
    const checked = checkPulseInput(input);
    const errors: PulseErrors = checked.ok ? {} : { ...checked.errors };
    if ('error' in audience) errors.audience = audience.error;
    if (!checked.ok || 'error' in audience) return { kind: 'invalid', errors };
    const resolved = await this.d.resolveAudience(audience);
    if (!resolved.ok) return { kind: 'invalid', errors: { audience: resolved.message } };
    if (!resolved.userKeys.length) return { kind: 'invalid', errors: { audience: 'Nobody in that audience can be reached by the bot yet.' } };
    if (resolved.userKeys.length > MAX_AUDIENCE) return { kind: 'invalid', errors: { audience: `That is ${resolved.userKeys.length} people; at most ${MAX_AUDIENCE} per pulse.` } };
    const pulse: Pulse = {
      id,
      title: checked.title,
      questions: checked.questions,
      series: seriesOf(checked.questions),
      audience: resolved.label,
      sentTo: resolved.userKeys.length,
      createdBy: caller.person.name,
      createdById: caller.person.id,
      sentAt: now.toISOString(),
      closesAt: new Date(now.getTime() + this.d.openDays * 86_400_000).toISOString(),
      salt: randomBytes(16).toString('hex'),
    };
    if (!(await this.d.store.create(pulse, resolved.userKeys.map((k) => respondentKey(pulse, k))))) {
      const sent = await this.d.store.get(id);
      if (sent) return { kind: 'sent', pulse: sent, again: true };
    }
    const card = this.d.questionCard(pulse);
    await this.d.outbox.enqueue(
      resolved.userKeys.map((userKey): OutboundMessage => ({
        op: 'send',
        key: `pulse|${pulse.id}|${userKey}`,
        to: { kind: 'user', userKey },
        content: card,
      })),
    );
    return { kind: 'sent', pulse };
  }

  /** A recipient's answer; a second one replaces the first. Only those it was sent to may answer. */
  async answer(caller: AdoptionCaller, pulseId: string, data: Partial<Record<QuestionId, unknown>>): Promise<AnswerOutcome> {
    const found = await this.findOwn(caller, pulseId);
    if ('text' in found) return { kind: 'message', text: found.text };
    const { pulse, respondent } = found;
    if (this.closed(pulse)) return { kind: 'closed', pulse, answers: await this.d.store.answerOf(pulse.id, respondent) };
    const checked = checkAnswers(pulse, data);
    if (!checked.ok) return { kind: 'form', pulse, answers: typedAnswers(data), notice: checked.message };
    const earlier = await this.d.store.answerOf(pulse.id, respondent);
    await this.d.store.saveAnswer(pulse.id, respondent, checked.answers, this.d.clock.now());
    this.cache.delete(pulse.id);
    return { kind: 'answered', pulse, answers: checked.answers, replaced: earlier !== undefined };
  }

  /** "Change my answer": the form again with the person's own answer filled in. */
  async answerForm(caller: AdoptionCaller, pulseId: string): Promise<AnswerOutcome> {
    const found = await this.findOwn(caller, pulseId);
    if ('text' in found) return { kind: 'message', text: found.text };
    const answers = await this.d.store.answerOf(found.pulse.id, found.respondent);
    if (this.closed(found.pulse)) return { kind: 'closed', pulse: found.pulse, answers };
    return { kind: 'form', pulse: found.pulse, answers: answers ?? {}, notice: '' };
  }

  private closed(pulse: Pulse): boolean {
    return this.d.clock.now().toISOString() >= pulse.closesAt;
  }

  private async findOwn(caller: AdoptionCaller, pulseId: string): Promise<{ pulse: Pulse; respondent: string } | { text: string }> {
    const pulse = await this.d.store.get(pulseId);
    const notYours = { text: 'This pulse was not sent to you.' };
    if (!pulse) return notYours;
    const respondent = respondentKey(pulse, caller.person.id);
    if (!(await this.d.store.wasSentTo(pulse.id, respondent))) return notYours;
    return { pulse, respondent };
  }

  /** Champions and the rollout team: one pulse's results, in aggregate. */
  async results(caller: AdoptionCaller, pulseId: string): Promise<PulseResult | undefined> {
    return (await this.shownResults(caller, pulseId))?.result;
  }

  private async shownResults(caller: AdoptionCaller, pulseId: string): Promise<Results | undefined> {
    if (!allows(caller.role, 'adoption.pulse.results')) return undefined;
    const pulse = await this.d.store.get(pulseId);
    return pulse ? this.resultOf(pulse) : undefined;
  }

  private async resultOf(pulse: Pulse): Promise<Results> {
    const hit = this.cache.get(pulse.id);
    const now = Date.now();
    if (hit && now - hit.at < RESULTS_CACHE_MS) return hit;
    const rows = await this.d.store.keyedAnswersTo(pulse);
    const result = pulseResult(pulse, rows.map((r) => r.answers), this.d.minAnswers);
    // The dashboard's order of each free-text question that may be shown (none below the minimum).
    const texts: Results['texts'] = {};
    for (const q of result.questions) if (q.result?.kind === 'text' && q.result.answers.length) texts[q.id as QuestionId] = textEntries(rows, q.id as QuestionId);
    const entry = { at: now, result, texts };
    this.cache.set(pulse.id, entry);
    return entry;
  }

  /** The Pulse panel: pulses sent in the range, newest first, and the trend of each series asked again. */
  async pulse(range: DayRange): Promise<PulseMetrics> {
    const all = await this.d.store.all();
    const inRange = all.filter((p) => p.sentAt.slice(0, 10) >= range.from && p.sentAt.slice(0, 10) <= range.to);
    const results = new Map<string, Results>();
    for (const p of all) results.set(p.id, await this.resultOf(p));
    const shown = new Map([...results].map(([id, r]) => [id, r.result]));
    return { pulses: inRange.map((p) => firstTextPages(results.get(p.id)!.result, results.get(p.id)!.texts)), trends: pulseTrends(all, shown) };
  }

  /**
   * Champions and the rollout team: a further page of one free-text question's answers, for the dashboard:
   * those after `after` (the `next` of the page before), in the shown order.
   */
  async texts(caller: AdoptionCaller, pulseId: string, questionId: string, after?: TextCursor): Promise<{ answers: string[]; more: number; next: string | null } | undefined> {
    const shown = await this.shownResults(caller, pulseId);
    const q = shown?.result.questions.find((x) => x.id === questionId);
    return q?.result?.kind === 'text' ? textPage(shown!.texts[q.id as QuestionId] ?? [], after) : undefined;
  }
}

/** What was typed on the card, to show it again beside the reason it was not taken. */
function typedAnswers(data: Partial<Record<QuestionId, unknown>>): Answers {
  const out: Answers = {};
  for (const [k, v] of Object.entries(data)) if (typeof v === 'string' || typeof v === 'number') out[k as QuestionId] = v;
  return out;
}
