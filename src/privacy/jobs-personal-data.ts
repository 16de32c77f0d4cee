import type { TableClient } from '@azure/data-tables';
import { fromJsonColumn, retryOnConflict } from '../storage/entities.js';
import { collect, isNotFound, type Tables } from '../storage/tables.js';
import { JOB_PARTITION, JOB_TABLE } from './jobs.js';
import { holdings, isSubject, type PersonalData, type Pseudonym, type Subject, type Tally } from './personal-data.js';
import { isPseudonym } from './pseudonym.js';

interface AskedRow {
  rowKey: string;
  createdAt: string;
  next: number;
  total: number;
}

/**
 * The forget jobs' own part of the privacy duties. A job's row (jobs.ts) names the rollout team member who
 * asked for it until it ends. `my data` shows the forgets they asked for that are under way; `forget` of that
 * member takes them off those rows (the log names their pseudonym, nobody is told the end). The posts of their
 * Forget cards (in their 1:1 chat) go with their chat's other cards (src/conversations/privacy.ts). A job's row
 * about the person themselves is the forget under way, and goes when it ends.
 */
export class ForgetJobsPersonalData implements PersonalData {
  readonly feature = 'privacyJobs';

  private constructor(private readonly jobs: TableClient) {}

  static async open(tables: Tables): Promise<ForgetJobsPersonalData> {
    return new ForgetJobsPersonalData(await tables.table(JOB_TABLE));
  }

  /** The jobs they asked for, other than a forget of themselves: one partition of a handful of rows. */
  private async asked(subject: Subject): Promise<AskedRow[]> {
    const rows = await collect(this.jobs.listEntities<Record<string, unknown>>({ queryOptions: { filter: `PartitionKey eq '${JOB_PARTITION}'` } }));
    return rows
      .filter((r) => {
        const by = String(r.by ?? '');
        const asker = isSubject(subject, String(r.notify ?? '')) || isSubject(subject, by);
        // Forgetting themselves: the row is that forget (it names them by their pseudonym), gone when it ends.
        const aboutThem = fromJsonColumn<string[]>(r.ids, []).some((id) => isSubject(subject, id)) || isPseudonym(by);
        return asker && !aboutThem;
      })
      .map((r) => ({ rowKey: String(r.rowKey), createdAt: String(r.createdAt ?? ''), next: Number(r.next ?? 0), total: Number(r.total ?? 0) }));
  }

  private tally(asked: unknown[]): Tally {
    return {
      holdings: holdings({ kind: 'privacy.forgetsUnderWay', label: 'forgets they asked for that are under way (kept, person anonymised)', count: asked.length, action: 'anonymise' }),
    };
  }

  async describe(subject: Subject): Promise<Tally> {
    return this.tally(await this.asked(subject));
  }

  /** Their forgets under way, by when and how far: not whom they are about (that is the other person's data). */
  async export(subject: Subject): Promise<Record<string, unknown>> {
    const asked = await this.asked(subject);
    return { forgetsYouAskedForUnderWay: asked.map((r) => ({ startedAt: r.createdAt, partsDone: r.next, parts: r.total })) };
  }

  async forget(subject: Subject, pseudonym: Pseudonym): Promise<Tally> {
    const asked = await this.asked(subject);
    for (const r of asked) {
      // ETag-guarded: the job itself writes the row after each part (and re-reads it on a conflict).
      await retryOnConflict(
        async () => {
          let row: Record<string, unknown> & { etag: string };
          try {
            row = await this.jobs.getEntity<Record<string, unknown>>(JOB_PARTITION, r.rowKey);
          } catch (err) {
            if (isNotFound(err)) return; // it ended meanwhile, and its row went
            throw err;
          }
          const notify = String(row.notify ?? '');
          const by = String(row.by || notify);
          await this.jobs.updateEntity(
            { partitionKey: JOB_PARTITION, rowKey: r.rowKey, by: isSubject(subject, by) ? pseudonym.id : by, notify: isSubject(subject, notify) ? '' : notify },
            'Merge',
            { etag: row.etag },
          );
        },
        { what: 'Taking the asker off a forget job' },
      );
    }
    return this.tally(asked);
  }
}
