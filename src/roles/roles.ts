/** A person acting in Teams, as the features see them: no botbuilder types. */
export interface Actor {
  /** Teams user id (29:…); what proactive 1:1 messages address. */
  id: string;
  /** Entra object id; what role lists are keyed on. */
  aadObjectId?: string;
  name: string;
}

export type Role = 'staff' | 'champion' | 'rolloutTeam';

const RANK: Record<Role, number> = { staff: 0, champion: 1, rolloutTeam: 2 };

/** Every action that needs more than the staff role, and the least role that may do it. */
export const ACTION_ROLES = {
  'issue.triage': 'champion',
  'issue.listQueue': 'champion',
  'faq.gaps': 'champion',
  'faq.searchGuidance': 'champion',
  'issues.export': 'rolloutTeam',
  'channel.setup': 'rolloutTeam',
  'broadcast.manage': 'rolloutTeam',
} as const satisfies Record<string, Role>;

export type GuardedAction = keyof typeof ACTION_ROLES;

export function roleAllows(role: Role, action: GuardedAction): boolean {
  return roleAtLeast(role, ACTION_ROLES[action]);
}

/** Whether `role` includes `needed` (the rollout team can do what champions can, champions what staff can). */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export function roleLabel(role: Role): string {
  return { staff: 'Staff', champion: 'Champion', rolloutTeam: 'Rollout team' }[role];
}

/** Reads the Entra object ids of a team's members (paged roster call, in the Teams layer). */
export interface RosterReader {
  teamMemberIds(teamId: string): Promise<string[]>;
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
  private roster: { ids: Set<string>; at: number } | undefined;
  private loading: Promise<Set<string>> | undefined;

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

  async may(actor: Pick<Actor, 'aadObjectId'>, action: GuardedAction): Promise<boolean> {
    return roleAllows(await this.roleOf(actor), action);
  }

  /** Everyone who is a champion by configuration or by champions-team membership (Entra ids). */
  async championIds(): Promise<string[]> {
    const ids = new Set(this.champions);
    if (this.settings.championsTeamId) for (const id of await this.championsTeam()) ids.add(id);
    return [...ids];
  }

  /** Forget the cached roster (e.g. after a membership change event). */
  invalidate(): void {
    this.roster = undefined;
  }

  private async championsTeam(): Promise<Set<string>> {
    const teamId = this.settings.championsTeamId;
    if (!teamId || !this.rosterReader) return new Set();
    if (this.roster && this.now() - this.roster.at < this.settings.cacheMs) return this.roster.ids;
    this.loading ??= this.rosterReader
      .teamMemberIds(teamId)
      .then((ids) => {
        const set = new Set(ids.map(normalise));
        this.roster = { ids: set, at: this.now() };
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
