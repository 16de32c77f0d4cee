/** A person acting in Teams, as the features see them: no botbuilder types. */
export interface Actor {
  /** Teams user id (29:…); what proactive 1:1 messages address. */
  id: string;
  /** Entra object id; what role lists are keyed on. */
  aadObjectId?: string;
  name: string;
}

export type Role = 'staff' | 'champion' | 'rolloutTeam';

/** How long an instance keeps the champion list: its names were read no earlier than this. */
export const CHAMPION_LIST_TTL_MS = 60_000;

const RANK: Record<Role, number> = { staff: 0, champion: 1, rolloutTeam: 2 };

/** Whether `role` includes `needed` (the rollout team can do what champions can, champions what staff can). */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export function roleLabel(role: Role): string {
  return { staff: 'Staff', champion: 'Champion', rolloutTeam: 'Rollout team' }[role];
}

/** A person as features store them: the Entra object id when Teams gives one (stable across chats). */
export interface Person {
  id: string;
  name: string;
}

/** Longer Teams display names are cut here, so every feature can store and show them. */
const MAX_NAME = 120;

export function personOf(actor: Actor): Person {
  const name = actor.name.trim() || 'Someone';
  return { id: actor.aadObjectId ?? actor.id, name: name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name };
}

/**
 * A roster read Teams did not answer (throttled, down, timed out): unlike a team the app is not in, worth trying
 * again later.
 */
export class RosterUnanswered extends Error {}

/** Reads a team's members, Entra object id and display name (paged roster call, in the Teams layer). */
export interface RosterReader {
  teamMembers(teamId: string): Promise<Person[]>;
}

export interface RoleSettings {
  championIds: string[];
  rolloutTeamIds: string[];
  championsTeamId?: string;
  cacheMs: number;
}

/** Answers "what role has this user?" and "may this user do this?", for every feature, on the server. */
export class Roles {
  private readonly champions: Set<string>;
  private readonly rolloutTeam: Set<string>;
  private roster: { ids: Set<string>; names: Map<string, string>; at: number } | undefined;
  private loading: Promise<Set<string>> | undefined;
  private championCache: { at: number; list: Promise<{ people: Person[]; at: Date }> } | undefined;

  constructor(
    private readonly settings: RoleSettings,
    private readonly rosterReader?: RosterReader,
    private readonly now: () => number = Date.now,
    private readonly onRosterError: (err: unknown) => void = () => {},
  ) {
    this.champions = new Set(settings.championIds.map(normalise));
    this.rolloutTeam = new Set(settings.rolloutTeamIds.map(normalise));
  }

  async roleOf(actor: Pick<Actor, 'aadObjectId'>): Promise<Role> {
    const id = actor.aadObjectId ? normalise(actor.aadObjectId) : undefined;
    if (!id) return 'staff';
    if (this.rolloutTeam.has(id)) return 'rolloutTeam';
    if (this.champions.has(id)) return 'champion';
    if (this.settings.championsTeamId && (await this.championsTeam()).has(id)) return 'champion';
    return 'staff';
  }

  /** Everyone who is a champion by configuration or by champions-team membership (Entra ids). */
  async championIds(): Promise<string[]> {
    const ids = new Set(this.champions);
    if (this.settings.championsTeamId) for (const id of await this.championsTeam()) ids.add(id);
    return [...ids];
  }

  /**
   * Everyone who may be assigned, with the name people know them by: from the champions team's roster,
   * else `nameOf` (who has spoken to the bot), else the Entra id itself, whole. Every triage card lists
   * them, so the list is kept for a minute rather than read on every click.
   */
  async championList(nameOf: (id: string) => Promise<string | undefined>): Promise<Person[]> {
    return (await this.championListRead(nameOf)).people;
  }

  /**
   * The champion list and when it was read (this instance's clock): its names were read no earlier. The same list
   * (the same array) until it is read again, so what is worked out from it can be kept as long as it is.
   */
  championListRead(nameOf: (id: string) => Promise<string | undefined>): Promise<{ people: Person[]; at: Date }> {
    const now = this.now();
    if (this.championCache && now - this.championCache.at < CHAMPION_LIST_TTL_MS) return this.championCache.list;
    const list = this.championIds()
      .then((ids) => Promise.all(ids.map(async (id) => ({ id, name: this.roster?.names.get(id) ?? (await nameOf(id)) ?? id }))))
      .then((people) => ({ people, at: new Date(now) }));
    this.championCache = { at: now, list };
    list.catch(() => {
      this.championCache = undefined; // a failed read is not remembered
    });
    return list;
  }

  private async championsTeam(): Promise<Set<string>> {
    const teamId = this.settings.championsTeamId;
    if (!teamId || !this.rosterReader) return new Set();
    if (this.roster && this.now() - this.roster.at < this.settings.cacheMs) return this.roster.ids;
    this.loading ??= this.rosterReader
      .teamMembers(teamId)
      .then((members) => {
        const set = new Set(members.map((m) => normalise(m.id)));
        const names = new Map(members.filter((m) => m.name).map((m) => [normalise(m.id), m.name]));
        this.roster = { ids: set, names, at: this.now() };
        return set;
      })
      .catch((err: unknown) => {
        // A roster fault must not lock champions out for the whole cache period: keep the last good list.
        this.onRosterError(err);
        return this.roster?.ids ?? new Set<string>();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}

function normalise(id: string): string {
  return id.trim().toLowerCase();
}
