import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import type { AdaptiveCard } from '../cards/template.js';
import type { Clock } from '../clock.js';
import type { OutboundMessage, Outbox } from '../outbound/message.js';
import { allows } from '../roles/permissions.js';
import type { Person } from '../roles/roles.js';
import { fromJsonColumn, readEntity, retryOnConflict, toJsonColumn } from '../storage/entities.js';
import { deleteIfThere, isConflict, safeKey, type Tables } from '../storage/tables.js';
import { isBlank } from '../text/blank.js';
import { clip, cutUnits } from '../text/fit.js';
import { oneLine } from '../text/one-line.js';
import { type CelebrateErrors, type CelebrateValues, type CelebrationView, celebrationCard } from './cards.js';
import { channelNotSetUp, TEXT_LIMITS } from './model.js';
import type { Caller, Refusal } from './service.js';

/**
 * Celebrations: a champion (or the rollout team) celebrates colleagues in the support channel with real
 * @mentions; anyone adds kudos, once each, and the count is redrawn in place. Wins the app notices in the
 * rollout's own figures (wins.ts) are posted the same way, each once.
 */

export interface Celebration {
  id: string;
  people: { id: string; name: string }[];
  what: string;
  image: string;
  by: Person | null;
  at: string;
  kudos: number;
}

/*
 * Table `Celebrations`
 *   PK 'c'           RK <celebration id>  → people, what, image, by, at, kudos (ETag-guarded count),
 *                                           kudosExpired (kudos rows retention deleted, still counted)
 *   PK 'k~<id>'      RK <person id>       → that person's kudos (created once: 409 for a second click)
 */
export const CELEBRATIONS_TABLE = 'Celebrations';
export const CELEBRATION_POST = 'celebration';

export class CelebrationStore {
  private constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<CelebrationStore> {
    return new CelebrationStore(await tables.table(CELEBRATIONS_TABLE));
  }

  /** Creates it; false when one with this id exists (a retried submit, a win already posted). */
  async create(c: Celebration): Promise<boolean> {
    try {
      await this.table.createEntity({
        partitionKey: 'c',
        rowKey: safeKey(c.id),
        people: toJsonColumn(c.people),
        what: c.what,
        image: c.image,
        by: toJsonColumn(c.by),
        at: c.at,
        kudos: 0,
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  async get(id: string): Promise<(Celebration & { etag: string; kudosExpired: number }) | undefined> {
    const e = await readEntity<Record<string, unknown>>(this.table, 'c', safeKey(id));
    if (!e) return undefined;
    return {
      id,
      people: fromJsonColumn(e.people, []),
      what: String(e.what ?? ''),
      image: String(e.image ?? ''),
      by: fromJsonColumn<Person | null>(e.by, null),
      at: String(e.at ?? ''),
      kudos: Number(e.kudos ?? 0),
      kudosExpired: Number(e.kudosExpired ?? 0),
      etag: e.etag,
    };
  }

  /** Every celebration (a rollout posts tens to hundreds: one partition read). */
  async all(): Promise<Celebration[]> {
    const out: Celebration[] = [];
    for await (const e of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: `PartitionKey eq 'c'` } })) {
      const c = await this.get(String(e.rowKey));
      if (c) out.push(c);
    }
    return out;
  }

  /** Rewrites who is celebrated and who celebrated (privacy: `forget`), ETag-guarded. */
  async replacePeople(id: string, change: (c: Celebration) => Pick<Celebration, 'people' | 'by'>): Promise<void> {
    await retryOnConflict(
      async () => {
        const c = await this.get(id);
        if (!c) return;
        const next = change(c);
        await this.table.updateEntity(
          { partitionKey: 'c', rowKey: safeKey(id), people: toJsonColumn(next.people), by: toJsonColumn(next.by) },
          'Merge',
          { etag: c.etag },
        );
      },
      { what: 'Celebration' },
    );
  }

  /** When this person sent kudos for the celebration, if they did. */
  async kudosAt(id: string, personId: string): Promise<string | undefined> {
    const e = await readEntity<{ at: string }>(this.table, `k~${safeKey(id)}`, safeKey(personId.toLowerCase()));
    return e ? String(e.at ?? '') : undefined;
  }

  /** Moves a person's kudos to another key (a pseudonym): the count stays, the person goes. */
  async moveKudos(id: string, from: string, to: string): Promise<void> {
    const at = await this.kudosAt(id, from);
    if (at === undefined) return;
    await this.table.upsertEntity({ partitionKey: `k~${safeKey(id)}`, rowKey: safeKey(to.toLowerCase()), at }, 'Replace');
    await deleteIfThere(this.table, `k~${safeKey(id)}`, safeKey(from.toLowerCase()));
  }

  /** One person's kudos: counted once; returns the celebration with its count after it. */
  async addKudos(id: string, personId: string, at: string): Promise<{ fresh: boolean; celebration: Celebration } | undefined> {
    const current = await this.get(id);
    if (!current) return undefined;
    try {
      await this.table.createEntity({ partitionKey: `k~${safeKey(id)}`, rowKey: safeKey(personId.toLowerCase()), at });
    } catch (err) {
      if (!isConflict(err)) throw err;
      return { fresh: false, celebration: current };
    }
    // The count is the number of kudos rows (ours included), so a crash between the two writes is mended by
    // the next kudos. It only ever rises: a writer that finds a count at least as high as its own is done
    // (whoever wrote it counted this row too), so many people clicking at once don't fight over the row.
    const rows = await this.countKudos(id);
    const celebration = await retryOnConflict(
      async () => {
        const c = await this.get(id);
        if (!c) throw new Error(`celebration ${id} vanished`);
        const counted = rows + c.kudosExpired;
        if (c.kudos >= counted) return c;
        await this.table.updateEntity({ partitionKey: 'c', rowKey: safeKey(id), kudos: counted }, 'Merge', { etag: c.etag });
        return { ...c, kudos: counted };
      },
      { what: 'Kudos', attempts: 50 },
    );
    return { fresh: true, celebration };
  }

  /**
   * Retention: deletes up to `limit` kudos rows given before `before` (who gave them, when), each still
   * counted through the celebration's `kudosExpired`. Only celebrations posted before `before` can hold any.
   * Rows go first, then the tally: a fault between them leaves the tally short, never counting a row twice
   * (and the shown count only ever rises).
   */
  async expireKudos(before: Date, limit: number): Promise<number> {
    const cutoff = before.toISOString();
    let deleted = 0;
    for (const c of await this.all()) {
      if (deleted >= limit) break;
      if (!c.at || c.at >= cutoff) continue;
      const pk = `k~${safeKey(c.id)}`;
      let gone = 0;
      for await (const row of this.table.listEntities<{ at: string }>({
        queryOptions: { filter: odata`PartitionKey eq ${pk} and at lt ${cutoff}`, select: ['RowKey', 'at'] },
      })) {
        if (deleted + gone >= limit) break;
        if (await deleteIfThere(this.table, pk, row.rowKey!)) gone++;
      }
      if (!gone) continue;
      await retryOnConflict(
        async () => {
          const cur = await this.get(c.id);
          if (!cur) return;
          await this.table.updateEntity({ partitionKey: 'c', rowKey: safeKey(c.id), kudosExpired: cur.kudosExpired + gone }, 'Merge', { etag: cur.etag });
        },
        { what: 'Kudos', attempts: 50 },
      );
      deleted += gone;
    }
    return deleted;
  }

  private async countKudos(id: string): Promise<number> {
    let n = 0;
    for await (const _ of this.table.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${`k~${safeKey(id)}`}`, select: ['RowKey'] },
    }))
      n++;
    return n;
  }
}

export interface CelebrationDeps {
  store: CelebrationStore;
  outbox: Outbox;
  clock: Clock;
  /** The name a person goes by (who spoke to the app, the rollout file), if known. */
  nameOf(id: string): Promise<string | undefined>;
  /** People the app knows by name: the choices where the client has no people picker. */
  knownPeople(): Promise<{ id: string; name: string }[]>;
  /**
   * The person with this id among the support channel's team members (Teams' roster), or undefined: someone
   * Teams' people picker offered who never spoke to the app and is not in the rollout file. Optional: without
   * it only people the app knows can be celebrated.
   */
  supportTeamMember?(id: string): Promise<{ id: string; name: string } | undefined>;
  /** Whether `setup support` was done (celebrations are posted there). */
  supportChannelReady(): Promise<boolean>;
}

const MAX_PEOPLE = 10;
/** The form's fallback choices: at most this many people, in at most this many characters of the card. */
const FORM_PEOPLE = 100;
const FORM_PEOPLE_CHARS = 8_000;
/** Someone the support team's roster would have been asked about, had it answered. */
const UNCHECKED = Symbol('unchecked');
const ROSTER_UNREADABLE = "I couldn't check the support team's members just now; try Post again in a minute. Nothing was posted.";
/** Longer than any Entra or Teams user id: shown again on the form, such a value could not fit the card. */
const MAX_ID_CHARS = 200;

export class CelebrationService {
  constructor(private readonly d: CelebrationDeps) {}

  /** The form's fallback choices (people the app knows), for champions and the rollout team. */
  async formPeople(caller: Caller): Promise<{ id: string; name: string }[] | Refusal> {
    if (!allows(caller.role, 'broadcast.celebrate')) return refusal();
    // Up to 100, and fewer of the longest names: the form shown again with what was typed must stay one Teams card.
    const out: { id: string; name: string }[] = [];
    let used = 0;
    for (const p of await this.d.knownPeople()) {
      used += JSON.stringify(p).length;
      if (out.length >= FORM_PEOPLE || used > FORM_PEOPLE_CHARS) break;
      out.push(p);
    }
    return out;
  }

  /** Checks the form and posts the celebration to the support channel; bad input changes nothing. */
  async celebrate(
    caller: Caller,
    values: CelebrateValues,
    requestKey: string,
  ): Promise<Refusal | { kind: 'invalid'; values: CelebrateValues; errors: CelebrateErrors } | { kind: 'posted'; celebration: Celebration; fresh: boolean }> {
    if (!allows(caller.role, 'broadcast.celebrate')) return refusal();
    const errors: CelebrateErrors = {};
    // Entra object ids are GUIDs, the same in either case: one person named twice is mentioned once.
    // One pass with a set: a paste of thousands of names must not cost their square (it blocked the event loop).
    const seen = new Set<string>();
    const ids: string[] = [];
    for (const id of values.who.split(',')) {
      const t = id.trim();
      if (!t || seen.has(t.toLowerCase())) continue;
      seen.add(t.toLowerCase());
      ids.push(t);
    }
    let people: { id: string; name: string }[] = [];
    const bad = new Set<string>();
    if (!ids.length) errors.who = 'Pick at least one person.';
    else if (ids.length > MAX_PEOPLE) errors.who = `Pick at most ${MAX_PEOPLE} people.`;
    else {
      // "who" is written by the client: only people the server can name are mentioned, never a forged id.
      const found = await this.whoIs(ids);
      for (const [i, id] of ids.entries()) if (!found[i]) bad.add(id);
      // Teams' roster could not be read (throttled, down): those people are not unknown, just not checked yet.
      const unchecked = found.some((p) => p === UNCHECKED);
      if (bad.size || unchecked) errors.who = [bad.size ? unknownPeople([...bad]) : '', unchecked ? ROSTER_UNREADABLE : ''].filter(Boolean).join(' ');
      else people = found.map((p) => p as { id: string; name: string });
    }
    const what = values.what.trim();
    // Zero-width and other format characters alone show as an empty post.
    if (isBlank(what)) errors.what = 'Say what they achieved.';
    else if (what.length > TEXT_LIMITS.celebration) errors.what = `That is ${what.length} characters; at most ${TEXT_LIMITS.celebration}.`;
    const image = values.image.trim();
    if (image && (!/^https:\/\/\S+$/i.test(image) || image.length > TEXT_LIMITS.url)) errors.image = 'Give an https:// address, or leave it empty.';
    if (Object.keys(errors).length) {
      // Shown again in the form, bounded: a huge paste must still fit in a card Teams will show (40 KB).
      const shown = {
        // Only what could be someone's id (names pasted one per line are one long "id"): the picker shows ids;
        // and only those the app can vouch for: an unknown id is named in the message, not picked again.
        who: ids.filter((id) => id.length <= MAX_ID_CHARS && !bad.has(id)).slice(0, MAX_PEOPLE + 1).join(','),
        // Cut between whole characters: half an emoji would come back as U+FFFD.
        what: cutUnits(values.what, TEXT_LIMITS.celebration * 4),
        image: cutUnits(values.image, TEXT_LIMITS.url + 1),
      };
      return { kind: 'invalid', values: shown, errors: { ...errors, form: 'Some fields need a look.' } };
    }
    if (!(await this.d.supportChannelReady())) {
      return { kind: 'message', text: channelNotSetUp('support') };
    }
    const celebration: Celebration = {
      // The form's card and what it says: the same Post pressed again (or Teams' retry) posts once, an edited
      // form pressed again posts the edited win.
      id: `c-${createHash('sha256').update(JSON.stringify([requestKey, ...celebrationContent(people, what, image)])).digest('hex').slice(0, 10)}`,
      people,
      what,
      image,
      by: caller.person,
      at: this.d.clock.now().toISOString(),
      kudos: 0,
    };
    return this.post(celebration);
  }

  /**
   * Each id as the person the app can vouch for, or undefined: someone the app knows (spoke to it, or in the
   * rollout file), else a member of the support channel's team as Teams' roster has them.
   */
  private async whoIs(ids: readonly string[]): Promise<({ id: string; name: string } | typeof UNCHECKED | undefined)[]> {
    const known = new Map((await this.d.knownPeople()).map((p) => [p.id.toLowerCase(), p.name]));
    return Promise.all(
      ids.map(async (id) => {
        // Longer than any id (names pasted one per line): no one, and not a key to look up.
        if (id.length > MAX_ID_CHARS) return undefined;
        const name = known.get(id.toLowerCase()) ?? (await this.d.nameOf(id));
        if (name !== undefined) return { id, name: name || 'a colleague' };
        let member: { id: string; name: string } | undefined;
        try {
          member = await this.d.supportTeamMember?.(id);
        } catch {
          return UNCHECKED;
        }
        return member ? { id, name: member.name || 'a colleague' } : undefined;
      }),
    );
  }

  /** A win the app noticed: posted once under its key (a second instance or run finds it exists). */
  async postWin(key: string, what: string, people: { id: string; name: string }[] = []): Promise<boolean> {
    const id = `w-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
    const res = await this.post({ id, people, what, image: '', by: null, at: this.d.clock.now().toISOString(), kudos: 0 });
    return res.fresh;
  }

  private async post(c: Celebration): Promise<{ kind: 'posted'; celebration: Celebration; fresh: boolean }> {
    const fresh = await this.d.store.create(c);
    const stored = (await this.d.store.get(c.id)) ?? c;
    // Enqueued on a retry too: the outbound path sends each key once.
    await this.d.outbox.enqueue([
      {
        op: 'send',
        key: `${CELEBRATION_POST}|${c.id}`,
        to: { kind: 'channel', role: 'support' },
        content: celebrationCard(viewOf(stored)),
        post: { kind: CELEBRATION_POST, id: c.id, version: 0 },
      },
    ]);
    return { kind: 'posted', celebration: stored, fresh };
  }

  /** Kudos from anyone, once each; the post is redrawn for everyone, the clicker sees it at once. */
  async kudos(caller: Caller, id: string): Promise<Refusal | { kind: 'card'; card: AdaptiveCard; fresh: boolean }> {
    if (!allows(caller.role, 'broadcast.kudos')) return refusal();
    const res = await this.d.store.addKudos(id, caller.person.id, this.d.clock.now().toISOString());
    if (!res) return { kind: 'message', text: 'This celebration is no longer known.' };
    const card = celebrationCard(viewOf(res.celebration));
    if (res.fresh) {
      const update: OutboundMessage = {
        op: 'update',
        key: `${CELEBRATION_POST}|${id}|k${res.celebration.kudos}`,
        post: { kind: CELEBRATION_POST, id },
        version: res.celebration.kudos,
        content: card,
      };
      await this.d.outbox.enqueue([update]);
    }
    return {
      kind: 'card',
      card: res.fresh ? card : celebrationCard(viewOf(res.celebration), 'You already sent kudos for this one.'),
      fresh: res.fresh,
    };
  }
}

/** What makes two presses of one form the same celebration: who (any order, any case), what, the picture. */
function celebrationContent(people: readonly { id: string }[], what: string, image: string): string[] {
  return [people.map((p) => p.id.toLowerCase()).sort().join(','), what, image];
}

/** Names the entries nobody can vouch for (cut short: "who" is written by the client and may be anything). */
function unknownPeople(bad: readonly string[]): string {
  const named = bad.slice(0, 3).map((id) => `"${clip(oneLine(id.slice(0, 120)), 60)}"`);
  const more = bad.length > 3 ? ` and ${bad.length - 3} more` : '';
  return `${named.join(', ')}${more}: not someone Rollout Desk knows. Pick people from the list (colleagues in the support channel's team or the rollout file).`;
}

function viewOf(c: Celebration): CelebrationView {
  return { id: c.id, people: c.people, what: c.what, image: c.image, by: c.by ? { name: c.by.name } : null, at: c.at, kudos: c.kudos };
}

function refusal(): Refusal {
  return { kind: 'refused', text: 'That is for champions and the rollout team. If you need it, ask your rollout team.' };
}
