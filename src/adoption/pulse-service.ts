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
  compareEntries,
  type Pulse,
  type PulseErrors,
  type PulseInput,
  pulseResult,
  type PulseTally,
  pulseTrends,
  type QuestionId,
  respondentKey,
  seriesOf,
  steppedTally,
  tallyOf,
  TEXT_PAGE,
  type TextCursor,
  textCursor,
  type TextEntry,
  textEntries,
  textPage,
} from './pulse.js';
import { retryOnConflict } from '../storage/entities.js';
import { count } from '../text/count.js';
import type { PulseStore, PulseSummary } from './pulse-store.js';

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

/**
 * `unreachable`: how many of the audience have no chat with the bot, so were left out of `userKeys`; `unchecked`: how
 * many were not checked in time and are in `userKeys` all the same (so `unreachable` may be short by up to that many).
 */
export type ResolvedAudience =
  | { ok: true; userKeys: string[]; unreachable?: number; unchecked?: number; label: string }
  | { ok: false; message: string };

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

/** The most people one pulse goes to; the audience check reads no more chats than this. */
export const MAX_AUDIENCE = 20_000;
/** An open pulse nobody looked at is counted again after this long (a look asks for a count at once). */
const RECOUNT_OPEN_MS = 10 * 60_000;
/** Pulses counted in one run of the job: each reads all its answers (ten pages for 10,000). */
const RECOUNTS_PER_RUN = 5;
/** A count this long after the close is final: past a turn's budget and the clocks' drift. */
const FINAL_AFTER_CLOSE_MS = 2 * 60_000;
/**
 * A count asked for (a Refresh press, the dashboard) is made at most this often per pulse: many people pressing
 * Refresh on a big pulse would otherwise each cause a full count (every answer row read).
 */
const RECOUNT_ASKED_MIN_MS = 60_000;
/** A pulse whose count failed goes after the others for this long. */
const RECOUNT_BACKOFF_MS = 10 * 60_000;

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
  /** Pulses whose last count failed, until when they go after the others. */
  private readonly failedUntil = new Map<string, number>();

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
    if (!resolved.userKeys.length) {
      const none = resolved.unreachable ? ` (${resolved.unreachable === 1 ? 'they have' : `all ${count(resolved.unreachable)} have`} no chat with the bot)` : '';
      return { kind: 'invalid', errors: { audience: `Nobody in that audience can be reached by the bot yet${none}.` } };
    }
    if (resolved.userKeys.length > MAX_AUDIENCE) return { kind: 'invalid', errors: { audience: `That is ${resolved.userKeys.length} people; at most ${MAX_AUDIENCE} per pulse.` } };
    const pulse: Pulse = {
      id,
      title: checked.title,
      questions: checked.questions,
      series: seriesOf(checked.questions),
      audience: resolved.label,
      sentTo: resolved.userKeys.length,
      ...(resolved.unreachable ? { unreachable: resolved.unreachable } : {}),
      ...(resolved.unchecked ? { unchecked: resolved.unchecked } : {}),
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
    // Counted already (nobody has answered), so the results card says "0 so far" without waiting for the job. After
    // the sends are queued and only if it can be written: a pulse with no summary is counted by the job anyway.
    await this.d.store
      .saveSummary({ pulseId: pulse.id, asOf: pulse.sentAt, source: 'answers', tally: tallyOf(pulse, []) }, {})
      .catch(() => {});
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
    // Only the person's own row is written: results are counted off the turn (recountDue), no row is shared.
    await this.d.store.saveAnswer(pulse.id, respondent, checked.answers, this.d.clock.now());
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

  /**
   * Champions and the rollout team: one pulse's results, in aggregate, as last counted (`asOf`). Reads the
   * pulse, its summary and a page of each shown free-text question — never its answers — and asks for a fresh
   * count when this one may be behind (the job counts it within a scheduler tick).
   */
  async results(caller: AdoptionCaller, pulseId: string): Promise<PulseResult | undefined> {
    if (!allows(caller.role, 'adoption.pulse.results')) return undefined;
    const pulse = await this.d.store.get(pulseId);
    if (!pulse) return undefined;
    const summary = await this.d.store.summary(pulse.id);
    const result = await this.withFirstTexts(pulse, this.resultOf(pulse, summary));
    if (isFinal(pulse, summary)) return result;
    const now = this.d.clock.now();
    await this.d.store.requestRecount(pulse.id, now);
    // Said as it is: when the last count is under a minute old, the count shown stands until a minute after it.
    const from = askedCountFrom(summary);
    return from > now.getTime() ? { ...result, nextCountAt: new Date(from).toISOString() } : result;
  }

  private resultOf(pulse: Pulse, summary: PulseSummary | undefined): PulseResult {
    const tally = summary?.tally ?? tallyOf(pulse, []);
    return pulseResult(pulse, tally, this.d.minAnswers, summary?.asOf ?? null, summary?.shown ?? tally);
  }

  /** Each shown free-text question's first page of answers (one row each). */
  private async withFirstTexts(pulse: Pulse, r: PulseResult): Promise<PulseResult> {
    const questions = await Promise.all(
      r.questions.map(async (q) => {
        if (q.result?.kind !== 'text' || pulse.keptAnswers) return q;
        const page = await this.d.store.textPage(pulse.id, q.id as QuestionId, 0);
        const more = Math.max(0, (q.shownFrom ?? q.answered) - page.length);
        return { ...q, result: { kind: 'text' as const, answers: page.map((e) => e.text), more, next: more > 0 && page.length ? textCursor(page.at(-1)!) : null } };
      }),
    );
    return { ...r, questions };
  }

  /**
   * The Pulse panel: pulses sent in the range, newest first, and the trend of each series asked again. From the
   * summaries (one query for all) and a page of each shown free-text question of the pulses in the range.
   */
  async pulse(range: DayRange): Promise<PulseMetrics> {
    const [all, summaries] = await Promise.all([this.d.store.all(), this.d.store.summaries()]);
    const results = new Map(all.map((p) => [p.id, this.resultOf(p, summaries.get(p.id))]));
    const inRange = all.filter((p) => p.sentAt.slice(0, 10) >= range.from && p.sentAt.slice(0, 10) <= range.to);
    return { pulses: await Promise.all(inRange.map((p) => this.withFirstTexts(p, results.get(p.id)!))), trends: pulseTrends(all, results) };
  }

  /**
   * Champions and the rollout team: a further page of one free-text question's answers, for the dashboard:
   * those after `after` (the `next` of the page before), in the shown order. The stored pages are searched for
   * where `after` falls (a few rows: halving the pages), so a count made between two pages neither repeats nor
   * skips an answer.
   */
  async texts(caller: AdoptionCaller, pulseId: string, questionId: string, after?: TextCursor): Promise<{ answers: string[]; more: number; next: string | null } | undefined> {
    if (!allows(caller.role, 'adoption.pulse.results')) return undefined;
    const pulse = await this.d.store.get(pulseId);
    if (!pulse) return undefined;
    const q = this.resultOf(pulse, await this.d.store.summary(pulse.id)).questions.find((x) => x.id === questionId);
    if (q?.result?.kind !== 'text') return undefined;
    if (pulse.keptAnswers) return { answers: [], more: 0, next: null };
    const id = q.id as QuestionId;
    // The pages hold the answers as last shown (in steps: pulse.ts steppedTally).
    const shownCount = q.shownFrom ?? q.answered;
    const pages = Math.ceil(shownCount / TEXT_PAGE);
    const read = new Map<number, TextEntry[]>();
    const page = async (n: number) => read.get(n) ?? read.set(n, await this.d.store.textPage(pulse.id, id, n)).get(n)!;
    // The first page whose last answer comes after `after`: the next answers start there.
    let lo = 0;
    if (after) {
      let hi = pages;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const last = (await page(mid)).at(-1);
        if (last && compareEntries(last, after) <= 0) lo = mid + 1;
        else hi = mid;
      }
    }
    const entries = lo < pages ? [...(await page(lo)), ...(lo + 1 < pages ? await page(lo + 1) : [])] : [];
    const got = textPage(entries, after);
    const start = lo * TEXT_PAGE + (entries.length - got.answers.length - got.more);
    const more = Math.max(0, shownCount - start - got.answers.length);
    const last = got.answers.length ? entries[entries.length - got.more - 1] : undefined;
    return { answers: got.answers, more, next: more > 0 && last ? textCursor(last) : null };
  }

  // ---- counting (off the turn) ---------------------------------------------------------------------

  /**
   * The scheduled job (lease-guarded: one instance at a time): counts the pulses whose results may be behind —
   * never counted (sent before summaries: the backfill), asked for by a look or by `forget`, open and last
   * counted a while ago, closed since the last count, or cut by retention since — a few a run. Returns how many
   * it counted.
   */
  async recountDue(): Promise<number> {
    const now = this.d.clock.now();
    const [all, summaries, requests] = await Promise.all([this.d.store.all(), this.d.store.summaries(), this.d.store.recountRequests()]);
    // Those someone is waiting for (a press) first.
    // Those someone is waiting for (a press) first; one whose count failed lately last, so a pulse that cannot be
    // counted (its pages refused, say) never holds up the others.
    const failing = (p: Pulse) => (this.failedUntil.get(p.id) ?? 0) > now.getTime();
    // A request is answered by a count made since it was asked (or at that moment); one older than that count is done.
    const asked = (p: Pulse) => {
      const r = requests.get(p.id);
      const s = summaries.get(p.id);
      return r !== undefined && (!s || !(Date.parse(r.at) < Date.parse(s.asOf)));
    };
    for (const [id, r] of requests) {
      const p = all.find((x) => x.id === id);
      if (p && !asked(p)) await this.d.store.recounted(id, r.etag).catch(() => {});
    }
    // Asked for: counted once the last count is a minute old, however many asked meanwhile.
    const askedNow = (p: Pulse) => asked(p) && now.getTime() >= askedCountFrom(summaries.get(p.id));
    const due = all
      .filter((p) => askedNow(p) || isDue(p, summaries.get(p.id), now))
      .sort((a, b) => Number(failing(a)) - Number(failing(b)) || Number(askedNow(b)) - Number(askedNow(a)))
      .slice(0, RECOUNTS_PER_RUN);
    const failures: unknown[] = [];
    for (const pulse of due) {
      try {
        await this.recount(pulse);
        this.failedUntil.delete(pulse.id);
        const request = requests.get(pulse.id);
        if (request) await this.d.store.recounted(pulse.id, request.etag);
      } catch (err) {
        this.failedUntil.set(pulse.id, now.getTime() + RECOUNT_BACKOFF_MS);
        failures.push(err);
      }
    }
    // Reported once the others are counted (the scheduler logs a job's error).
    if (failures.length) throw new AggregateError(failures, `${failures.length} pulse(s) could not be counted`);
    return due.length;
  }

  /** Counts one pulse's answers (every row: off the turn) into its summary and free-text pages. */
  private async recount(pulse: Pulse): Promise<void> {
    const asOf = this.d.clock.now().toISOString();
    const stepped = async (tally: PulseTally) => steppedTally((await this.d.store.summary(pulse.id))?.shown, tally, this.d.minAnswers);
    if (pulse.keptAnswers) {
      const tally = tallyOf(pulse, pulse.keptAnswers);
      await this.d.store.saveSummary({ pulseId: pulse.id, asOf, source: 'kept', tally, shown: await stepped(tally) }, {});
      return;
    }
    // The pages claimed before the answers are read: a forget that moves an answer meanwhile claims them to re-key
    // them, and this count's pages, from the answers as they were, are not written over its work — it counts again.
    await retryOnConflict(
      async () => {
        const claim = await this.d.store.claimPages(pulse.id);
        const rows = await this.d.store.keyedAnswersTo(pulse);
        const tally = tallyOf(pulse, rows.map((r) => r.answers));
        const shown = await stepped(tally);
        // A free-text question's pages move with its shown counts: those still shown as before keep theirs.
        const texts: Partial<Record<QuestionId, TextEntry[]>> = {};
        const keep: QuestionId[] = [];
        for (const q of pulse.questions) {
          if (q.kind !== 'text') continue;
          if (shown.questions[q.id] === tally.questions[q.id]) texts[q.id] = textEntries(rows, q.id);
          else keep.push(q.id);
        }
        await this.d.store.saveSummary({ pulseId: pulse.id, asOf, source: 'answers', tally, shown }, texts, claim, keep);
      },
      { what: 'Counting a pulse' },
    );
    // Retention may have started while the rows were read: count again from what it kept (its free text gone).
    const now = await this.d.store.get(pulse.id);
    if (now?.keptAnswers) await this.recount(now);
  }
}

/**
 * Counted for good: from what retention kept, or a while after the pulse closed — an answer taken just before the
 * close is written up to a turn later, and instances' clocks differ, so a count right at the close may miss it.
 */
function isFinal(pulse: Pulse, s: PulseSummary | undefined): boolean {
  if (!s) return false;
  return pulse.keptAnswers ? s.source === 'kept' : Date.parse(s.asOf) >= Date.parse(pulse.closesAt) + FINAL_AFTER_CLOSE_MS;
}

/**
 * The earliest a count asked for may be made (ms): a minute after the last count that read answers. One that found
 * none (the empty count made when the pulse is sent) cost nothing and holds nothing back.
 */
function askedCountFrom(s: PulseSummary | undefined): number {
  return s && s.tally.answers > 0 ? Date.parse(s.asOf) + RECOUNT_ASKED_MIN_MS : 0;
}

function isDue(pulse: Pulse, s: PulseSummary | undefined, now: Date): boolean {
  if (!s || (pulse.keptAnswers && s.source !== 'kept')) return true;
  if (isFinal(pulse, s)) return false;
  return now.toISOString() >= pulse.closesAt || now.getTime() - Date.parse(s.asOf) >= RECOUNT_OPEN_MS;
}

/** What was typed on the card, to show it again beside the reason it was not taken. */
function typedAnswers(data: Partial<Record<QuestionId, unknown>>): Answers {
  const out: Answers = {};
  for (const [k, v] of Object.entries(data)) if (typeof v === 'string' || typeof v === 'number') out[k as QuestionId] = v;
  return out;
}
