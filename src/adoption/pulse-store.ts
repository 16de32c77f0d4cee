import { odata, type TableClient, TableTransaction } from '@azure/data-tables';
import { fromJsonColumn, readEntity, toJsonColumn } from '../storage/entities.js';
import { collect, type Tables } from '../storage/tables.js';
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

  /** Saves a new pulse and its recipients (recipients first: an answer can never arrive before them). */
  async create(pulse: Pulse, recipientKeys: readonly string[]): Promise<void> {
    for (let i = 0; i < recipientKeys.length; i += 100) {
      const tx = new TableTransaction();
      for (const key of recipientKeys.slice(i, i + 100)) tx.upsertEntity({ partitionKey: `~to~${pulse.id}`, rowKey: key }, 'Replace');
      await this.answers.submitTransaction(tx.actions);
    }
    await this.pulses.createEntity({ partitionKey: 'pulse', rowKey: pulse.id, json: toJsonColumn(pulse) });
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

  /** Every answer to a pulse, without who gave it. */
  async answersTo(pulseId: string): Promise<Answers[]> {
    const rows = await collect(
      this.answers.listEntities<AnswerRow>({ queryOptions: { filter: odata`PartitionKey eq ${pulseId}`, select: ['answers'] } }),
    );
    return rows.map((r) => fromJsonColumn<Answers>(r.answers, {}));
  }
}
