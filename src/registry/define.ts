import type { z } from 'zod';
import type { Permission } from '../roles/permissions.js';

/**
 * Everything a user can do is declared once: a typed command or a card verb, with the permission it needs
 * (src/roles/permissions.ts) and, for a verb, the schema of the data its card sends. The Teams layer
 * dispatches only declared names, checks the permission, parses the data, then calls the handler.
 */

export interface CommandDef {
  /** What the user types, lower case: "my issues", "setup triage". */
  name: string;
  permission: Permission;
  /** One line for the help card and the manifest's command menu. */
  help: string;
  /** Only in local (unauthenticated) mode, e.g. switching the demo role. */
  localOnly?: boolean;
  /**
   * What may follow the command words; anything else makes the message a question, not this command
   * ("send my report" is asked of the FAQ; "send golive-week" is the command). Unset: anything.
   */
  args?: RegExp;
  /**
   * What follows the command words is the user's own words (a report's "what happened"): anyone @mentioned in
   * it keeps their name there. Unset: the command reads what follows with every @mention taken out (a mention
   * names a person by its entity, as `group add` and `celebrate` read it), so "celebrate @Sam" is still the command.
   */
  freeText?: boolean;
}

export interface VerbDef<S extends z.ZodType = z.ZodType> {
  /** The `verb` of an Action.Execute (and `data.action` of its Action.Submit fallback). */
  verb: string;
  permission: Permission;
  /** Card data is written by the client: it is parsed with this before a handler sees it. */
  data: S;
  /** Said when the data does not parse (the card is out of date or forged). */
  invalid?: string;
}

export function command(name: string, permission: Permission, help: string, opts: Partial<CommandDef> = {}) {
  return { name, permission, help, ...opts } satisfies CommandDef;
}

export function verb<S extends z.ZodType>(
  name: string,
  permission: Permission,
  data: S,
  invalid?: string,
): VerbDef<S> {
  return invalid ? { verb: name, permission, data, invalid } : { verb: name, permission, data };
}
