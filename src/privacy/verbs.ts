import { z } from 'zod';
import { command, verb } from '../registry/define.js';

/** `my data` and `forget`, and the forget cards' buttons, declared once (see src/registry). */
export const PRIVACY_COMMANDS = {
  myData: command('my data', 'privacy.myData', 'Download everything Rollout Desk holds about you (JSON)'),
  forget: command('forget', 'privacy.forget', 'Rollout team: remove a person\'s data, e.g. "forget @Name" (asks first)'),
};

/** A person's key as the cards carry it: an Entra object id or a Teams id. */
const key = z.string().trim().min(1).max(200);

export const PRIVACY_VERBS = {
  /** The people picker's choice (an Entra object id), or a key typed instead. */
  pick: verb(
    'privacy.forgetPick',
    'privacy.forget',
    z.object({ person: key.optional(), personKey: z.string().trim().max(200).optional() }),
    'Pick a person, or type their Entra object id.',
  ),
  /** "Forget" on the confirmation card: the keys it was made for and the token that confirms them. */
  confirm: verb(
    'privacy.forget',
    'privacy.forget',
    z.object({
      keys: z.string().max(1000).transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean)).pipe(z.array(key).min(1).max(8)),
      name: z.string().max(200).optional(),
      token: z.string().max(200),
    }),
    'This confirmation card is out of date. Type "forget" with the person again.',
  ),
  cancel: verb('privacy.forgetCancel', 'privacy.forget', z.object({})),
};
