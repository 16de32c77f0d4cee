import { holdings, isSubject, type PersonalData, type Subject, type Tally } from '../privacy/personal-data.js';
import { mentionsAny } from '../text/mentions.js';
import type { ExportStore, LiveFile } from './store.js';

/**
 * The download files a person made that still work (a `my data` file lives an hour), and any other live
 * download naming them (the rollout team's CSV of the issues lists reporters by name): `forget` deletes them
 * at once, so no link hands out what was just forgotten. Expired ones go with the expiry job.
 */
export class ExportPersonalData implements PersonalData {
  readonly feature = 'exports';

  constructor(private readonly store: Pick<ExportStore, 'liveFiles' | 'read' | 'remove'>) {}

  /** Their own live files, and others' that name them (by any key or their name): one listing of the live files. */
  private async find(subject: Subject, withNaming: boolean): Promise<{ own: LiveFile[]; naming: LiveFile[] }> {
    const needles = [...subject.ids, ...(subject.name ? [subject.name] : [])];
    const own: LiveFile[] = [];
    const naming: LiveFile[] = [];
    for (const f of await this.store.liveFiles()) {
      if (isSubject(subject, f.createdBy)) own.push(f);
      else if (withNaming && mentionsAny((await this.store.read(f.token))?.content ?? '', needles)) naming.push(f);
    }
    return { own, naming };
  }

  private tally({ own, naming }: { own: LiveFile[]; naming: LiveFile[] }): Tally {
    return {
      holdings: holdings(
        { kind: 'exports.files', label: 'download files they made that still work (deleted)', count: own.length, action: 'delete' },
        { kind: 'exports.naming', label: 'download files naming them that still work, e.g. an issues CSV (deleted)', count: naming.length, action: 'delete' },
      ),
    };
  }

  async describe(subject: Subject): Promise<Tally> {
    return this.tally(await this.find(subject, true));
  }

  /** Others' files that name them are never handed to them. */
  async export(subject: Subject): Promise<Record<string, unknown>> {
    const { own } = await this.find(subject, false);
    return { liveDownloads: own.map((f) => ({ filename: f.filename, expiresAt: f.expiresAt })) };
  }

  async forget(subject: Subject): Promise<Tally> {
    const found = await this.find(subject, true);
    for (const f of [...found.own, ...found.naming]) await this.store.remove(f.token);
    return this.tally(found);
  }
}
