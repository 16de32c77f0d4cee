import { type Activity, type ConversationReference, TurnContext } from 'botbuilder';
import { IANAZone } from 'luxon';
import type { StoredConversation } from '../conversations/store.js';
import { formattedWords } from '../faq/echo.js';
import type { Actor } from '../roles/roles.js';

/** The person behind an activity, as features see them. */
export function actorOf(context: TurnContext): Actor {
  const from = context.activity.from;
  return { id: from.id, aadObjectId: from.aadObjectId, name: from.name ?? 'Someone' };
}

interface TeamsChannelData {
  team?: { id?: string; name?: string };
  channel?: { id?: string; name?: string };
  tenant?: { id?: string };
}

export function channelDataOf(activity: Partial<Activity>): TeamsChannelData {
  return (activity.channelData ?? {}) as TeamsChannelData;
}

/** A channel conversation id without the `;messageid=` suffix of a thread: posts to it start new threads. */
export function channelRoot(conversationId: string): string {
  return conversationId.split(';messageid=')[0] ?? conversationId;
}

/** The card a click came from (`replyToId`), as a post the outbound path can redraw; none when the client sent no id. */
export function cardPostOf(context: TurnContext): { conversation: StoredConversation; activityId: string } | undefined {
  const activityId = context.activity.replyToId;
  if (!activityId) return undefined;
  return { conversation: { ...storedConversationOf(context), updatedAt: new Date().toISOString() }, activityId };
}

/** A plain, storable copy of where this activity came from. */
export function storedConversationOf(context: TurnContext): Omit<StoredConversation, 'updatedAt'> {
  const a = context.activity;
  const data = channelDataOf(a);
  const type = (a.conversation.conversationType ?? 'personal') as StoredConversation['conversationType'];
  const conv: Omit<StoredConversation, 'updatedAt'> = {
    conversationId: type === 'channel' ? channelRoot(a.conversation.id) : a.conversation.id,
    conversationType: type,
    serviceUrl: a.serviceUrl,
    tenantId: a.conversation.tenantId ?? data.tenant?.id,
    channelId: a.channelId,
    bot: { id: a.recipient.id, name: a.recipient.name },
  };
  if (type === 'personal') {
    conv.user = { id: a.from.id, aadObjectId: a.from.aadObjectId, name: a.from.name };
    const zone = timeZoneOf(a);
    if (zone) conv.timeZone = zone;
  }
  if (data.team?.id) {
    conv.teamId = data.team.id;
    conv.teamName = data.team.name;
  }
  if (data.channel?.name) conv.channelName = data.channel.name;
  return conv;
}

/**
 * The sender's IANA time zone as Teams tells it: the activity's `localTimezone`, else the `clientInfo`
 * entity's `timezone`. Anything that is not a real IANA zone is ignored (it would replace the zone saved).
 */
export function timeZoneOf(activity: Partial<Activity>): string | undefined {
  const fromEntity = (activity.entities ?? []).find((e) => e.type === 'clientInfo') as { timezone?: unknown } | undefined;
  for (const zone of [activity.localTimezone, fromEntity?.timezone]) {
    if (typeof zone === 'string' && /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+){0,2}$/.test(zone) && zone.length <= 64 && IANAZone.isValidZone(zone)) return zone;
  }
  return undefined;
}

/** The Bot Framework reference for a stored conversation, for proactive sends. */
export function referenceOf(conv: StoredConversation): Partial<ConversationReference> {
  return {
    channelId: conv.channelId,
    serviceUrl: conv.serviceUrl,
    bot: { id: conv.bot.id, name: conv.bot.name ?? '' },
    conversation: {
      id: conv.conversationId,
      conversationType: conv.conversationType,
      tenantId: conv.tenantId,
      isGroup: conv.conversationType !== 'personal',
      name: conv.channelName ?? '',
    },
    user: conv.user ? { id: conv.user.id, name: conv.user.name ?? '' } : undefined,
  };
}

/**
 * The channel (any of its threads) or group chat of this activity, undefined in a 1:1 chat: whose members
 * could see the bot's cards there.
 */
export function sharedConversationOf(context: TurnContext): string | undefined {
  const c = context.activity.conversation;
  return c?.conversationType && c.conversationType !== 'personal' && c.id ? channelRoot(c.id) : undefined;
}

/**
 * Which Teams message an activity is, or is about (a message, its edit, its deletion carry the message's id): its
 * chat (a channel's root, whichever thread) and id. Empty when the activity has no id.
 */
export function messageKeyOf(context: TurnContext): string {
  const a = context.activity;
  return a.id && a.conversation?.id ? `${channelRoot(a.conversation.id)}|${a.id}` : '';
}

/**
 * When the activity happened, as Teams stamped it (`timestamp`: a string as it came over HTTP); undefined when it
 * carries none that reads as a time. What orders a message's deletes and undeletes, whatever order they arrive in.
 */
export function timestampOf(context: TurnContext): Date | undefined {
  const stamp: unknown = context.activity.timestamp;
  const at = stamp instanceof Date ? stamp : typeof stamp === 'string' && stamp.length <= 40 ? new Date(stamp) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : undefined;
}

/**
 * The message text with the bot's own @mention removed. Anyone else @mentioned is a word of the message ("report
 * <at>Bob</at> can't sign in"): their name stays, as plain text, shown back escaped as the rest of the text is.
 */
export function textWithoutMention(context: TurnContext): string {
  return messageText(context, (name) => name);
}

/**
 * The message text with every @mention removed, by its markup: what command words are found in, and what a command
 * that names people by mention (`group add field-officers @Sam`, `celebrate @Sam`) reads (the people come from the
 * mention entities). A name kept as text would make `celebrate @Sam` a question, or cut into a group's name.
 */
export function textWithoutMentions(context: TurnContext): string {
  return messageText(context, () => ' ');
}

/** The text with the bot's mentions removed and everyone else's markup replaced by `other(name)`. */
function messageText(context: TurnContext, other: (name: string) => string): string {
  const a = context.activity;
  // botbuilder's mention removal reads activity.text unchecked: a mention entity on a message without text.
  if (typeof a.text !== 'string') return '';
  const typed = TurnContext.removeRecipientMention(a) ?? a.text ?? '';
  // A formatted message (Teams sends HTML: "<p>report <at>Bob</at> can&#39;t sign in</p>") is read as its words, its
  // mentions kept as markup, so a command in it is found and others' names stay, as in plain text.
  const text = formattedWords({ text: typed, textFormat: a.textFormat }) ?? typed;
  // The bot named again (botbuilder removes its first mention only), or with no entity: its name is no word.
  const botId = a.recipient?.id;
  const bot = new Set(
    (a.entities ?? [])
      .filter((e) => e.type === 'mention' && (e as { mentioned?: { id?: unknown } }).mentioned?.id === botId)
      .map((e) => (e as { text?: unknown }).text)
      .filter((t): t is string => typeof t === 'string'),
  );
  if (a.recipient?.name) bot.add(`<at>${a.recipient.name}</at>`);
  return (
    text
      .replace(/<at>([^<]*)<\/at>/g, (tag, name: string) => (bot.has(tag) ? '' : other(name)))
      // Teams puts a non-breaking space after a mention as the entity `&nbsp;`: it is a space, not a question's words.
      .replace(/&nbsp;/gi, ' ')
      .trim()
  );
}

/** Whether Teams' HTML copy of a message holds a picture: an <img> that is not one of Teams' emoji (sent as images). */
function picturesIn(html: string): boolean {
  for (const img of html.matchAll(/<img\b[^>]*>/gi)) if (!/schema\.skype\.com\/Emoji|\bemoji\b/i.test(img[0])) return true;
  return false;
}

/**
 * Whether pictures or files came with a message (an image pasted into the compose box, a file attached). The bot
 * keeps words only, so the sender is told these were not kept rather than have them vanish. Cards (the guidance
 * search's result sent back) and Teams' HTML copy of the text are not files; a picture pasted in a channel arrives
 * only inside that HTML copy, as an <img>.
 */
export function hasAttachedFiles(activity: Partial<Activity>): boolean {
  return (activity.attachments ?? []).some((a) => {
    const type = typeof a?.contentType === 'string' ? a.contentType : '';
    if (type === 'text/html') return typeof a.content === 'string' && picturesIn(a.content);
    return type !== '' && !type.startsWith('application/vnd.microsoft.card.');
  });
}
