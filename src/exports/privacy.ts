import { holdings, isSubject, type PersonalData, type Subject, type Tally } from '../privacy/personal-data.js';
import type { ExportStore } from './store.js';

/**
 * The download files a person made that still work (a `my data` file lives an hour): `forget` deletes them
 * at once, so the link no longer hands out what was just forgotten. Expired ones go with the expiry job.
 */
export class ExportPersonalData implements PersonalData {
  readonly feature = 'exports';

  constructor(private readonly store: Pick<ExportStore, 'liveFilesOf' | 'remove'>) {}

  private files(subject: Subject) {
    return this.store.liveFilesOf((id) => isSubject(subject, id));
  }

  private tally(files: unknown[]): Tally {
    return { holdings: holdings({ kind: 'exports.files', label: 'download files they made that still work (deleted)', count: files.length, action: 'delete' }) };
  }

  async describe(subject: Subject): Promise<Tally> {
    return this.tally(await this.files(subject));
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    return { liveDownloads: (await this.files(subject)).map((f) => ({ filename: f.filename, expiresAt: f.expiresAt })) };
  }

  async forget(subject: Subject): Promise<Tally> {
    const files = await this.files(subject);
    for (const f of files) await this.store.remove(f.token);
    return this.tally(files);
  }
}
