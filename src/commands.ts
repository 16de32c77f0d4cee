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

/** Zero-width space, word joiner, byte-order mark: invisible, never part of a command (ZWJ/ZWNJ are left: scripts need them). */
const INVISIBLE = /[\u200B\u2060\uFEFF]/g;

// Longest first, so "setup triage" wins over a shorter prefix, "my issues" over "issue", "report lost device" over "report".
const BY_LENGTH = [...COMMANDS].sort((a, b) => b.name.length - a.name.length);

/**
 * The text as command words are matched (NFKC, lower case: "ｒｅｐｏｒｔ" from a full-width keyboard, "ＲＥＰＯＲＴ",
 * is "report"), with where each of its characters came from in `text`, so what follows the command words is
 * cut from the text as typed.
 */
function matchable(text: string): { folded: string; from: number[] } {
  let folded = '';
  const from: number[] = [];
  let at = 0;
  for (const ch of text) {
    const f = ch.normalize('NFKC').toLowerCase();
    folded += f;
    for (let i = 0; i < f.length; i++) from.push(at);
    at += ch.length;
  }
  from.push(at);
  return { folded, from };
}

/** Recognises a command at the start of a message (case, spacing and character width forgiven); anything else is a question. */
export function parseCommand(text: string): ParsedCommand | undefined {
  // Zero-width spaces (pasted along with a word, or typed by some keyboards) are not words: "report\u200b" is "report".
  const clean = text.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  const { folded, from } = matchable(clean);
  const offset = folded.startsWith('/') ? 1 : 0;
  const lower = folded.slice(offset);
  // A bare command typed as a sentence ("Report!", "my issues.", "help?") is still that command.
  const bare = lower.replace(/[\s.!?…]+$/, '');
  for (const command of BY_LENGTH) {
    const exact = bare === command.name;
    if (exact || lower.startsWith(`${command.name} `)) {
      // The arguments as typed (stored and shown as the user wrote them), not their folded form.
      const args = exact ? '' : clean.slice(from[command.name.length + offset] ?? clean.length).trim();
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
