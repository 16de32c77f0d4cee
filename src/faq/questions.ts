import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import type { Actor } from '../roles/roles.js';
import {
  collect,
  invertedTime,
  isNotFound,
  isPreconditionFailed,
  mergeIfUnchanged,
  type Tables,
} from '../storage/tables.js';
import { readEntity } from '../storage/entities.js';

/** A question a user asked, what the bot did with it, and what the user thought of the answer. */
export interface AskedQuestion {
  id: string;
  question: string;
  asker: Actor;
  askedAt: string;
  answered: boolean;
  /** The section cited, when answered. */
  sectionId?: string;
  helpful: number;
  notHelpful: number;
  /** Set when a later docs change answered it and the asker was told. */
  answeredLaterAt?: string;
}

/** The stored row: the question minus its id (the keys), with the asker as JSON. */
type QuestionEntity = Omit<AskedQuestion, 'id' | 'asker'> & { partitionKey: string; rowKey: string; asker: string };

/*
 * Table `FaqQuestions`: PK = UTC day 'YYYY-MM-DD', RK = inverted time + random (newest first).
 *   - a question by id: the id is `${PK}_${RK}` → point read;
 *   - "questions of the last N days" (gaps, re-checks after a docs change): N partition queries.
 * Table `FaqFeedback`: PK = question id, RK = user id → one vote per user per question.
 */
export class QuestionStore {
  private constructor(
    private readonly questions: TableClient,
    private readonly feedback: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<QuestionStore> {
    return new QuestionStore(await tables.table('FaqQuestions'), await tables.table('FaqFeedback'), clock);
  }

  async record(
    question: string,
    asker: Actor,
    answer: { answered: boolean; sectionId?: string },
  ): Promise<AskedQuestion> {
    const now = this.clock.now();
    const partitionKey = now.toISOString().slice(0, 10);
    const rowKey = `${invertedTime(now)}${randomBytes(3).toString('hex')}`;
    const entity: QuestionEntity = {
      partitionKey,
      rowKey,
      question: question.slice(0, 2000),
      asker: JSON.stringify(asker),
      askedAt: now.toISOString(),
      answered: answer.answered,
      helpful: 0,
      notHelpful: 0,
    };
    if (answer.sectionId) entity.sectionId = answer.sectionId;
    await this.questions.createEntity(entity);
    return fromEntity(entity);
  }

  async get(id: string): Promise<AskedQuestion | undefined> {
    const key = splitId(id);
    if (!key) return undefined;
    const e = await readEntity<QuestionEntity>(this.questions, key.pk, key.rk);
    return e ? fromEntity(e) : undefined;
  }

  /**
   * Records a user's vote; a second vote by the same user replaces the first (counts move, never double).
   * Returns undefined for an unknown question id.
   */
  async vote(id: string, user: Actor, helpful: boolean): Promise<AskedQuestion | undefined> {
    const key = splitId(id);
    if (!key) return undefined;
    const voteKey = user.aadObjectId ?? user.id;
    let previous: boolean | undefined;
    try {
      previous = (await this.feedback.getEntity<{ helpful: boolean }>(id, voteKey)).helpful;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (previous === helpful) return this.get(id);
    for (let attempt = 0; attempt < 10; attempt++) {
      let current: QuestionEntity & { etag: string };
      try {
        current = await this.questions.getEntity<QuestionEntity>(key.pk, key.rk);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      const next = { helpful: current.helpful, notHelpful: current.notHelpful };
      if (previous === true) next.helpful--;
      if (previous === false) next.notHelpful--;
      if (helpful) next.helpful++;
      else next.notHelpful++;
      try {
        await this.questions.updateEntity({ partitionKey: key.pk, rowKey: key.rk, ...next }, 'Merge', {
          etag: current.etag,
        });
        await this.feedback.upsertEntity(
          { partitionKey: id, rowKey: voteKey, helpful, at: this.clock.now().toISOString() },
          'Replace',
        );
        return fromEntity({ ...current, ...next });
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err; // another vote landed first: re-read and re-apply
      }
    }
    throw new Error('could not record feedback: too many concurrent votes');
  }

  /** Questions asked in the last `days` days (today included), newest first. */
  /** Questions asked in the last `days` × 24 hours (not calendar days: "gaps 1" is the last day, at any hour). */
  async recent(days: number, filter?: { answered?: boolean }): Promise<AskedQuestion[]> {
    const today = this.clock.now();
    const since = new Date(today.getTime() - days * 86_400_000).toISOString();
    const out: AskedQuestion[] = [];
    // Day partitions are UTC dates: the window's first day is read too, then cut at `since`.
    for (let d = 0; d <= days; d++) {
      const day = new Date(today.getTime() - d * 86_400_000).toISOString().slice(0, 10);
      let query = `PartitionKey eq '${day}'`;
      if (filter?.answered !== undefined) query += ` and answered eq ${filter.answered}`;
      const rows = await collect(
        this.questions.listEntities<QuestionEntity>({ queryOptions: { filter: query } }),
      );
      out.push(...rows.map(fromEntity).filter((q) => q.askedAt >= since));
    }
    return out;
  }

  /** Every question asked on one UTC day, 'YYYY-MM-DD' (one partition): the adoption figures' daily roll-up. */
  async askedOn(day: string): Promise<AskedQuestion[]> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return [];
    const rows = await collect(
      this.questions.listEntities<QuestionEntity>({ queryOptions: { filter: `PartitionKey eq '${day}'` } }),
    );
    return rows.map(fromEntity);
  }

  /** Marks a once-unanswered question as answered by a docs change; false if another instance did it first. */
  async markAnsweredLater(id: string, sectionId: string): Promise<boolean> {
    const key = splitId(id);
    if (!key) return false;
    const current = await this.questions.getEntity<QuestionEntity>(key.pk, key.rk);
    if (current.answeredLaterAt) return false;
    return mergeIfUnchanged(
      this.questions,
      { partitionKey: key.pk, rowKey: key.rk, answeredLaterAt: this.clock.now().toISOString(), sectionId },
      current.etag,
    );
  }
}

function splitId(id: string): { pk: string; rk: string } | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})_([0-9a-f]{13,40})$/.exec(id);
  return m?.[1] && m[2] ? { pk: m[1], rk: m[2] } : undefined;
}

function fromEntity(e: QuestionEntity): AskedQuestion {
  const q: AskedQuestion = {
    id: `${e.partitionKey}_${e.rowKey}`,
    question: e.question,
    asker: JSON.parse(e.asker) as Actor,
    askedAt: e.askedAt,
    answered: e.answered,
    helpful: e.helpful ?? 0,
    notHelpful: e.notHelpful ?? 0,
  };
  if (e.sectionId) q.sectionId = e.sectionId;
  if (e.answeredLaterAt) q.answeredLaterAt = e.answeredLaterAt;
  return q;
}
