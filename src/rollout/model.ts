/**
 * The rollout's people model, shared by the communication plan and office hours: who is in which user
 * group (people who do the same tasks in the new system) and which cohort (a wave with its own go-live
 * date and time zone). Plain data; `rollout-file.ts` reads it from `ROLLOUT_FILE`.
 */

/** Someone named in the rollout file: Entra object id and the name people know them by. */
export interface RolloutPerson {
  id: string;
  name: string;
}

/** People who do the same tasks in the new system (enumerators, supervisors, data managers). */
export interface UserGroup {
  id: string;
  name: string;
  description: string;
  /** Entra object ids. */
  members: string[];
}

/** A wave of the rollout: its people (and teams, whose members belong to it), go-live date and zone. */
export interface Cohort {
  id: string;
  name: string;
  /** `YYYY-MM-DD`, a date in the cohort's own time zone. */
  goLive: string;
  /** IANA zone, e.g. `Africa/Nairobi`. */
  timeZone: string;
  /** Entra object ids. */
  users: string[];
  /** Teams ids: all their members belong to the cohort (read from the team's roster when needed). */
  teams: string[];
}

export interface Rollout {
  people: RolloutPerson[];
  groups: UserGroup[];
  cohorts: Cohort[];
}

export const EMPTY_ROLLOUT: Rollout = { people: [], groups: [], cohorts: [] };

export function cohortById(rollout: Rollout, id: string): Cohort | undefined {
  return rollout.cohorts.find((c) => c.id === id);
}

export function groupById(rollout: Rollout, id: string): UserGroup | undefined {
  return rollout.groups.find((g) => g.id === id);
}

/** The name the rollout file gives a person, if any. */
export function nameInRollout(rollout: Rollout, id: string): string | undefined {
  const key = id.toLowerCase();
  return rollout.people.find((p) => p.id.toLowerCase() === key)?.name;
}

/** The cohorts a person belongs to by name (team membership is resolved by the caller). */
export function cohortsOf(rollout: Rollout, userId: string): Cohort[] {
  const key = userId.toLowerCase();
  return rollout.cohorts.filter((c) => c.users.some((u) => u.toLowerCase() === key));
}
