import { mapLimit } from '../map-limit.js';
import { isPseudonym } from '../privacy/pseudonym.js';
import type { Actor } from '../roles/roles.js';
import {
  type CuratedActor,
  type CuratedAnswer,
  type CuratedInput,
  type CuratedResult,
  type CuratedStore,
  checkInput,
  curatedSection,
  exportMarkdown,
  mayCurate,
  TELL_WITHIN_DAYS,
} from './curated.js';
import type { GuidanceSection } from './docs/types.js';
import { findGapGroup, groupGaps, questionTerms, similarity, withCardKeys } from './gaps.js';
import type { QuestionStore } from './questions.js';

/** Someone to tell, 1:1, that their question now has a champion's answer. */
export interface Recipient {
  asker: Actor;
  /** Their own wording, shown above the answer. */
  question: string;
  questionId: string;
}

export interface CuratedOutcome {
  result: CuratedResult;
  /** Who must be told now: of a new answer (each claimed once across instances), or of a changed one. */
  tell: Recipient[];
}

/**
 * Champions' curated answers: the operations the Teams layer calls (answer, edit, retire, list,
 * export, who must be told), each taking plain values and the role the server looked up. Keeps
 * the active answers as sections for the engine, and calls `onChange` so the index is rebuilt.
 */
export class CuratedAnswers {
  private sections: GuidanceSection[] = [];
  private byId = new Map<string, CuratedAnswer>();
  private signature: string | undefined;
  private guidanceSeen: GuidanceSection[] | undefined;

  constructor(
    private readonly store: CuratedStore,
    private readonly questions: QuestionStore,
    private readonly guidance: () => GuidanceSection[],
    private readonly onChange: () => void = () => {},
  ) {}

  /** The active answers as engine sections (what the index is built with, next to the guidance). */
  engineSections(): GuidanceSection[] {
    return this.sections;
  }

  /** Any answer by id, active or retired (to edit it). */
  get(id: string): Promise<CuratedAnswer | undefined> {
    return this.store.get(id);
  }

  /** An active answer by id (to render a curated hit). */
  activeAnswer(id: string): CuratedAnswer | undefined {
    return this.byId.get(id);
  }

  /** Reloads the active answers from the store (at start, and after any change by any instance). */
  async refresh(): Promise<void> {
    const active = await this.store.active();
    const guidance = this.guidance();
    // Unchanged since the last look (the usual case on a timer): no index rebuild. The author is part of it:
    // `forget` anonymises an author without a new version, and a cached name would go on being cited. So is the
    // guidance (a reload replaces its list): an answer pointing at a section takes that section's text.
    const signature = active.map((a) => `${a.id}:${a.version}:${a.author.id}`).sort().join(',');
    if (signature === this.signature && guidance === this.guidanceSeen) return;
    this.signature = signature;
    this.guidanceSeen = guidance;
    const sections = new Map(guidance.map((s) => [s.id, s]));
    // An answer pointing at a section the guidance no longer has would be given as an empty answer: left out
    // until a champion points it elsewhere (the `curated` list and the export still show it).
    const usable = active.filter((a) => !a.sectionId || sections.has(a.sectionId));
    this.byId = new Map(usable.map((a) => [a.id, a]));
    this.sections = usable.map((a) => curatedSection(a, a.sectionId ? sections.get(a.sectionId) : undefined));
    this.onChange();
  }

  /**
   * A champion answers a gap (an unanswered or "not helpful" question, or a whole group of them):
   * stores the answer and returns who must be told.
   */
  async answerFromChampion(by: CuratedActor, input: CuratedInput): Promise<CuratedOutcome> {
    if (!mayCurate(by.role)) return { result: forbidden(), tell: [] };
    const problem = checkInput(input, (id) => this.guidance().some((s) => s.id === id));
    if (problem) return { result: { ok: false, reason: 'invalid', message: problem }, tell: [] };
    const id = this.store.newId();
    // One answer per gap: a second champion (or a second click) is shown the answer already given.
    const holder = input.groupId ? await this.store.claimGroup(input.groupId, id) : undefined;
    if (holder) {
      const current = await this.store.get(holder);
      const who = current?.author.name ?? 'Another champion';
      return {
        result: {
          ok: false,
          reason: 'conflict',
          message: `${who} already answered this question. Type "curated" to see or edit the answer.`,
          ...(current ? { current } : {}),
        },
        tell: [],
      };
    }
    let answer: CuratedAnswer;
    try {
      answer = await this.store.create(
        {
          ...input,
          question: input.question.trim(),
          variants: [...new Set((input.variants ?? []).map((v) => v.trim()).filter((v) => v && v !== input.question.trim()))],
        },
        by.actor,
        id,
      );
    } catch (err) {
      if (input.groupId) await this.store.releaseGroup(input.groupId, id).catch(() => {});
      throw err;
    }
    await this.refresh();
    return { result: { ok: true, answer }, tell: await this.whoMustBeTold(answer) };
  }

  /**
   * A champion changes an answer's text or section; `tell` is everyone already sent the earlier text (a
   * correction matters most to whoever acted on the old one), empty when the text and section stay the same.
   */
  async edit(
    by: CuratedActor,
    id: string,
    version: number,
    change: Pick<CuratedInput, 'answer' | 'sectionId'>,
  ): Promise<CuratedOutcome> {
    const refused = (result: Extract<CuratedResult, { ok: false }>): CuratedOutcome => ({ result, tell: [] });
    if (!mayCurate(by.role)) return refused(forbidden());
    const current = await this.store.get(id);
    if (!current) return refused({ ok: false, reason: 'not-found', message: 'That curated answer no longer exists.' });
    // Editing would not bring it back: saying "saved" would tell the champion the bot gives it.
    if (current.status === 'retired') {
      return refused({ ok: false, reason: 'invalid', message: 'This answer was retired, so the bot no longer gives it. Answer the question afresh from "gaps".' });
    }
    const problem = checkInput({ question: current.question, ...change }, (sid) =>
      this.guidance().some((s) => s.id === sid),
    );
    if (problem) return refused({ ok: false, reason: 'invalid', message: problem });
    const result = await this.store.update(id, version, change);
    if (!result.ok) return refused(result);
    await this.refresh();
    const changed = current.answer !== result.answer.answer || current.sectionId !== result.answer.sectionId;
    return { result, tell: changed ? await this.whoWasTold(result.answer) : [] };
  }

  async retire(by: CuratedActor, id: string, version: number): Promise<CuratedResult> {
    if (!mayCurate(by.role)) return forbidden();
    const result = await this.store.update(id, version, { status: 'retired' });
    if (!result.ok) return result;
    // The gap may be answered afresh.
    if (result.answer.groupId) await this.store.releaseGroup(result.answer.groupId, id);
    await this.refresh();
    return result;
  }

  /** The `curated` list, a page at a time (champions and the rollout team). */
  async list(
    by: CuratedActor,
    options: { status?: 'active' | 'retired'; next?: string; size?: number } = {},
  ): Promise<{ ok: true; items: CuratedAnswer[]; next?: string } | Extract<CuratedResult, { ok: false }>> {
    if (!mayCurate(by.role)) return forbidden();
    return { ok: true, ...(await this.store.page(options)) };
  }

  /** Active answers as markdown ready to paste into the guidance (the rollout team only). */
  async export(by: CuratedActor): Promise<{ ok: true; markdown: string; answers: number } | Extract<CuratedResult, { ok: false }>> {
    if (by.role !== 'rolloutTeam') {
      return { ok: false, reason: 'forbidden', message: 'Only the rollout team can export curated answers.' };
    }
    const sections = new Map(this.guidance().map((s) => [s.id, s]));
    const active = await this.store.active();
    return { ok: true, markdown: exportMarkdown(active, (id) => sections.get(id)?.markdown), answers: active.length };
  }

  /**
   * The askers of this question and of the same question in other words, in the last 30 days,
   * who have not been told yet: its own wording and variants are grouped with the recent gaps
   * by the same rule as the champions' `gaps` list. Each person is claimed once per answer
   * (across instances); give a claim back with `notSent` when the 1:1 fails.
   */
  async whoMustBeTold(answer: CuratedAnswer): Promise<Recipient[]> {
    const [recent, claims] = await Promise.all([this.questions.recent(TELL_WITHIN_DAYS), this.questions.gapClaims(TELL_WITHIN_DAYS)]);
    const wordings = [answer.question, ...answer.variants].map(questionTerms);
    // Grouped once, not once per question: a month of open questions made that minutes of CPU in a turn.
    const inGroup = new Set(
      answer.groupId === undefined ? [] : (findGapGroup(withCardKeys(groupGaps(recent), claims), answer.groupId)?.questionIds ?? []),
    );
    const same = recent.filter(
      (q) => inGroup.has(q.id) || wordings.some((terms) => similarity(terms, questionTerms(q.question)) >= SAME_QUESTION),
    );
    const candidates: { key: string; told: Recipient }[] = [];
    const seen = new Set<string>();
    // Oldest first: whoever waited longest is told first.
    for (const q of same.sort((a, b) => a.askedAt.localeCompare(b.askedAt))) {
      const key = q.asker.aadObjectId ?? q.asker.id;
      if (seen.has(key) || isPseudonym(key)) continue; // a forgotten asker is told nothing
      seen.add(key);
      candidates.push({ key, told: { asker: q.asker, question: q.question, questionId: q.id } });
    }
    // One storage write per asker, inside the champion's turn: a gap hundreds asked must not take them one by one.
    const claimed = await mapLimit(candidates, CLAIMS_AT_ONCE, (c) => this.store.claimNotice(answer.id, c.key, c.told));
    return candidates.filter((_, i) => claimed[i]).map((c) => c.told);
  }

  /**
   * Everyone already told of `answer` (to send them its corrected text after an edit), each under their own
   * wording where it was kept; a record from before wordings were kept gets the answer's own question. A
   * forgotten person has no record left (`FaqPersonalData.forget` deletes them).
   */
  private async whoWasTold(answer: CuratedAnswer): Promise<Recipient[]> {
    const rows = await this.store.toldOf(answer.id, MAX_RETOLD);
    return rows.map((r) => r.told ?? { asker: { id: r.userKey, name: '' }, question: answer.question, questionId: '' });
  }

  /** The 1:1 to `recipient` could not be sent: a later run may try again. */
  notSent(answer: CuratedAnswer, recipient: Recipient): Promise<void> {
    return this.store.releaseNotice(answer.id, recipient.asker.aadObjectId ?? recipient.asker.id);
  }
}

/** Askers claimed at once when an answer is written (each claim is one table write). */
const CLAIMS_AT_ONCE = 16;

/** At most this many people hear of one edit (askers within 30 days: far fewer in practice). */
const MAX_RETOLD = 1000;

/** Two wordings count as the same question at this share of shared content words (as in `gaps`). */
const SAME_QUESTION = 0.5;

function forbidden(): Extract<CuratedResult, { ok: false }> {
  return { ok: false, reason: 'forbidden', message: 'Only champions and the rollout team can curate answers.' };
}
