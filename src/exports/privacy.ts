import { holdings, isSubject, type PersonalData, type Subject, type Tally } from '../privacy/personal-data.js';
import type { ExportStore } from './store.js';

/**
 * The download files a person made that still work (a `my data` file lives an hour), and any other live
 * download naming them (the rollout team's CSV of the issues lists reporters by name): `forget` deletes them
 * at once, so no link hands out what was just forgotten. Expired ones go with the expiry job.
 */
export class ExportPersonalData implements PersonalData {
  readonly feature = 'exports';

  constructor(private readonly store: Pick<ExportStore, 'liveFilesOf' | 'liveFilesNaming' | 'remove'>) {}

  private files(subject: Subject) {
    return this.store.liveFilesOf((id) => isSubject(subject, id));
  }

  /** Others' live downloads that name them (by any key or their name); never handed to them by `my data`. */
  private async naming(subject: Subject) {
    const own = new Set((await this.files(subject)).map((f) => f.token));
    const named = await this.store.liveFilesNaming([...subject.ids, ...(subject.name ? [subject.name] : [])]);
    return named.filter((f) => !own.has(f.token));
  }

  private tally(files: unknown[], naming: unknown[] = []): Tally {
    return {
      holdings: holdings(
        { kind: 'exports.files', label: 'download files they made that still work (deleted)', count: files.length, action: 'delete' },
        { kind: 'exports.naming', label: 'download files naming them that still work, e.g. an issues CSV (deleted)', count: naming.length, action: 'delete' },
      ),
    };
  }

  async describe(subject: Subject): Promise<Tally> {
    return this.tally(await this.files(subject), await this.naming(subject));
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    return { liveDownloads: (await this.files(subject)).map((f) => ({ filename: f.filename, expiresAt: f.expiresAt })) };
  }

  async forget(subject: Subject): Promise<Tally> {
    const files = await this.files(subject);
    const naming = await this.naming(subject);
    for (const f of [...files, ...naming]) await this.store.remove(f.token);
    return this.tally(files, naming);
  }
}
