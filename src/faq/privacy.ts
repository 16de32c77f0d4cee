import { holdings, isSubject, type PersonalData, type Pseudonym, type Subject, type Tally } from '../privacy/personal-data.js';
import type { Outbox } from '../outbound/message.js';
import { curatedFormCard } from './cards.js';
import type { CuratedAnswer, CuratedStore } from './curated.js';
import { renamedGapCardMessages } from './notices.js';
import type { PersonsRows, QuestionPrivacy } from './questions.js';

interface Gathered {
  rows: PersonsRows;
  authored: CuratedAnswer[];
  told: { id: string; key: string }[];
}

/** Answers read at once when checking who was told of them. */
const PARALLEL = 16;

/**
 * What the FAQ holds about a person: the questions they asked (kept for the guidance's gaps, the asker
 * replaced by their pseudonym), their helpful / not-helpful votes (deleted; the counts stay, they name no
 * one), the champions' answers they wrote (kept, the author anonymised) and the record that they were told
 * of an answer (deleted). A question whose message they deleted in Teams (withdrawn, kept for an undelete) is
 * deleted. Retention deletes questions, with their votes, and those records, older than the period.
 */
export class FaqPersonalData implements PersonalData {
  readonly feature = 'faq';

  constructor(
    private readonly questions: QuestionPrivacy,
    private readonly curated: CuratedStore,
    private readonly hooks: {
      /** Reloads this instance's answers after an author is anonymised (others do on their timer). */
      refresh?: () => Promise<void>;
      /** Redraws the triage channel's gap cards that name a forgotten author. */
      outbox?: Pick<Outbox, 'enqueue'>;
    } = {},
  ) {}

  private async told(subject: Subject, answers: CuratedAnswer[]): Promise<{ id: string; key: string }[]> {
    const pairs = answers.flatMap((a) => subject.ids.map((key) => ({ id: a.id, key })));
    const out: { id: string; key: string }[] = [];
    for (let i = 0; i < pairs.length; i += PARALLEL) {
      const batch = pairs.slice(i, i + PARALLEL);
      const seen = await Promise.all(batch.map((p) => this.curated.wasTold(p.id, p.key)));
      out.push(...batch.filter((_, j) => seen[j]));
    }
    return out;
  }

  /** Everything the FAQ holds about the person, found once. */
  private async gather(subject: Subject): Promise<Gathered> {
    const [rows, answers] = await Promise.all([this.questions.rowsOf(subject.ids), this.curated.all()]);
    return {
      rows,
      authored: answers.filter((a) => isSubject(subject, a.author.id)),
      told: await this.told(subject, answers),
    };
  }

  async describe(subject: Subject): Promise<Tally> {
    return tallyOf(await this.gather(subject));
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    const { rows, authored, told } = await this.gather(subject);
    const asked = await Promise.all(rows.asked.map((r) => this.questions.question(r.questionId)));
    return {
      questionsAsked: asked.flatMap((q) =>
        q
          ? [
              {
                askedAt: q.askedAt,
                question: q.question,
                answered: q.answered,
                section: q.sectionId ?? null,
                answeredLaterAt: q.answeredLaterAt ?? null,
                // Its message deleted in Teams: kept only for an undelete, out of the gaps.
                withdrawn: q.withdrawn,
              },
            ]
          : [],
      ),
      votes: rows.votes.map((v) => ({ question: v.questionId, helpful: v.helpful ?? null, at: v.at ?? null })),
      answersWritten: authored.map((a) => ({
        question: a.question,
        answer: a.answer ?? null,
        guidanceSection: a.sectionId ?? null,
        status: a.status,
        createdAt: a.createdAt,
        updatedAt: a.updatedAt,
      })),
      answersSentToYou: [...new Set(told.map((t) => t.id))],
    };
  }

  async forget(subject: Subject, pseudonym: Pseudonym): Promise<Tally> {
    const found = await this.gather(subject);
    const { rows, authored, told } = found;
    // The gap cards they answered say "Answered by <name>" in the triage channel: drawn again with the pseudonym.
    // Queued first: a forget pressed again after a fault finds no answer of theirs left to redraw.
    const cards = authored.flatMap((a) =>
      a.groupId
        ? renamedGapCardMessages(
            a.groupId,
            pseudonym.id,
            curatedFormCard({ id: a.groupId, example: a.question, count: 0, askers: 0, questions: a.variants }, [], { answeredBy: pseudonym.name }),
          )
        : [],
    );
    if (cards.length) await this.hooks.outbox?.enqueue(cards);
    for (const row of rows.asked) await this.questions.anonymiseAsker(row, pseudonym);
    for (const row of rows.votes) await this.questions.dropVote(row);
    for (const a of authored) await this.curated.replaceAuthor(a.id, pseudonym);
    for (const t of told) await this.curated.releaseNotice(t.id, t.key);
    if (authored.length) await this.hooks.refresh?.();
    return tallyOf(found);
  }

  async expire(before: Date, limit: number): Promise<number> {
    const questions = await this.questions.expireBefore(before, limit);
    if (questions >= limit) return questions;
    return questions + (await this.curated.expireNotices(before, limit - questions));
  }
}

function tallyOf({ rows, authored, told }: Gathered): Tally {
  const withdrawn = rows.asked.filter((r) => r.withdrawn).length;
  return {
    holdings: holdings(
      {
        kind: 'faq.questions',
        label: 'questions they asked (kept for the guidance gaps, asker anonymised)',
        count: rows.asked.length - withdrawn,
        action: 'anonymise',
      },
      // `anonymiseAsker` deletes these, with other people's votes on them: no gap is kept of a deleted message.
      { kind: 'faq.withdrawn', label: 'questions they asked and then deleted in Teams (kept for an undelete)', count: withdrawn, action: 'delete' },
      { kind: 'faq.votes', label: 'helpful / not helpful votes', count: rows.votes.length, action: 'delete' },
      { kind: 'faq.curated', label: "champions' answers they wrote (kept, author anonymised)", count: authored.length, action: 'anonymise' },
      { kind: 'faq.told', label: 'records that they were sent an answer', count: told.length, action: 'delete' },
    ),
  };
}
