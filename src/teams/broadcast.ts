import { count } from '../text/count.js';
import { escapeText } from '../cards/template.js';
import {
  announceForm,
  BROADCAST_COMMANDS,
  BROADCAST_VERBS,
  type BroadcastService,
  type Caller,
  celebrateForm,
  type CelebrationService,
  confirmCard,
  messageCard,
  planCard,
  type PlanAt,
} from '../broadcast/index.js';
import type { MessageContent } from '../broadcast/model.js';
import { formatWhen } from '../issues/cards.js';
import type { Outbox } from '../outbound/message.js';
import { personOf } from '../roles/roles.js';
import type { CardActionResult, RolloutDeskBot, Turn } from './bot.js';
import { sharedConversationOf } from './turn.js';

export interface BroadcastWiring {
  broadcast: BroadcastService;
  celebrations: CelebrationService;
  outbox: Outbox;
  /** "From the FieldLedger rollout team" under each message. */
  footer: string;
}

const callerOf = (turn: Turn): Caller => ({ person: personOf(turn.actor), role: turn.role });

/** A card's own identity: a second click on the same card (or Teams' retry) finds the first one's result. */
const cardKey = (turn: Turn) =>
  `${turn.context.activity.conversation.id}|${turn.context.activity.replyToId ?? turn.context.activity.id ?? ''}`;

/** A scheduled time as the form took it: in the plan's zone, named (the form asked for it there, not in UTC). */
const scheduledAt = (iso: string, zone: string) => `${formatWhen(iso, zone)}${zone === 'UTC' ? '' : ` (${zone})`}`;

const isPersonal = (turn: Turn) => turn.context.activity.conversation.conversationType === 'personal';

/** The communication plan's commands and card verbs: parse what Teams sent, call the feature, render. */
export function registerBroadcast(bot: RolloutDeskBot, w: BroadcastWiring): void {
  const b = w.broadcast;
  const say = (turn: Turn, text: string) => turn.reply(escapeText(text));

  // ---- plan, preview ---------------------------------------------------------------------------------

  const planPage = async (turn: Turn, at: PlanAt): Promise<CardActionResult> => {
    const res = await b.planPage(callerOf(turn), at);
    if ('kind' in res) return { message: res.text };
    return { card: planCard(res.items, res, b.timeZone) };
  };
  bot.command(BROADCAST_COMMANDS.plan, async (turn, args) => {
    const res = await planPage(turn, args ? { kind: 'number', index: Number(args) - 1 } : { kind: 'start' });
    return res.card ? turn.reply(res.card) : say(turn, res.message ?? '');
  });
  bot.verb(BROADCAST_VERBS.planPage, (turn, data) =>
    planPage(turn, data.dir && data.cursor !== undefined ? { kind: data.dir, cursor: data.cursor } : { kind: 'outdated' }),
  );

  bot.command(BROADCAST_COMMANDS.preview, async (turn, args) => {
    const res = await b.preview(callerOf(turn), args);
    if (res.kind !== 'preview') return say(turn, res.text);
    // "Got it" on a preview records nothing (its send id is "preview").
    const card = messageCard(res.content, { sendId: 'preview', footer: w.footer });
    const intro = `Preview of ${res.label} — exactly as recipients will see it. Only you see this.`;
    if (isPersonal(turn)) {
      await say(turn, intro);
      return turn.reply(card);
    }
    // In a channel everyone would see it: the preview goes to the requester's 1:1 chat.
    const userKey = callerOf(turn).person.id;
    await w.outbox.enqueue([
      { op: 'send', key: `preview|${cardKey(turn)}|intro`, to: { kind: 'user', userKey }, content: escapeText(intro) },
      { op: 'send', key: `preview|${cardKey(turn)}|card`, to: { kind: 'user', userKey }, content: card },
    ]);
    return say(turn, 'I sent you the preview in our 1:1 chat, so only you see it.');
  });

  // ---- send, cancel ----------------------------------------------------------------------------------

  bot.command(BROADCAST_COMMANDS.send, async (turn, args) => {
    await turn.context.sendActivity({ type: 'typing' });
    const res = await b.prepareSend(callerOf(turn), args);
    if (res.kind !== 'confirm') return say(turn, res.text);
    return turn.reply(confirmCard(res.confirmation));
  });

  bot.verb(BROADCAST_VERBS.send, async (turn, data) => {
    const caller = callerOf(turn);
    const res = await b.send(caller, data.id, cardKey(turn), caller.person.id, data.v, data.w?.split(',').filter(Boolean));
    // Another send of it got under way since the card was drawn: asked again, now warning.
    if (res.kind === 'confirm') return { card: confirmCard({ ...res.confirmation, notes: [res.text, ...res.confirmation.notes] }) };
    if (res.kind !== 'started') return { message: res.text };
    if (res.fresh) turn.log.info({ sendId: res.send.id }, 'broadcast confirmed');
    // Teams did not answer for its team: confirmed, and waiting to be tried again (the service says until when).
    if (res.delayed) return { message: res.delayed };
    return {
      message: res.fresh
        ? `Sending "${res.send.content.title}" to ${res.send.audienceLabel}. Your progress card follows in our 1:1 chat.`
        : `"${res.send.content.title}" is already being sent from this card; its progress card is in our 1:1 chat.`,
    };
  });

  bot.verb(BROADCAST_VERBS.dismiss, async (_turn, data) => ({
    message: data.what === 'celebrate' ? 'OK, nothing was posted.' : 'OK, nothing was sent.',
  }));

  bot.command(BROADCAST_COMMANDS.cancel, async (turn, args) => {
    const res = await b.cancel(callerOf(turn), args);
    return say(turn, res.text);
  });
  bot.verb(BROADCAST_VERBS.cancelSend, async (turn, data) => {
    const res = await b.cancel(callerOf(turn), data.sendId);
    return { message: res.text };
  });

  // ---- report, resend, remind ----------------------------------------------------------------------

  bot.verb(BROADCAST_VERBS.report, async (turn, data) => {
    const res = await b.report(callerOf(turn), data.sendId);
    return res.kind === 'report' ? { card: res.card } : { message: res.text };
  });
  bot.verb(BROADCAST_VERBS.resend, async (turn, data) => {
    const res = await b.resendFailed(callerOf(turn), data.sendId);
    if (res.kind !== 'resending') return { message: res.text };
    const left = res.unconfirmed
      ? ` ${count(res.unconfirmed)} may have reached people and ${res.unconfirmed === 1 ? 'was' : 'were'} not resent (the sender stopped when the request may have left; a second copy could reach them twice).`
      : '';
    return { message: `Sending again to the ${res.count} whose message failed; the progress card follows.${left}` };
  });
  bot.verb(BROADCAST_VERBS.remind, async (turn, data) => {
    const caller = callerOf(turn);
    const res = await b.remind(caller, data.sendId, cardKey(turn), caller.person.id);
    if (res.kind !== 'started') return { message: res.text };
    return {
      message: res.fresh
        ? 'Reminding everyone who has not acknowledged it yet; the progress card follows.'
        : 'That reminder is already on its way.',
    };
  });

  // ---- announce ------------------------------------------------------------------------------------

  bot.command(BROADCAST_COMMANDS.announce, async (turn) =>
    turn.reply(announceForm({ audience: 'channel:announcements' }, {}, b.announceAudiences(), b.timeZone)),
  );
  bot.verb(BROADCAST_VERBS.announce, async (turn, data) => {
    const caller = callerOf(turn);
    const res = await b.announce(caller, data, cardKey(turn), caller.person.id);
    if (res.kind === 'invalid') return { card: announceForm(res.values, res.errors, b.announceAudiences(), b.timeZone) };
    if (res.kind !== 'started') return { message: res.text };
    if (!res.fresh) return { message: `This announcement was already sent from this form ("${res.send.content.title}").` };
    turn.log.info({ sendId: res.send.id, status: res.send.status }, 'announcement created');
    return {
      message:
        res.send.status === 'scheduled'
          ? `Scheduled "${res.send.content.title}" for ${scheduledAt(res.send.dueAt, b.timeZone)}, to ${res.send.audienceLabel}. "cancel ${res.send.id}" stops it.`
          : `Sending "${res.send.content.title}" to ${res.send.audienceLabel}. Your progress card follows in our 1:1 chat.`,
    };
  });

  // ---- recipients: Got it --------------------------------------------------------------------------

  /** The message as this reader sees it: acknowledged or not; in a 1:1 chat, refreshed for them alone. */
  const readerView = (turn: Turn, v: { content: MessageContent; sendId: string; at?: string }): CardActionResult => ({
    card: messageCard(v.content, {
      sendId: v.sendId,
      acknowledgedAt: v.at,
      refreshUserId: isPersonal(turn) ? turn.actor.id : undefined,
      footer: w.footer,
    }),
  });
  bot.verb(BROADCAST_VERBS.ack, async (turn, data) => {
    const res = await b.acknowledge(callerOf(turn), data.sendId, sharedConversationOf(turn.context));
    if (res.kind === 'preview') return { message: 'This is a preview: nothing was recorded.' };
    if (res.kind !== 'acked') return { message: res.text };
    if (res.fresh) turn.log.info({ sendId: res.sendId }, 'announcement acknowledged');
    return readerView(turn, res);
  });
  bot.verb(BROADCAST_VERBS.refresh, async (turn, data) => {
    const res = await b.view(callerOf(turn), data.sendId, sharedConversationOf(turn.context));
    return res.kind === 'view' ? readerView(turn, res) : { message: res.text };
  });

  // ---- celebrations --------------------------------------------------------------------------------

  bot.command(BROADCAST_COMMANDS.celebrate, async (turn) => {
    const people = await w.celebrations.formPeople(callerOf(turn));
    if (!Array.isArray(people)) return say(turn, people.text);
    return turn.reply(celebrateForm({}, {}, people));
  });
  bot.verb(BROADCAST_VERBS.celebrate, async (turn, data) => {
    const caller = callerOf(turn);
    const res = await w.celebrations.celebrate(caller, data, cardKey(turn));
    if (res.kind === 'invalid') {
      const people = await w.celebrations.formPeople(caller);
      return { card: celebrateForm(res.values, res.errors, Array.isArray(people) ? people : []) };
    }
    if (res.kind !== 'posted') return { message: res.text };
    if (res.fresh) turn.log.info({ celebration: res.celebration.id }, 'celebration posted');
    return {
      message: res.fresh
        ? 'Posted in the support channel. Thank you for celebrating!'
        : 'This one was already posted, just as it is. To celebrate another win, change who or what and press Post again.',
    };
  });
  bot.verb(BROADCAST_VERBS.kudos, async (turn, data) => {
    const res = await w.celebrations.kudos(callerOf(turn), data.id);
    return res.kind === 'card' ? { card: res.card } : { message: res.text };
  });
}
