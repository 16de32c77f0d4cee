import { ADOPTION_COMMANDS, ADOPTION_VERBS } from '../adoption/verbs.js';
import { BROADCAST_COMMANDS, BROADCAST_VERBS } from '../broadcast/verbs.js';
import { SETUP_COMMANDS } from '../conversations/verbs.js';
import { FAQ_COMMANDS, FAQ_VERBS } from '../faq/verbs.js';
import { HELP_COMMANDS } from '../help/verbs.js';
import { ISSUE_COMMANDS, ISSUE_VERBS } from '../issues/verbs.js';
import { OFFICE_HOURS_COMMANDS, OFFICE_HOURS_VERBS } from '../officehours/verbs.js';
import { PRIVACY_COMMANDS, PRIVACY_VERBS } from '../privacy/verbs.js';
import { ROLLOUT_COMMANDS } from '../rollout/verbs.js';
import type { CommandDef, VerbDef } from './define.js';

/**
 * Every command and card verb of the app, gathered from the features that declare them. The help card,
 * the manifest's command lists and the tests read these lists; the Teams layer dispatches only them.
 */
export const COMMANDS: readonly CommandDef[] = [
  ...Object.values(HELP_COMMANDS),
  ...Object.values(ISSUE_COMMANDS),
  ...Object.values(FAQ_COMMANDS),
  ...Object.values(SETUP_COMMANDS),
  ...Object.values(ADOPTION_COMMANDS),
  ...Object.values(ROLLOUT_COMMANDS),
  ...Object.values(OFFICE_HOURS_COMMANDS),
  ...Object.values(BROADCAST_COMMANDS),
  ...Object.values(PRIVACY_COMMANDS),
];

export const VERBS: readonly VerbDef[] = [
  ...Object.values(ISSUE_VERBS),
  ...Object.values(FAQ_VERBS),
  ...Object.values(ADOPTION_VERBS),
  ...Object.values(OFFICE_HOURS_VERBS),
  ...Object.values(BROADCAST_VERBS),
  ...Object.values(PRIVACY_VERBS),
];

export type { CommandDef, VerbDef } from './define.js';
