import type { Clock } from '../clock.js';
import type { ConversationStore } from '../conversations/store.js';
import type { ExportStore } from '../exports/store.js';
import { allows } from '../roles/permissions.js';
import type { Person, Role } from '../roles/roles.js';
import type { ForgetLog } from './forget-log.js';
import type { ForgetJob, ForgetJobs } from './jobs.js';
import { type Holding, isSubject, type Pseudonym, type Subject } from './personal-data.js';
import type { Pseudonyms } from './pseudonym.js';
import type { FeatureTally, PersonalDataRegistry } from './registry.js';

/** Who is asking: their identity, every key Teams knows them by, and their role (answered by src/roles). */
export interface PrivacyCaller {
  person: Person;
  keys: string[];
  role: Role;
}

/** A person the rollout team named (an @mention, an Entra object id, a pick from the people picker). */
export interface Named {
  id: string;
  name?: string;
  /** The Entra object id an @mention carries besides the Teams id it names the person by (`id`). */
  aadObjectId?: string;
}

/** What `forget` would do, for the confirmation card. */
export interface ForgetPlan {
  subject: Subject;
  /** Who they are to the rollout team: the name Teams gave, else the key. */
  name: string;
  holdings: Holding[];
  notes: string[];
  /** Ties "Forget" to this plan for an hour (the card's data can be forged; this cannot). */
  token: string;
}

export type ForgetOutcome =
  | { kind: 'refused'; message: string }
  | { kind: 'done'; name: string; pseudonym: Pseudonym; holdings: Holding[]; notes: string[] }
  /** A fault stopped it: what was done, and the feature where it stopped (running it again finishes it). */
  | { kind: 'stopped'; name: string; pseudonym: Pseudonym; holdings: Holding[]; stoppedAt: string; cause: unknown };

export interface PrivacyServiceDeps {
  registry: PersonalDataRegistry;
  pseudonyms: Pseudonyms;
  exports: Pick<ExportStore, 'save'>;
  log: ForgetLog;
  conversations: Pick<ConversationStore, 'personalChat' | 'personName' | 'knownPeople' | 'peopleNamed'>;
  /** A person's role by Entra object id, to tell the rollout team to take them off a role list too. */
  roleOf: (aadObjectId: string) => Promise<Role>;
  clock: Clock;
  /** The durable forget jobs behind `startForget` (tests of the other duties leave it out). */
  jobs?: Pick<ForgetJobs, 'begin'>;
}

/** How long a `my data` download link works. */
const DOWNLOAD_TTL_MS = 3_600_000;

/**
 * The privacy duties as the Teams layer calls them: `my data` for anyone (their own data, as a JSON file
 * behind a signed, expiring link) and `forget` for the rollout team (what will go, confirmed, then done in
 * every feature). Each checks the caller's role again; results are plain values.
 */
export class PrivacyService {
  constructor(private readonly d: PrivacyServiceDeps) {}

  /**
   * Everything the app holds about the person, as a JSON download made by `createdBy`. The subject is who
   * Teams said was asking (the my data job keeps it from that turn), never someone named in card data.
   * `progress` hears each feature's part read.
   */
  async myData(subject: Subject, createdBy: string, progress?: (done: number, total: number) => void): Promise<{ token: string; expiresAt: string; filename: string }> {
    const now = this.d.clock.now();
    const data = {
      about: { name: subject.name, keys: subject.ids },
      madeAt: now.toISOString(),
      whatThisIs:
        'Everything Rollout Desk holds about you, by feature. Issues you logged and questions you asked show only your part: other people are not named.',
      ...(await this.d.registry.export(subject, progress)),
    };
    const filename = `my-data-${now.toISOString().slice(0, 10)}.json`;
    const saved = await this.d.exports.save(
      { filename, contentType: 'application/json', content: JSON.stringify(data, null, 2), createdBy },
      DOWNLOAD_TTL_MS,
    );
    return { ...saved, filename };
  }

  /**
   * Every key the named person is known by (their chat gives the other of Entra id and Teams id) and the
   * name they go by, so each feature finds all of their rows.
   */
  async subjectOf(named: Named): Promise<Subject> {
    // A mention names the person by their Teams id; most features key them by their Entra id, which the mention
    // often carries: without it, someone who never chatted with the bot would be found by neither.
    const given = [named.id, named.aadObjectId].filter((k): k is string => !!k?.trim()).map((k) => k.trim());
    const ids = new Set(given);
    for (const k of given) if (/^[0-9A-F-]{36}$/i.test(k)) ids.add(k.toLowerCase());
    let name = named.name;
    for (const id of [...ids]) {
      const chat = await this.d.conversations.personalChat(id);
      if (chat?.user?.id) ids.add(chat.user.id);
      if (chat?.user?.aadObjectId) ids.add(chat.user.aadObjectId);
      name ??= chat?.user?.name ?? (await this.d.conversations.personName(id));
    }
    return name ? { ids: [...ids], name } : { ids: [...ids] };
  }

  /** The people the pick card offers where the client has no people picker (the app's known people). */
  async pickChoices(caller: PrivacyCaller): Promise<{ id: string; name: string }[] | { kind: 'refused'; message: string }> {
    if (!allows(caller.role, 'privacy.forget')) return { kind: 'refused', message: 'That is for the rollout team only.' };
    return (await this.d.conversations.knownPeople()).slice(0, 100);
  }

  /** The people the app knows by this name (case-insensitive, whole name): `forget Adele Vance` typed out. */
  async findByName(caller: PrivacyCaller, text: string): Promise<Named[] | { kind: 'refused'; message: string }> {
    if (!allows(caller.role, 'privacy.forget')) return { kind: 'refused', message: 'That is for the rollout team only.' };
    const wanted = text.trim().replace(/\s+/g, ' ').toLowerCase();
    return this.d.conversations.peopleNamed((name) => name.trim().replace(/\s+/g, ' ').toLowerCase() === wanted);
  }

  /** What `forget` would remove or anonymise, counted per kind, with the token that confirms it. */
  async prepareForget(caller: PrivacyCaller, named: Named): Promise<ForgetPlan | { kind: 'refused'; message: string }> {
    if (!allows(caller.role, 'privacy.forget')) return { kind: 'refused', message: 'That is for the rollout team only.' };
    const subject = await this.subjectOf(named);
    const found = await this.d.registry.describe(subject);
    // The keys and the name the card shows and sends back (the key when no name is known): the token confirms both.
    const shown: Subject = { ids: subject.ids, name: subject.name ?? named.id };
    return {
      subject: shown,
      name: shown.name ?? named.id,
      holdings: found.flatMap((f) => f.tally.holdings),
      notes: [...found.flatMap((f) => f.tally.notes ?? []), ...(await this.roleNotes(subject))],
      token: this.d.pseudonyms.confirmation(shown),
    };
  }

  /**
   * Starts forgetting the person as a durable background job (jobs.ts), once the rollout team confirmed the
   * plan (`token`): the role and the token are checked here, on the server, before anything is written. A
   * second confirm while a job for the person runs finds that job (`fresh: false`) and starts nothing.
   */
  async startForget(caller: PrivacyCaller, subject: Subject, token: string): Promise<{ kind: 'refused'; message: string } | { kind: 'started'; job: ForgetJob; fresh: boolean }> {
    const refused = this.refuseForget(caller, subject, token);
    if (refused) return refused;
    if (!this.d.jobs) throw new Error('forget jobs are not set up');
    const started = await this.d.jobs.begin(subject, { by: this.askerInLog(caller, subject), notify: caller.person.id });
    return { kind: 'started', ...started };
  }

  /** Why this caller may not forget this person with this token (checked on the server), or undefined when they may. */
  private refuseForget(caller: PrivacyCaller, subject: Subject, token: string): { kind: 'refused'; message: string } | undefined {
    if (!allows(caller.role, 'privacy.forget')) return { kind: 'refused', message: 'That is for the rollout team only.' };
    if (!this.d.pseudonyms.confirms(subject, token)) {
      return { kind: 'refused', message: 'This confirmation has expired or does not match. Type "forget" with the person again.' };
    }
    return undefined;
  }

  /** Who the log names as asking: someone forgetting themselves is named by their pseudonym too. */
  private askerInLog(caller: PrivacyCaller, subject: Subject): string {
    return caller.keys.some((k) => isSubject(subject, k)) || isSubject(subject, caller.person.id) ? this.d.pseudonyms.of(subject).id : caller.person.id;
  }

  /**
   * The end of a forget every part of which finished: logged (counts and the pseudonym only; `once` makes a
   * resumed job's record idempotent), and the notes for the rollout team.
   */
  async conclude(subject: Subject, by: string, done: readonly FeatureTally[], once?: { at: Date; id: string }): Promise<Extract<ForgetOutcome, { kind: 'done' }>> {
    const pseudonym = this.d.pseudonyms.of(subject);
    await this.d.log.record(this.d.clock.now(), by, pseudonym.name, done, once);
    return {
      kind: 'done',
      name: subject.name ?? pseudonym.name,
      pseudonym,
      holdings: done.flatMap((f) => f.tally.holdings),
      notes: [...done.flatMap((f) => f.tally.notes ?? []), ...(await this.roleNotes(subject))],
    };
  }

  /** A role comes from settings the app only reads: the rollout team must take the person off there. */
  private async roleNotes(subject: Subject): Promise<string[]> {
    for (const id of subject.ids) {
      const role = await this.d.roleOf(id);
      if (role === 'rolloutTeam') return ['They are on the rollout team by ROLLOUT_TEAM_IDS: take them off that setting.'];
      if (role === 'champion') return ['They are a champion (CHAMPION_IDS or the champions team): take them off there.'];
    }
    return [];
  }
}
