import type { Actor, Role, Roles } from './roles.js';

/**
 * Local demo only: the Agents Playground acts as one user, so `demo as champion` lets a newcomer see what
 * each role sees. Kept in memory for this process; never constructed outside local mode.
 */
export class DemoRoles {
  private readonly overrides = new Map<string, Role>();

  constructor(private readonly roles: Pick<Roles, 'roleOf'>) {}

  async roleOf(actor: Pick<Actor, 'aadObjectId' | 'id'>): Promise<Role> {
    return this.overrides.get(keyOf(actor)) ?? this.roles.roleOf(actor);
  }

  isSwitched(actor: Pick<Actor, 'aadObjectId' | 'id'>): boolean {
    return this.overrides.has(keyOf(actor));
  }

  /** Switches the user's role, or back to their real one with `undefined`. */
  set(actor: Pick<Actor, 'aadObjectId' | 'id'>, role: Role | undefined): void {
    if (role) this.overrides.set(keyOf(actor), role);
    else this.overrides.delete(keyOf(actor));
  }
}

const keyOf = (actor: Pick<Actor, 'aadObjectId' | 'id'>) => actor.aadObjectId ?? actor.id;

/** "staff", "champion", "rollout team" (as typed) → a role; undefined for anything else. */
export function parseDemoRole(text: string): Role | undefined {
  const t = text.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
  if (t === 'staff') return 'staff';
  if (t === 'champion') return 'champion';
  if (t === 'rollout team' || t === 'rolloutteam' || t === 'team') return 'rolloutTeam';
  return undefined;
}
