import { createHash } from 'node:crypto';
import { escapeText } from '../cards/template.js';
import { escalationDestinations } from '../issues/service.js';
import type { OutboundMessage } from '../outbound/message.js';
import { clip } from '../text/fit.js';
import type { PlanRefusal } from './plan-file.js';

/**
 * What the rollout team is told when the plan file they edited can't be used: the problems, each naming
 * the message id and the field, and that the last good plan stays in force. It goes where escalations
 * go: 1:1 to each rollout team member the app can reach, else to the triage channel.
 */
/** How much of the problems one notice quotes (escaped, some 8 KB in all: far under Teams' 40 KB). */
const PROBLEM_CHARS = 4_000;

export function planProblemNotice(
  problem: string,
  rolloutTeamIds: readonly string[],
  reachable: ReadonlySet<string>,
  why: PlanRefusal = 'file',
): OutboundMessage[] {
  // Another YAML file given by mistake makes a problem of ~100 KB (every unknown key named): Teams refuses a message
  // over 40 KB, and then nobody would hear that the plan was not taken. The log keeps the whole of it.
  const quoted = quote(problem);
  // A check that did not finish says nothing about the file: the team is not sent to look for a fault in it.
  const text =
    why === 'check'
      ? `I could not finish checking the communication plan file, so I kept the last good plan in force:\n\n${quoted}\n\nThe check stopped before it could judge the file: a very large or deeply nested file can do that, and so can a fault in the app. The same text is not checked again until it changes: edit the file and save it to check it again (or restart the app); if it keeps happening, the app's log says more.`
      : `The communication plan file has problems, so I kept the last good plan in force:\n\n${quoted}\n\nFix the file and save it; I pick it up without a restart.`;
  // The same problem is told once (the key is the problem's hash), however often the file is saved.
  const hash = createHash('sha256').update(problem).digest('hex').slice(0, 12);
  return rolloutTeamNotice(`plan-invalid|${hash}`, text, rolloutTeamIds, reachable);
}

/**
 * What the rollout team should know of a plan that was taken as it is (a repeating message cut at its first 400
 * dates): told once per distinct list, however often the file is saved or the app restarted.
 */
export function planNotesNotice(notes: readonly string[], rolloutTeamIds: readonly string[], reachable: ReadonlySet<string>): OutboundMessage[] {
  const list = notes.join('\n');
  const text = `The communication plan file is in force, but not every date in it will be sent:\n\n${quote(list)}\n\nTo change that, edit the file and save it; I pick it up without a restart.`;
  const hash = createHash('sha256').update(list).digest('hex').slice(0, 12);
  return rolloutTeamNotice(`plan-notes|${hash}`, text, rolloutTeamIds, reachable);
}

/** The file's own words, escaped, at most PROBLEM_CHARS of them. */
function quote(text: string): string {
  return text.length <= PROBLEM_CHARS ? escapeText(text) : `${escapeText(clip(text, PROBLEM_CHARS))}\n\n(Cut here: the app's log has the whole list.)`;
}

/** `text` (markdown, already escaped) to the rollout team, once per `key` and destination. */
export function rolloutTeamNotice(
  key: string,
  text: string,
  rolloutTeamIds: readonly string[],
  reachable: ReadonlySet<string>,
): OutboundMessage[] {
  return escalationDestinations(rolloutTeamIds, reachable).map((to) => ({
    op: 'send',
    key: `${key}|${to.kind === 'user' ? to.userKey : 'channel'}`,
    to,
    content: text,
  }));
}
