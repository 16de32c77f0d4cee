import { odata, type TableClient, TableTransaction } from '@azure/data-tables';
import { fromJsonColumn, readEntity, toJsonColumn } from '../storage/entities.js';
import { collect, deleteIfThere, isConflict, type Tables } from '../storage/tables.js';
import type { Answers, Pulse } from './pulse.js';

/*
 * Pulse surveys' tables:
 * `Pulses`         PK 'pulse', RK pulse id (time-ordered)  → every pulse with one partition query (a rollout
 *                  sends a few dozen)
 * `PulseAnswers`   PK pulse id, RK respondent key           → one row per person per pulse: a second answer
 *                  replaces the first (upsert), and the results read one partition. The key is a salted hash
 *                  (pulse.ts respondentKey): no name or id is stored with an answer.
 *                  PK '~to~<pulse id>', RK respondent key  → who the pulse was sent to, hashed the same way:
 *                  only they may answer (card data can be forged).
 */

type AnswerRow = { partitionKey: string; rowKey: string; answers: string; at: string };

export class PulseStore {
  constructor(
    private readonly pulses: TableClient,
    private readonly answers: TableClient,
  ) {}

  static async open(tables: Tables): Promise<PulseStore> {
    return new PulseStore(await tables.table('Pulses'), await tables.table('PulseAnswers'));
  }

  /**
   * Saves a new pulse and its recipients (recipients first: an answer can never arrive before them). False
   * when a pulse with its id is already stored (the same compose card sent twice at once): the loser's
   * recipient rows, hashed with its own salt, match nobody.
   */
  async create(pulse: Pulse, recipientKeys: readonly string[]): Promise<boolean> {
    for (let i = 0; i < recipientKeys.length; i += 100) {
      const tx = new TableTransaction();
      for (const key of recipientKeys.slice(i, i + 100)) tx.upsertEntity({ partitionKey: `~to~${pulse.id}`, rowKey: key }, 'Replace');
      await this.answers.submitTransaction(tx.actions);
    }
    try {
      await this.pulses.createEntity({ partitionKey: 'pulse', rowKey: pulse.id, json: toJsonColumn(pulse) });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  async get(id: string): Promise<Pulse | undefined> {
    if (!/^p-[\w-]{1,60}$/.test(id)) return undefined;
    const row = await readEntity<{ json: string }>(this.pulses, 'pulse', id);
    return fromJsonColumn<Pulse | undefined>(row?.json, undefined);
  }

  /** Every pulse, newest first. */
  async all(): Promise<Pulse[]> {
    const rows = await collect(this.pulses.listEntities<{ json: string }>({ queryOptions: { filter: odata`PartitionKey eq 'pulse'` } }));
    return rows
      .map((r) => fromJsonColumn<Pulse | null>(r.json, null))
      .filter((p): p is Pulse => p !== null)
      .sort((a, b) => b.sentAt.localeCompare(a.sentAt));
  }

  async wasSentTo(pulseId: string, respondent: string): Promise<boolean> {
    return Boolean(await readEntity(this.answers, `~to~${pulseId}`, respondent));
  }

  /** One answer per person: a second replaces the first. */
  async saveAnswer(pulseId: string, respondent: string, answers: Answers, at: Date): Promise<void> {
    await this.answers.upsertEntity({ partitionKey: pulseId, rowKey: respondent, answers: toJsonColumn(answers), at: at.toISOString() }, 'Replace');
  }

  async answerOf(pulseId: string, respondent: string): Promise<Answers | undefined> {
    const row = await readEntity<AnswerRow>(this.answers, pulseId, respondent);
    return row ? fromJsonColumn<Answers>(row.answers, {}) : undefined;
  }

  /** Every answer to a pulse, without who gave it (after retention, what it kept). */
  async answersTo(pulse: Pick<Pulse, 'id' | 'keptAnswers'>): Promise<Answers[]> {
    return (await this.keyedAnswersTo(pulse)).map((r) => r.answers);
  }

  /**
   * Every answer with its respondent key (a salted hash, not who gave it), for a stable order among equal free
   * texts; what retention kept has no key ('').
   */
  async keyedAnswersTo(pulse: Pick<Pulse, 'id' | 'keptAnswers'>): Promise<{ respondent: string; answers: Answers }[]> {
    if (pulse.keptAnswers) return pulse.keptAnswers.map((answers) => ({ respondent: '', answers }));
    const rows = await collect(
      this.answers.listEntities<AnswerRow>({ queryOptions: { filter: odata`PartitionKey eq ${pulse.id}`, select: ['RowKey', 'answers'] } }),
    );
    return rows.map((r) => ({ respondent: r.rowKey, answers: fromJsonColumn<Answers>(r.answers, {}) }));
  }

  /** A person's answer row as stored: their answers and when (for `my data`). */
  async answerRow(pulseId: string, respondent: string): Promise<{ answers: Answers; at: string } | undefined> {
    const row = await readEntity<AnswerRow>(this.answers, pulseId, respondent);
    return row ? { answers: fromJsonColumn<Answers>(row.answers, {}), at: row.at } : undefined;
  }

  /**
   * Privacy `forget`: the answer moves to the stand-in's key (still one answer, still counted) and the
   * person's rows go — the answer and their place among the recipients. Safe to re-run after a fault: the
   * move is written before the old row is deleted.
   */
  async moveAnswer(pulseId: string, from: string, to: string): Promise<void> {
    const row = await readEntity<AnswerRow>(this.answers, pulseId, from);
    if (row) {
      await this.answers.upsertEntity({ partitionKey: pulseId, rowKey: to, answers: row.answers, at: row.at }, 'Replace');
      await this.deleteRow(pulseId, from);
    }
  }

  async removeRecipient(pulseId: string, respondent: string): Promise<void> {
    await this.deleteRow(`~to~${pulseId}`, respondent);
  }

  /** Replaces a stored pulse (who sent it, or what retention kept). */
  async replace(pulse: Pulse): Promise<void> {
    await this.pulses.upsertEntity({ partitionKey: 'pulse', rowKey: pulse.id, json: toJsonColumn(pulse) }, 'Replace');
  }

  /**
   * Retention: keeps the pulse's scale and choice answers on the pulse, without keys (once), then deletes
   * up to `limit` of its answer and recipient rows. Returns how many rows it deleted.
   */
  async expireAnswers(pulse: Pulse, limit: number): Promise<number> {
    if (!pulse.keptAnswers) {
      const kept = (await this.answersTo(pulse))
        .map((a) => Object.fromEntries(Object.entries(a).filter(([, v]) => typeof v === 'number')) as Answers)
        .filter((a) => Object.keys(a).length > 0);
      await this.replace({ ...pulse, keptAnswers: kept });
    }
    let deleted = 0;
    for (const pk of [pulse.id, `~to~${pulse.id}`]) {
      if (deleted >= limit) break;
      const rows = await collect(this.answers.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey'] } }));
      for (let i = 0; i < rows.length && deleted < limit; i += 100) {
        const tx = new TableTransaction();
        for (const r of rows.slice(i, Math.min(i + 100, i + limit - deleted))) tx.deleteEntity(pk, String(r.rowKey));
        await this.answers.submitTransaction(tx.actions);
        deleted += tx.actions.length;
      }
    }
    return deleted;
  }

  private async deleteRow(pk: string, rk: string): Promise<void> {
    await deleteIfThere(this.answers, pk, rk);
  }
}
