/** The text commands the bot understands; the manifest's command menu lists the same names. */
export const KNOWN_COMMANDS = [
  'help',
  'whoami',
  'report',
  'my issues',
  'issue',
  'triage',
  'assigned',
  'gaps',
  'export issues',
  'setup triage',
  'setup support',
  'setup announcements',
] as const;

export type CommandName = (typeof KNOWN_COMMANDS)[number];

export interface ParsedCommand {
  name: CommandName;
  /** The rest of the text after the command words, trimmed. */
  args: string;
}

// Longest first, so "setup triage" wins over a shorter prefix and "my issues" over "issue".
const BY_LENGTH = [...KNOWN_COMMANDS].sort((a, b) => b.length - a.length);

/** Recognises a command at the start of a message (case and spacing forgiven); anything else is a question. */
export function parseCommand(text: string): ParsedCommand | undefined {
  const clean = text.replace(/\s+/g, ' ').trim();
  const lower = clean.toLowerCase().replace(/^\//, '');
  for (const name of BY_LENGTH) {
    if (lower === name || lower.startsWith(`${name} `)) {
      const offset = clean.startsWith('/') ? 1 : 0;
      return { name, args: clean.slice(name.length + offset).trim() };
    }
  }
  return undefined;
}

export const COMMAND_HELP: Record<CommandName, string> = {
  help: 'What I can do',
  whoami: 'Your role in the rollout',
  report: 'Log an issue that blocks or slows you',
  'my issues': 'The issues you logged, with their status',
  issue: 'One issue and its history, e.g. "issue R-0042"',
  triage: 'Champions: the queue of issues to triage',
  assigned: 'Champions: the issues assigned to you',
  gaps: 'Champions: questions the guidance did not answer',
  'export issues': 'Rollout team: all issues as a CSV file',
  'setup triage': 'Rollout team: make this channel the champions’ triage channel',
  'setup support': 'Rollout team: make this channel the support channel',
  'setup announcements': 'Rollout team: make this channel the announcements channel',
};
