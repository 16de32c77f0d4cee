/**
 * The privacy duties as one small contract each feature fulfils next to its own store: say what it holds
 * about a person (`describe`, for the confirmation card), hand it over (`export`, for `my data`), remove or
 * anonymise it (`forget`) and delete what is older than the retention period (`expire`). The registry
 * (registry.ts) runs every feature's implementation; a new feature adds one implementation and registers it
 * in src/app.ts.
 */

/** Who a duty is about: every key the app may know them by. */
export interface Subject {
  /** Entra object id and Teams user id (29:…), as features store them; never empty. */
  ids: readonly string[];
  /** The name they go by, when known. */
  name?: string;
}

/**
 * The stable stand-in that takes a forgotten person's place in the organisation's own records (an issue
 * they logged stays, reported by "Former member 3f9a"). The same person always gets the same one, so a
 * second run of `forget` changes nothing, and no one can work back from it to the person.
 */
export interface Pseudonym {
  id: string;
  name: string;
}

/** One kind of a person's data in one feature, how much of it there is, and what `forget` does with it. */
export interface Holding {
  /** Stable name of the kind, `<feature>.<kind>` (for logs and tests), e.g. `issues.reported`. */
  kind: string;
  /** What people read on the confirmation card, e.g. "issues they logged". */
  label: string;
  count: number;
  action: 'delete' | 'anonymise';
}

export interface Tally {
  holdings: Holding[];
  /** What the feature cannot change itself and the rollout team must (e.g. "listed in the rollout file"). */
  notes?: string[];
}

export interface PersonalData {
  /** The feature, as it names its part of `my data`: "issues", "faq", "officeHours"… */
  readonly feature: string;
  /** What the feature holds about the person, counted per kind (reads only). */
  describe(subject: Subject): Promise<Tally>;
  /** Everything the feature holds about the person as plain JSON, with nothing of anyone else's. */
  export(subject: Subject): Promise<Record<string, unknown>>;
  /**
   * Removes or anonymises it. Idempotent and safe to re-run after a fault part-way: a second run finds
   * nothing left and changes nothing. Returns what it did (counts only: logs must hold no personal data).
   */
  forget(subject: Subject, pseudonym: Pseudonym): Promise<Tally>;
  /**
   * Retention: deletes up to `limit` of the feature's records older than `before` (never a user's path: the
   * scheduled job calls it, bounded, and it goes on next run). Returns how many it deleted.
   */
  expire?(before: Date, limit: number): Promise<number>;
}

/** Whether a stored id matches one of the subject's keys (Entra ids compare case-insensitively). */
export function isSubject(subject: Subject, id: string | undefined | null): boolean {
  if (!id) return false;
  const lower = id.toLowerCase();
  return subject.ids.some((k) => k === id || k.toLowerCase() === lower);
}

/** A holding line, leaving out kinds with nothing in them. */
export function holdings(...lines: Holding[]): Holding[] {
  return lines.filter((h) => h.count > 0);
}
