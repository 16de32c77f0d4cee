import { createHash } from 'node:crypto';
import { count, people } from '../text/count.js';
import type { ChoiceResult, PulseQuestionResult, PulseResult, PulseTrend, ScaleResult, TextResult } from './metrics.js';

/**
 * Pulse surveys' rules, over plain data: what a pulse may ask (1–3 questions: a 1–5 scale, a choice, a free
 * text), what an answer must be, and what the results may show — only totals, and nothing at all below a
 * minimum number of answers, so nobody can be picked out; free text without names and not in the order it
 * came. Pulses that ask the same questions form a series, whose results over time are the trend.
 */

export const QUESTION_KINDS = ['scale', 'choice', 'text'] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];
export const QUESTION_IDS = ['q1', 'q2', 'q3'] as const;
export type QuestionId = (typeof QUESTION_IDS)[number];

export type PulseQuestion =
  | { id: QuestionId; kind: 'scale'; text: string }
  | { id: QuestionId; kind: 'choice'; text: string; options: string[] }
  | { id: QuestionId; kind: 'text'; text: string };

export interface Pulse {
  id: string;
  title: string;
  questions: PulseQuestion[];
  /** The same questions → the same series (see seriesOf). */
  series: string;
  /** What the audience was, as the rollout team chose it ("Everyone who uses the bot"). */
  audience: string;
  /** How many it was sent to: those of the audience with a chat with the bot. */
  sentTo: number;
  /** How many of the audience it could not be sent to: no chat with the bot (absent: none, or sent before it was kept). */
  unreachable?: number;
  /**
   * How many of the audience were sent it without their chat being checked (not read within the sender's turn):
   * `sentTo` and `unreachable` are then approximate; those with no chat are left unreached by the outbound path.
   */
  unchecked?: number;
  createdBy: string;
  /** The sender's user key (for `my data` and `forget`; pulses sent before it was kept have none). */
  createdById?: string;
  sentAt: string;
  closesAt: string;
  /** Mixed into respondent keys, so the stored key of an answer says nothing about who gave it. */
  salt: string;
  /**
   * Set by retention once the answer rows are deleted: the scale and choice answers, kept without any key so
   * results and trends stay; free text goes.
   */
  keptAnswers?: Answers[];
}

/** One person's answer: by question id, a scale 1–5, a choice's index, or text. */
export type Answers = Partial<Record<QuestionId, number | string>>;

export const PULSE_LIMITS = { title: 80, question: 200, option: 40, options: 6, text: 500 } as const;

/** What the rollout team typed in the compose card (all text). */
export type PulseInput = {
  title?: string;
} & Partial<Record<`${QuestionId}Kind` | `${QuestionId}Text` | `${QuestionId}Options`, string>>;

export type PulseErrors = Partial<Record<keyof PulseInput | 'form' | 'audience', string>>;

/** The questions the compose card describes, or what is wrong with each field. */
export function checkPulseInput(input: PulseInput): { ok: true; title: string; questions: PulseQuestion[] } | { ok: false; errors: PulseErrors } {
  const errors: PulseErrors = {};
  const title = (input.title ?? '').trim();
  if (!title) errors.title = 'Give the pulse a title.';
  else if (title.length > PULSE_LIMITS.title) errors.title = `The title is ${title.length} characters; at most ${PULSE_LIMITS.title}.`;
  const questions: PulseQuestion[] = [];
  for (const id of QUESTION_IDS) {
    const kind = (input[`${id}Kind`] ?? '').trim();
    const text = (input[`${id}Text`] ?? '').trim();
    if (!kind && !text) continue;
    if (!QUESTION_KINDS.includes(kind as QuestionKind)) {
      errors[`${id}Kind`] = 'Choose a 1–5 scale, a choice or a free text.';
      continue;
    }
    if (!text) {
      errors[`${id}Text`] = 'Write the question.';
      continue;
    }
    if (text.length > PULSE_LIMITS.question) {
      errors[`${id}Text`] = `The question is ${text.length} characters; at most ${PULSE_LIMITS.question}.`;
      continue;
    }
    if (kind === 'choice') {
      const options = (input[`${id}Options`] ?? '')
        .split(/\r?\n|;/)
        .map((o) => o.trim())
        .filter(Boolean);
      // Options that read the same to the person answering (case, spacing, an accent encoded either way) are one.
      const unique = new Set(options.map((o) => o.normalize('NFC').replace(/\s+/g, ' ').toLowerCase()));
      if (options.length < 2 || options.length > PULSE_LIMITS.options) errors[`${id}Options`] = `Give 2 to ${PULSE_LIMITS.options} options, one per line.`;
      else if (unique.size !== options.length) errors[`${id}Options`] = 'Each option must be different.';
      else if (options.some((o) => o.length > PULSE_LIMITS.option)) errors[`${id}Options`] = `Each option at most ${PULSE_LIMITS.option} characters.`;
      else questions.push({ id, kind, text, options });
    } else {
      questions.push({ id, kind: kind as 'scale' | 'text', text });
    }
  }
  if (!questions.length && !Object.keys(errors).length) errors.form = 'Ask at least one question.';
  if (Object.keys(errors).length) return { ok: false, errors };
  // Renumbered, so a pulse asking only its second slot still has q1.
  return { ok: true, title, questions: questions.map((q, i) => ({ ...q, id: QUESTION_IDS[i]! })) };
}

/** The series a pulse belongs to: its questions' kinds, words and options, normalised. */
export function seriesOf(questions: readonly PulseQuestion[]): string {
  const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
  const key = questions.map((q) => [q.kind, norm(q.text), ...(q.kind === 'choice' ? q.options.map(norm) : [])].join('|')).join('||');
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/**
 * The stored key of a person's answer: one per person per pulse, and not their id. From the user key in lower
 * case: Entra object ids compare without case (the plan's audience rules lower-case them).
 */
export function respondentKey(pulse: Pick<Pulse, 'salt'>, userKey: string): string {
  return createHash('sha256').update(`${pulse.salt}|${userKey.toLowerCase()}`).digest('hex').slice(0, 32);
}

/** A submitted card → the answers, or why not. Card data is client-written: checked against the pulse. */
export function checkAnswers(pulse: Pulse, data: Partial<Record<QuestionId, unknown>>): { ok: true; answers: Answers } | { ok: false; message: string } {
  const answers: Answers = {};
  for (const q of pulse.questions) {
    const raw = data[q.id];
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    if (!text) continue;
    if (q.kind === 'scale') {
      if (!/^[1-5]$/.test(text)) return { ok: false, message: `"${q.text}": choose 1 to 5.` };
      answers[q.id] = Number(text);
    } else if (q.kind === 'choice') {
      const index = /^\d+$/.test(text) ? Number(text) : -1;
      if (index < 0 || index >= q.options.length) return { ok: false, message: `"${q.text}": choose one of the options.` };
      answers[q.id] = index;
    } else {
      if (text.length > PULSE_LIMITS.text) return { ok: false, message: `Your answer to "${q.text}" is ${text.length} characters; at most ${PULSE_LIMITS.text}.` };
      answers[q.id] = text;
    }
  }
  if (!Object.keys(answers).length) return { ok: false, message: 'Answer at least one question, then press Send.' };
  return { ok: true, answers };
}

/** How an answer reads back on the card ("4 of 5", the option's words, the text). */
export function answerLabel(q: PulseQuestion, value: number | string | undefined): string {
  if (value === undefined) return '(not answered)';
  if (q.kind === 'scale') return `${value} of 5`;
  if (q.kind === 'choice') return q.options[Number(value)] ?? '(not answered)';
  return String(value);
}

/**
 * What the sender is told once a pulse is sent (`again`: the same compose card sent twice): how many it went to and,
 * apart, how many of the audience it could not reach — only those with a chat with the bot can be sent a pulse.
 */
export function sentNotice(pulse: Pick<Pulse, 'sentTo' | 'unreachable' | 'unchecked' | 'audience'>, again = false): string {
  const about = pulse.unchecked ? 'about ' : '';
  const to = `${about}${people(pulse.sentTo)} (${pulse.audience})`;
  const missed = pulse.unreachable ? `; ${about}${count(pulse.unreachable)} could not be reached (no chat with the bot)` : '';
  // Chats not checked in time: those people were sent it anyway, and any with no chat simply are not reached.
  const approx = pulse.unchecked
    ? ` These counts are approximate: ${count(pulse.unchecked)} of the audience could not be checked for a chat with the bot in time.`
    : '';
  return again ? `This pulse was already sent to ${to}${missed}; it was not sent again.${approx}` : `Sent to ${to}${missed}.${approx}`;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * A pulse's answers counted: how many people answered, and per question how many answered it and (a scale, a
 * choice) how many gave each value — 1..5, or each option. What a summary row keeps (pulse-store.ts), so results
 * are shown without reading the answers.
 */
export interface PulseTally {
  answers: number;
  questions: Partial<Record<QuestionId, { answered: number; counts: number[] }>>;
}

/** Counts answers as they are stored (one per person: the latest). */
export function tallyOf(pulse: Pick<Pulse, 'questions'>, answers: readonly Answers[]): PulseTally {
  const questions: PulseTally['questions'] = {};
  for (const q of pulse.questions) {
    const counts = q.kind === 'scale' ? [0, 0, 0, 0, 0] : q.kind === 'choice' ? q.options.map(() => 0) : [];
    let answered = 0;
    for (const a of answers) {
      const v = a[q.id];
      if (v === undefined) continue;
      answered++;
      const i = q.kind === 'scale' ? Number(v) - 1 : Number(v);
      if (q.kind !== 'text' && Number.isInteger(i) && i >= 0 && i < counts.length) counts[i]!++;
    }
    questions[q.id] = { answered, counts };
  }
  return { answers: answers.length, questions };
}

/**
 * What results show of a tally, in steps: a question's counts (and free text) as last shown are kept until at least
 * `minAnswers` more people have answered it since, then jump to the tally now. Shown one answer at a time, someone
 * watching the results past the minimum would read each new answer (or changed one) off the change in the counts —
 * and may know who answered last. So a change shown always mixes at least `minAnswers` answers, as the first showing
 * does. A question never shown (below the minimum) is shown once it reaches it. `shown`: the stepped tally as last
 * saved (undefined: none yet — a pulse counted before this rule shows its tally as it stands, once).
 */
export function steppedTally(shown: PulseTally | undefined, now: PulseTally, minAnswers: number): PulseTally {
  const step = (before: number | undefined, after: number) => before === undefined || before < minAnswers || after >= before + minAnswers;
  const questions: PulseTally['questions'] = {};
  for (const [id, q] of Object.entries(now.questions) as [QuestionId, { answered: number; counts: number[] }][]) {
    const was = shown?.questions[id];
    questions[id] = was && !step(was.answered, q.answered) ? was : q;
  }
  return { answers: now.answers, questions };
}

/**
 * Results in aggregate; below `minAnswers` the pulse says how many have answered and nothing more. The same
 * holds per question: one that fewer people answered (they may leave a question out) shows only its count, or
 * two people answering one question of a pulse of five could be told apart by those who know who skipped it.
 * `asOf`: when the tally was counted (null: not yet — nothing is shown). A free-text question that may be shown
 * comes without its answers: the caller adds a page of them (see textPage).
 */
export function pulseResult(pulse: Pulse, tally: PulseTally, minAnswers: number, asOf: string | null, shownTally: PulseTally = tally): PulseResult {
  const shown = asOf !== null && tally.answers >= minAnswers;
  return {
    id: pulse.id,
    title: pulse.title,
    sentAt: pulse.sentAt,
    closesAt: pulse.closesAt,
    sentTo: pulse.sentTo,
    ...(pulse.unreachable ? { unreachable: pulse.unreachable } : {}),
    answers: tally.answers,
    minAnswers,
    shown,
    asOf,
    questions: pulse.questions.map((q): PulseQuestionResult => {
      const t = tally.questions[q.id] ?? { answered: 0, counts: [] };
      // The counts shown, in steps of `minAnswers` answers (steppedTally): `shownFrom` says how many they count.
      const s = shownTally.questions[q.id] ?? t;
      const behind = s.answered !== t.answered || s.counts.some((c, i) => c !== t.counts[i]);
      const base = { id: q.id, text: q.text, answered: t.answered, ...(behind && s.answered >= minAnswers ? { shownFrom: s.answered } : {}) };
      // Retention deleted the free text (`keptAnswers`): nothing to show, and no count that would read as "too few".
      if (q.kind === 'text' && pulse.keptAnswers) return { ...base, result: shown ? { kind: 'text', answers: [], more: 0, next: null } : null };
      return { ...base, result: shown && s.answered >= minAnswers ? questionResult(q, s.counts) : null };
    }),
  };
}

function questionResult(q: PulseQuestion, counts: readonly number[]): ScaleResult | ChoiceResult | TextResult {
  if (q.kind === 'scale') {
    const n = counts.reduce((s, c) => s + c, 0);
    return { kind: 'scale', counts: [...counts], mean: n ? round2(counts.reduce((s, c, i) => s + c * (i + 1), 0) / n) : 0 };
  }
  if (q.kind === 'choice') return { kind: 'choice', options: q.options.map((label, i) => ({ label, count: counts[i] ?? 0 })) };
  return { kind: 'text', answers: [], more: 0, next: null };
}

/** Free-text answers the dashboard gets at once: thousands of them, or one huge one, must not bloat the tab. */
export const TEXT_PAGE = 50;

/** One answer cut to the answer limit (rows stored before it was checked may be longer), whole characters only. */
function clipAnswer(text: string): string {
  if (text.length <= PULSE_LIMITS.text) return text;
  return `${Array.from(text.slice(0, PULSE_LIMITS.text)).slice(0, PULSE_LIMITS.text - 1).join('')}…`;
}

/**
 * One free-text answer as the dashboard pages it: the text shown (cut to the limit) and a key that orders
 * equal texts. The key is derived from the respondent key and the question, so the same person's answers to
 * two questions carry different keys: a page's position never ties two answers to one person.
 */
export interface TextEntry {
  text: string;
  key: string;
}

/** Where the next page starts: just after this answer in the shown order (see textPage). */
export type TextCursor = TextEntry;

/** The key a free-text answer is shown under: derived from the respondent key and the question, not the respondent key. */
export function textKey(respondent: string, questionId: QuestionId): string {
  return createHash('sha256').update(`${respondent}|${questionId}`).digest('hex').slice(0, 16);
}

/** A free-text question's answers in the order the dashboard shows them: by text, equal texts by key. */
export function textEntries(rows: readonly { respondent: string; answers: Answers }[], questionId: QuestionId): TextEntry[] {
  const out: TextEntry[] = [];
  for (const r of rows) {
    const v = r.answers[questionId];
    if (v === undefined) continue;
    out.push({ text: clipAnswer(String(v)), key: textKey(r.respondent, questionId) });
  }
  return out.sort(compareEntries);
}

/** The shown order, total: words as a reader sorts them, then code points, then the key. */
export function compareEntries(a: TextEntry, b: TextEntry): number {
  const byCode = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return a.text.localeCompare(b.text) || byCode(a.text, b.text) || byCode(a.key, b.key);
}

/**
 * A page of a free-text question's answers after `after` (from the start without), how many come after it,
 * and the cursor of its last answer. Paging from the last answer shown rather than by position: an answer
 * that comes in, or is changed, between two pages moves no other answer onto or off the next page.
 */
export function textPage(entries: readonly TextEntry[], after?: TextCursor, size = TEXT_PAGE): { answers: string[]; more: number; next: string | null } {
  let start = 0;
  if (after) {
    let hi = entries.length;
    while (start < hi) {
      const mid = (start + hi) >> 1;
      if (compareEntries(entries[mid]!, after) <= 0) start = mid + 1;
      else hi = mid;
    }
  }
  const page = entries.slice(start, start + size);
  const more = entries.length - start - page.length;
  const last = page.at(-1);
  return { answers: page.map((e) => e.text), more, next: more > 0 && last ? textCursor(last) : null };
}

/** An answer → the cursor the dashboard sends back for the page after it (opaque: base64url of JSON). */
export function textCursor(e: TextEntry): string {
  return Buffer.from(JSON.stringify([e.text, e.key]), 'utf8').toString('base64url');
}

/** A cursor from the dashboard → where to page from, or undefined when it is not one textCursor made. */
export function readTextCursor(cursor: string): TextCursor | undefined {
  if (cursor.length > TEXT_CURSOR_MAX || !/^[\w-]*$/.test(cursor)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2) return undefined;
    const [text, key] = v as unknown[];
    if (typeof text !== 'string' || typeof key !== 'string' || Array.from(text).length > PULSE_LIMITS.text || !/^[0-9a-f]{16}$/.test(key)) return undefined;
    return { text, key };
  } catch {
    return undefined;
  }
}

/** A cursor's longest: a whole answer of 4-byte characters, its key and JSON, in base64. */
export const TEXT_CURSOR_MAX = Math.ceil(((PULSE_LIMITS.text * 4 + 64) * 4) / 3);

/** Trends of every series asked more than once, from the results that reached the minimum, oldest first. */
export function pulseTrends(pulses: readonly Pulse[], results: ReadonlyMap<string, PulseResult>): PulseTrend[] {
  const bySeries = new Map<string, Pulse[]>();
  for (const p of pulses) bySeries.set(p.series, [...(bySeries.get(p.series) ?? []), p]);
  const out: PulseTrend[] = [];
  for (const [series, list] of bySeries) {
    if (list.length < 2) continue;
    const ordered = [...list].sort((a, b) => a.sentAt.localeCompare(b.sentAt));
    for (const q of ordered[0]!.questions) {
      if (q.kind === 'text') continue;
      const points: PulseTrend['points'] = [];
      for (const p of ordered) {
        const r = results.get(p.id);
        const qr = r?.shown ? r.questions.find((x) => x.id === q.id)?.result : null;
        if (!r || !qr) continue;
        if (qr.kind === 'scale') points.push({ pulseId: p.id, sentAt: p.sentAt, answers: r.answers, mean: qr.mean });
        if (qr.kind === 'choice') {
          const n = qr.options.reduce((s, o) => s + o.count, 0);
          points.push({
            pulseId: p.id,
            sentAt: p.sentAt,
            answers: r.answers,
            shares: Object.fromEntries(qr.options.map((o) => [o.label, n ? Math.round((100 * o.count) / n) : 0])),
          });
        }
      }
      out.push({ series, question: q.text, kind: q.kind, points });
    }
  }
  return out;
}
