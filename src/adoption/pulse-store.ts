import { odata, type TableClient, TableTransaction } from '@azure/data-tables';
import { conflictPauseMs, fromJsonColumn, readEntity, toJsonColumn, updateIfUnchanged } from '../storage/entities.js';
import { collect, deleteIfThere, isConflict, type Tables } from '../storage/tables.js';
import { type Answers, emptyTally, type Pulse, type PulseTally, tallyAdd, type TallyShare, tallyShare } from './pulse.js';

/*
 * Pulse surveys' tables:
 * `Pulses`         PK 'pulse', RK pulse id (time-ordered)  → every pulse with one partition query (a rollout
 *                  sends a few dozen)
 * `PulseAnswers`   PK pulse id, RK respondent key           → one row per person per pulse: a second answer
 *                  replaces the first (upsert), and the results read one partition. The key is a salted hash
 *                  (pulse.ts respondentKey): no name or id is stored with an answer.
 *                  PK '~to~<pulse id>', RK respondent key  → who the pulse was sent to, hashed the same way:
 *                  only they may answer (card data can be forged).
 *                  PK '~tally~<pulse id>', RK 'all'          → the running totals of its answers (pulses sent
 *                  since it was added; older ones are counted from their rows): what "Refresh results" reads
 *                  instead of every answer. ETag-guarded; `pending` holds, by respondent key, a share counted
 *                  in the totals and not yet marked on its answer row (see reconcile).
 *                  An answer row's `v` counts its writes, `cv` is the write its `counted` share is of: the share
 *                  the totals hold for it (absent: none).
 */

type AnswerRow = { partitionKey: string; rowKey: string; answers: string; at: string; v?: number; cv?: number; counted?: string };
type TallyRow = { totals: string; pending: string };

const tallyPk = (pulseId: string) => `~tally~${pulseId}`;

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
    // The totals before the pulse: no answer can come before it, so they start from none.
    await this.answers
      .createEntity({ partitionKey: tallyPk(pulse.id), rowKey: 'all', totals: toJsonColumn(emptyTally()), pending: '{}' })
      .catch((err: unknown) => {
        if (!isConflict(err)) throw err;
      });
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

  /**
   * One answer per person: a second replaces the first; the running totals follow (reconcile). Writes are
   * ETag-guarded, so two answers from one person at once are two writes in turn, each counted once.
   */
  async saveAnswer(pulseId: string, respondent: string, answers: Answers, at: Date): Promise<void> {
    for (let tries = 0; ; tries++) {
      const started = Date.now();
      const row = await readEntity<AnswerRow>(this.answers, pulseId, respondent);
      // The share the totals hold for this row stays on it until reconcile moves it (an older version's write drops it).
      const entity = {
        partitionKey: pulseId,
        rowKey: respondent,
        answers: toJsonColumn(answers),
        at: at.toISOString(),
        v: Number(row?.v ?? 0) + 1,
        ...(row?.counted !== undefined ? { counted: row.counted, cv: row.cv ?? 0 } : {}),
      };
      let saved = false;
      if (!row) {
        try {
          await this.answers.createEntity(entity);
          saved = true;
        } catch (err) {
          if (!isConflict(err)) throw err;
        }
      } else saved = (await updateIfUnchanged(this.answers, entity, 'Replace', row.etag)) !== undefined;
      if (saved) break;
      if (tries >= 20) throw new Error('this answer kept changing under us; try again');
      await new Promise((r) => setTimeout(r, conflictPauseMs(tries, Date.now() - started)));
    }
    await this.reconcile(pulseId, respondent);
  }

  /**
   * Brings the totals in line with one person's answer row, once whatever fails or runs twice: (1) the totals
   * take the difference between the row's share and what they hold for it, and note the share as `pending`
   * for that person; (2) the row is marked with the share; (3) the note goes. Run again after a fault at any
   * step, it finishes what the last run left (the note says the totals already hold it), never adds it twice.
   * A pulse without totals (sent before they were kept) has nothing to reconcile.
   */
  async reconcile(pulseId: string, respondent: string): Promise<void> {
    for (let tries = 0; tries < 40; tries++) {
      const started = Date.now();
      const [row, tally] = await Promise.all([readEntity<AnswerRow>(this.answers, pulseId, respondent), readEntity<TallyRow>(this.answers, tallyPk(pulseId), 'all')]);
      if (!tally) return;
      const totals = fromJsonColumn<PulseTally>(tally.totals, emptyTally());
      const pending = fromJsonColumn<Record<string, { v: number; share: TallyShare }>>(tally.pending, {});
      const v = Number(row?.v ?? 0);
      const note = pending[respondent];
      const save = async (totalsJson: string, notes: typeof pending) =>
        (await updateIfUnchanged(this.answers, { partitionKey: tallyPk(pulseId), rowKey: 'all', totals: totalsJson, pending: toJsonColumn(notes) }, 'Replace', tally.etag)) !== undefined;
      let done = false;
      if (note && row && note.v === v) {
        // (2), then (3): the totals hold this write's share.
        const marked =
          (row.counted === toJsonColumn(note.share) && Number(row.cv) === v) ||
          (await updateIfUnchanged(this.answers, { partitionKey: pulseId, rowKey: respondent, answers: row.answers, at: row.at, v, counted: toJsonColumn(note.share), cv: v }, 'Replace', row.etag)) !== undefined;
        if (marked) {
          const rest = { ...pending };
          delete rest[respondent];
          done = await save(tally.totals, rest);
        }
      } else if (!note && (!row || (row.counted !== undefined && Number(row.cv) === v))) {
        return; // Nothing held and no answer, or the row's share is of its latest write.
      } else {
        // (1): the difference between this write's share and what the totals hold for the person, and the note.
        const held = note ? note.share : row?.counted !== undefined ? fromJsonColumn<TallyShare | null>(row.counted, null) : null;
        const want = row ? tallyShare(fromJsonColumn<Answers>(row.answers, {})) : null;
        const notes = { ...pending };
        if (row && want) notes[respondent] = { v, share: want };
        else delete notes[respondent];
        const saved = await save(toJsonColumn(tallyAdd(tallyAdd(totals, held, -1), want, 1)), notes);
        if (saved && !row) return;
        if (saved) continue;
      }
      if (done) return;
      await new Promise((r) => setTimeout(r, conflictPauseMs(tries, Date.now() - started)));
    }
    throw new Error('the pulse totals kept changing under us; the answer is saved and is counted at its next change');
  }

  /** The running totals of a pulse's answers; undefined for a pulse sent before they were kept. */
  async tally(pulseId: string): Promise<PulseTally | undefined> {
    const row = await readEntity<TallyRow>(this.answers, tallyPk(pulseId), 'all');
    return row ? fromJsonColumn<PulseTally>(row.totals, emptyTally()) : undefined;
  }

  /** Up to `limit` answers (in key order: a salted hash, so in no order a person could be picked out by), for a card. */
  async someAnswers(pulseId: string, limit: number): Promise<Answers[]> {
    const pages = this.answers
      .listEntities<AnswerRow>({ queryOptions: { filter: odata`PartitionKey eq ${pulseId}`, select: ['answers'] } })
      .byPage({ maxPageSize: limit });
    for await (const page of pages) return page.slice(0, limit).map((r) => fromJsonColumn<Answers>(r.answers, {}));
    return [];
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
      // With its counted share (the totals hold it under the person's key: the move changes no figure).
      const kept = row.counted !== undefined ? { v: row.v ?? 0, cv: row.cv ?? 0, counted: row.counted } : {};
      await this.answers.upsertEntity({ partitionKey: pulseId, rowKey: to, answers: row.answers, at: row.at, ...kept }, 'Replace');
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
    // Its rows all gone: the totals go too (results come from what the pulse kept); not counted as an answer row.
    if (deleted < limit) await this.deleteRow(tallyPk(pulse.id), 'all');
    return deleted;
  }

  private async deleteRow(pk: string, rk: string): Promise<void> {
    await deleteIfThere(this.answers, pk, rk);
  }
}
