import { z } from 'zod';
import { command, verb } from '../registry/define.js';

/**
 * The communication plan's commands and card verbs, declared once (see src/registry). `send`, `cancel`,
 * `preview` and `plan` take an id (or a page) and nothing else: "send my report" is a question for the
 * FAQ, not a command.
 */

const ID_ARG = /^([A-Za-z0-9][\w.@:-]{0,120})?$/;

export const BROADCAST_COMMANDS = {
  plan: command('plan', 'broadcast.manage', 'Rollout team: the communication plan, upcoming and sent, with status', {
    args: /^\d{0,3}$/,
  }),
  preview: command('preview', 'broadcast.manage', 'Rollout team: see a plan message as recipients will, e.g. "preview golive-week-before"', {
    args: ID_ARG,
  }),
  send: command('send', 'broadcast.manage', 'Rollout team: send a plan message now (after a confirmation)', {
    args: ID_ARG,
  }),
  cancel: command('cancel', 'broadcast.manage', 'Rollout team: stop a plan message or a send, also while it is sending', {
    args: ID_ARG,
  }),
  announce: command('announce', 'broadcast.manage', 'Rollout team: write a message that is not in the plan', {
    args: /^$/,
  }),
  celebrate: command('celebrate', 'broadcast.celebrate', 'Champions: celebrate a colleague’s win in the support channel', {
    args: /^$/,
  }),
};

const sendId = z.object({ sendId: z.string().trim().min(1).max(200) });
const stale = 'This card is out of date; type "plan" to see the plan as it is now.';
const text = (max: number) => z.string().max(max).optional().default('');

export const BROADCAST_VERBS = {
  /**
   * More / Previous: from the page shown (its cursor). Cards made before paging by cursor carry a page number
   * (`page`) and no cursor: taken, and answered with the plan from its start and a note why.
   */
  planPage: verb(
    'broadcast.planPage',
    'broadcast.manage',
    z.object({
      dir: z.enum(['next', 'previous']).optional(),
      cursor: z.string().max(1200).optional(),
      page: z.unknown().optional(),
    }),
    stale,
  ),
  /** `v`: what the confirmation showed (a hash); cards made before it carry none and are taken as they are. */
  send: verb('broadcast.send', 'broadcast.manage', z.object({ id: z.string().trim().min(1).max(60), v: z.string().max(40).optional(), w: z.string().max(2000).optional() }), stale),
  /** "Don't send" / "Cancel" on a form: nothing happens. */
  dismiss: verb('broadcast.dismiss', 'everyone', z.object({ what: z.string().max(20).optional() })),
  cancelSend: verb('broadcast.cancelSend', 'broadcast.manage', sendId, stale),
  report: verb('broadcast.report', 'broadcast.manage', sendId, stale),
  resend: verb('broadcast.resend', 'broadcast.manage', sendId, stale),
  remind: verb('broadcast.remind', 'broadcast.manage', sendId, stale),
  /** The form's fields as loose text: the service checks each, so the form can say why. */
  announce: verb(
    'broadcast.announce',
    'broadcast.manage',
    z.object({
      title: text(2000),
      body: text(40_000),
      audience: text(200),
      audienceTyped: text(200),
      timing: text(10),
      date: text(20),
      time: text(20),
    }),
  ),
  ack: verb('broadcast.ack', 'broadcast.acknowledge', sendId, 'This message is out of date.'),
  refresh: verb('broadcast.refresh', 'broadcast.acknowledge', sendId, 'This message is out of date.'),
  celebrate: verb(
    'broadcast.celebrate',
    'broadcast.celebrate',
    // Generous: the service names what is too long (a refused schema would call the card out of date); the
    // activity's 1 MB body limit bounds them.
    z.object({ who: text(1_000_000), what: text(1_000_000), image: text(1_000_000) }),
  ),
  kudos: verb('broadcast.kudos', 'broadcast.kudos', z.object({ id: z.string().trim().min(1).max(60) }), 'This celebration is out of date.'),
};
