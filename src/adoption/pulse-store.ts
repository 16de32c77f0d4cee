import { randomBytes } from 'node:crypto';
import { odata, type TableClient, TableTransaction } from '@azure/data-tables';
import { fromJsonColumn, readEntity, retryOnConflict, toJsonColumn } from '../storage/entities.js';
import { collect, deleteIfThere, isConflict, isNotFound, isPreconditionFailed, type Tables } from '../storage/tables.js';
import { type Answers, compareEntries, type Pulse, type PulseTally, type QuestionId, tallyOf, TEXT_PAGE, type TextEntry, textKey } from './pulse.js';

/*
 * Pulse surveys' tables:
 * `Pulses`         PK 'pulse', RK pulse id (time-ordered)  → every pulse with one partition query (a rollout
 *                  sends a few dozen)
 * `PulseAnswers`   PK pulse id, RK respondent key           → one row per person per pulse: a second answer
 *                  replaces the first (upsert), and the results read one partition. The key is a salted hash
 *                  (pulse.ts respondentKey): no name or id is stored with an answer.
 *                  PK '~to~<pulse id>', RK respondent key  → who the pulse was sent to, hashed the same way:
 *                  only they may answer (card data can be forged).
 * `PulseResults`   what results are shown from, so a look reads a few rows however many answered (counted off
 *                  the turn by pulse-service recountDue, never per answer: no row every answer writes to):
 *                  PK 'summary', RK pulse id        → the tally (totals per question and option), when counted
 *                                                     (`asOf`) and from what (`source`: the answer rows, or
 *                                                     what retention kept) — every pulse's with one query
 *                  PK 'request', RK pulse id        → a look asked for a fresh count (deleted once counted)
 *                  PK pulse id, RK `<q>|<page>`     → a free-text question's answers in the shown order
 *                                                     (textEntries), TEXT_PAGE to a row, as `t<i>`/`k<i>` columns
 *                  PK pulse id, RK '~pages'         → who last claimed the pages (a random token, see PagesClaim)
 */

/** The row that guards a pulse's free-text pages (it sorts after every page). */
const PAGES_GUARD = '~pages';

/**
 * A writer's claim on a pulse's free-text pages: every transaction that writes pages also rewrites the guard row
 * with the ETag the writer last left it at, so it fails (412) once another writer claimed them since. A count
 * claims before it reads the answers and `forget` claims before it re-keys the pages: a count that read the
 * answers before a forget moved one cannot write the old keys back after the forget re-keyed them — it counts
 * again instead.
 */
export interface PagesClaim {
  token: string;
  etag: string;
}

const claimedElsewhere = () => Object.assign(new Error('the free-text pages were claimed by another writer'), { statusCode: 412 });

/** A pulse's answers as last counted. */
export interface PulseSummary {
  pulseId: string;
  asOf: string;
  source: 'answers' | 'kept';
  tally: PulseTally;
  /** What results show of it: the tally in steps of the minimum number of answers (pulse.ts steppedTally). */
  shown?: PulseTally;
}

type AnswerRow = { partitionKey: string; rowKey: string; answers: string; at: string };

export class PulseStore {
  constructor(
    private readonly pulses: TableClient,
    private readonly answers: TableClient,
    private readonly results: TableClient,
  ) {}

  static async open(tables: Tables): Promise<PulseStore> {
    return new PulseStore(await tables.table('Pulses'), await tables.table('PulseAnswers'), await tables.table('PulseResults'));
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
      // The results from what was kept, and the free-text pages gone, before any answer row is. What was shown stays
      // shown (the next count steps from it).
      const shown = (await this.summary(pulse.id))?.shown;
      await this.saveSummary({ pulseId: pulse.id, asOf: new Date().toISOString(), source: 'kept', tally: tallyOf(pulse, kept), ...(shown ? { shown } : {}) }, {});
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

  // ---- summaries (see PulseResults above) -------------------------------------------------------------

  async summary(pulseId: string): Promise<PulseSummary | undefined> {
    const row = await readEntity<SummaryRow>(this.results, 'summary', pulseId);
    return row ? summaryOf(row) : undefined;
  }

  /** Every pulse's summary, by pulse id (one query: a rollout sends a few dozen pulses). */
  async summaries(): Promise<Map<string, PulseSummary>> {
    const rows = await collect(this.results.listEntities<SummaryRow>({ queryOptions: { filter: odata`PartitionKey eq 'summary'` } }));
    return new Map(rows.map((r) => [r.rowKey, summaryOf(r)]));
  }

  /** Claims the pulse's free-text pages for the caller's next writes (see PagesClaim). */
  async claimPages(pulseId: string): Promise<PagesClaim> {
    const token = randomBytes(8).toString('hex');
    const res = await this.results.upsertEntity({ partitionKey: pulseId, rowKey: PAGES_GUARD, token }, 'Replace');
    return { token, etag: res.etag ?? '' };
  }

  /**
   * Saves a count: each free-text question's answers as pages (those not given are deleted), then the summary,
   * then any page the count before had beyond the new ones. Pages are written only while `claim` holds (412 once
   * another writer claimed them); a count with no free text (retention's) writes none and needs no claim.
   */
  async saveSummary(
    summary: PulseSummary,
    texts: Partial<Record<QuestionId, readonly TextEntry[]>>,
    claim?: PagesClaim,
    /** Free-text questions whose pages stay as they are (their shown answers wait for the next step). */
    keep: readonly QuestionId[] = [],
  ): Promise<void> {
    const written = await this.writePages(summary.pulseId, texts, claim);
    await this.results.upsertEntity(
      {
        partitionKey: 'summary',
        rowKey: summary.pulseId,
        asOf: summary.asOf,
        source: summary.source,
        tally: toJsonColumn(summary.tally),
        ...(summary.shown ? { shown: toJsonColumn(summary.shown) } : {}),
      },
      'Replace',
    );
    const old = await collect(this.results.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${summary.pulseId}`, select: ['RowKey'] } }));
    const kept = (k: string) => keep.some((q) => k.startsWith(`${q}|`));
    const gone = old.map((r) => String(r.rowKey)).filter((k) => k !== PAGES_GUARD && !written.has(k) && !kept(k));
    for (let i = 0; i < gone.length; i += 100) {
      const del = new TableTransaction();
      for (const k of gone.slice(i, i + 100)) del.deleteEntity(summary.pulseId, k);
      await this.results.submitTransaction(del.actions);
    }
  }

  /**
   * Writes free-text questions' answers as pages of TEXT_PAGE (in transactions, each guarded by `claim` when given:
   * 412 once it is lost); returns the row keys written.
   */
  private async writePages(pulseId: string, texts: Partial<Record<QuestionId, readonly TextEntry[]>>, claim?: PagesClaim): Promise<Set<string>> {
    const written = new Set<string>();
    let tx = new TableTransaction();
    let bytes = 0;
    const flush = async () => {
      if (tx.actions.length && claim) {
        tx.updateEntity({ partitionKey: pulseId, rowKey: PAGES_GUARD, token: claim.token }, 'Replace', { etag: claim.etag });
        await this.results.submitTransaction(tx.actions);
        // The guard's new ETag for the next transaction — unless another writer claimed the pages in between.
        const guard = await readEntity<{ token: string }>(this.results, pulseId, PAGES_GUARD);
        if (!guard || guard.token !== claim.token) throw claimedElsewhere();
        claim.etag = guard.etag;
      } else if (tx.actions.length) await this.results.submitTransaction(tx.actions);
      tx = new TableTransaction();
      bytes = 0;
    };
    for (const [q, entries] of Object.entries(texts)) {
      for (let page = 0; page * TEXT_PAGE < entries.length; page++) {
        const rowKey = pageKey(q, page);
        const row: Record<string, unknown> & { partitionKey: string; rowKey: string } = { partitionKey: pulseId, rowKey };
        const slice = entries.slice(page * TEXT_PAGE, (page + 1) * TEXT_PAGE);
        slice.forEach((e, i) => {
          row[`t${i}`] = e.text;
          row[`k${i}`] = e.key;
        });
        // A batch holds at most 100 rows and 4 MiB of request, sent as UTF-8 JSON: measured as sent (a CJK
        // character is 3 bytes, an escaped control character 6), with room for each part's multipart headers.
        const size = Buffer.byteLength(JSON.stringify(row)) + 512;
        if (tx.actions.length >= 99 || bytes + size > 3_000_000) await flush();
        tx.upsertEntity(row, 'Replace');
        bytes += size;
        written.add(rowKey);
      }
    }
    await flush();
    return written;
  }

  /**
   * `forget`: the free-text pages as counted show a moved answer under a key derived from `from` (the person's
   * respondent key); it is put under the one derived from `to` (the pseudonym's) in place, in the shown order, so
   * nothing in the pages points at the person once forget is done — without waiting for the next count. Reads and
   * rewrites only that question's pages. Returns how many answers it re-keyed. The pages are claimed first, even
   * when none shows the answer yet: a count that read the answers before they were moved then fails to write and
   * counts again (PagesClaim); a count or another forget claiming them meanwhile makes this one start again.
   */
  rekeyTexts(pulse: Pulse, from: string, to: string): Promise<number> {
    return retryOnConflict(() => this.rekeyTextsOnce(pulse, from, to), { what: "Re-keying a pulse's free-text answers" });
  }

  private async rekeyTextsOnce(pulse: Pulse, from: string, to: string): Promise<number> {
    const claim = await this.claimPages(pulse.id);
    let moved = 0;
    const texts: Partial<Record<QuestionId, TextEntry[]>> = {};
    for (const q of pulse.questions) {
      if (q.kind !== 'text') continue;
      const old = textKey(from, q.id);
      const entries: TextEntry[] = [];
      for (let page = 0; ; page++) {
        const got = await this.textPage(pulse.id, q.id, page);
        if (!got.length) break;
        entries.push(...got);
      }
      const found = entries.filter((e) => e.key === old).length;
      if (!found) continue;
      moved += found;
      const fresh = textKey(to, q.id);
      texts[q.id] = entries.map((e) => (e.key === old ? { ...e, key: fresh } : e)).sort(compareEntries);
    }
    if (moved) await this.writePages(pulse.id, texts, claim);
    return moved;
  }

  /** One page of a free-text question's answers in the shown order (empty past the last). */
  async textPage(pulseId: string, questionId: QuestionId, page: number): Promise<TextEntry[]> {
    const row = await readEntity<Record<string, unknown>>(this.results, pulseId, pageKey(questionId, page));
    const out: TextEntry[] = [];
    for (let i = 0; row && typeof row[`t${i}`] === 'string'; i++) out.push({ text: String(row[`t${i}`]), key: String(row[`k${i}`] ?? '') });
    return out;
  }

  /** Asks the next count for this pulse (a look found it may be behind; `forget` moved an answer). */
  async requestRecount(pulseId: string, at: Date): Promise<void> {
    await this.results.upsertEntity({ partitionKey: 'request', rowKey: pulseId, at: at.toISOString() }, 'Replace');
  }

  /** The pulses a count was asked for, each with when it was last asked and the request's ETag (see recounted). */
  async recountRequests(): Promise<Map<string, { at: string; etag: string }>> {
    const rows = await collect(this.results.listEntities<{ at?: string }>({ queryOptions: { filter: odata`PartitionKey eq 'request'`, select: ['RowKey', 'at'] } }));
    return new Map(rows.map((r) => [String(r.rowKey), { at: String(r.at ?? ''), etag: String(r.etag) }]));
  }

  /** A request counted: deleted unless asked again since (its ETag changed), so that one is counted too. */
  async recounted(pulseId: string, etag: string): Promise<void> {
    try {
      await this.results.deleteEntity('request', pulseId, { etag });
    } catch (err) {
      if (!isNotFound(err) && !isPreconditionFailed(err)) throw err;
    }
  }

  private async deleteRow(pk: string, rk: string): Promise<void> {
    await deleteIfThere(this.answers, pk, rk);
  }
}

type SummaryRow = { rowKey: string; asOf: string; source: string; tally: string; shown?: string };

function summaryOf(r: SummaryRow): PulseSummary {
  const shown = r.shown ? fromJsonColumn<PulseTally | undefined>(r.shown, undefined) : undefined;
  return {
    pulseId: r.rowKey,
    asOf: r.asOf,
    source: r.source === 'kept' ? 'kept' : 'answers',
    tally: fromJsonColumn<PulseTally>(r.tally, { answers: 0, questions: {} }),
    ...(shown ? { shown } : {}),
  };
}

/** A page's row key: zero-padded, so a question's pages list in order. */
const pageKey = (questionId: string, page: number) => `${questionId}|${String(page).padStart(6, '0')}`;
