import { COMMANDS, type CommandDef } from './registry/index.js';
import { PERMISSIONS } from './roles/permissions.js';
import type { Role } from './roles/roles.js';

/** The names of the text commands the bot understands (the manifest's command menu offers them). */
export const KNOWN_COMMANDS: readonly string[] = COMMANDS.filter((c) => !c.localOnly).map((c) => c.name);

export interface ParsedCommand {
  command: CommandDef;
  /** The rest of the text after the command words, trimmed. */
  args: string;
}

// Longest first, so "setup triage" wins over a shorter prefix, "my issues" over "issue", "report lost device" over "report".
const BY_LENGTH = [...COMMANDS].sort((a, b) => b.name.length - a.name.length);

/** Recognises a command at the start of a message (case and spacing forgiven); anything else is a question. */
export function parseCommand(text: string): ParsedCommand | undefined {
  const clean = text.replace(/\s+/g, ' ').trim();
  const lower = clean.toLowerCase().replace(/^\//, '');
  for (const command of BY_LENGTH) {
    if (lower === command.name || lower.startsWith(`${command.name} `)) {
      const offset = clean.startsWith('/') ? 1 : 0;
      const args = clean.slice(command.name.length + offset).trim();
      if (command.args && !command.args.test(args)) continue;
      return { command, args };
    }
  }
  return undefined;
}

/** One line of help per command, for the manifest's command menu. */
export const COMMAND_HELP: Readonly<Record<string, string>> = Object.fromEntries(
  COMMANDS.filter((c) => !c.localOnly).map((c) => [c.name, c.help]),
);

/** The least role each command needs, so the manifest's menus put everyone's commands first. */
export const COMMAND_ROLE: Readonly<Record<string, Role>> = Object.fromEntries(
  COMMANDS.filter((c) => !c.localOnly).map((c) => [c.name, PERMISSIONS[c.permission]]),
);
