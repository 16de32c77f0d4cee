import type { Mention } from 'botbuilder';
import { escapeText } from '../cards/template.js';
import type { ConversationStore } from '../conversations/store.js';
import { personOf, type Person } from '../roles/roles.js';
import { groupsPage } from '../rollout/groups-page.js';
import { ROLLOUT_COMMANDS, type RolloutDirectory } from '../rollout/index.js';
import type { RolloutDeskBot, Turn } from './bot.js';

export interface RolloutWiring {
  directory: RolloutDirectory;
  conversations: Pick<ConversationStore, 'personName' | 'personalChat'>;
}

/** Every key Teams knows a person by (Entra object id, Teams id), for the rollout directory. */
export function personKeysOf(turn: Turn): string[] {
  return [turn.actor.aadObjectId, turn.actor.id].filter((k): k is string => Boolean(k));
}

/** The first person @mentioned in the message (the bot's own mention left out), as Teams names them. */
export function firstMention(turn: Turn): { person: Person; label: string; aadObjectId?: string } | undefined {
  const botId = turn.context.activity.recipient?.id;
  const mention = ((turn.context.activity.entities ?? []) as Mention[]).find(
    (e) => (e as { type?: string }).type === 'mention' && e.mentioned?.id && e.mentioned.id !== botId,
  );
  if (!mention?.mentioned?.id) return undefined;
  const label = (mention.mentioned.name ?? '').trim();
  const aad = mention.mentioned.aadObjectId;
  return {
    person: { id: mention.mentioned.id, name: label || mention.mentioned.id },
    label,
    ...(typeof aad === 'string' && /^[0-9a-z-]{1,100}$/i.test(aad) ? { aadObjectId: aad } : {}),
  };
}

/**
 * Who a `group add` names: an @mention (Teams), "me", or an Entra object id typed out. Returns the target
 * text (what is left) and the person, or a message saying what to type.
 */
export async function personArgument(
  turn: Turn,
  args: string,
  nameOf: (id: string) => Promise<string | undefined>,
  entraIdOf: (teamsId: string) => Promise<string | undefined> = async () => undefined,
): Promise<{ target: string; person: Person; teamsId?: string } | { message: string }> {
  // Teams names a mentioned person by their Teams id (29:…), but bookings, deliveries, acknowledgements and
  // pulses key people by their Entra object id: a membership stored under the Teams id would make a group's
  // announcement "not sent to you" and their training count for nobody.
  const entraId = async (id: string, given?: string) => given ?? (/^29:/.test(id) ? await entraIdOf(id) : undefined) ?? id;
  const mention = firstMention(turn);
  if (mention) {
    // A command's words come with every mention taken out by its markup (textWithoutMentions): what is left names
    // the group. Searching the person's name in it would cut into a group named like them ("samoa-wave", "@sam").
    const target = args.trim();
    const id = await entraId(mention.person.id, mention.aadObjectId);
    return { target, person: { ...mention.person, id }, ...(id !== mention.person.id ? { teamsId: mention.person.id } : {}) };
  }
  const words = args.split(/\s+/).filter(Boolean);
  const last = words.pop() ?? '';
  const target = words.join(' ');
  if (!target || !last) return { message: 'Type it as "group add field-officers @Name" (or "me", or the person\'s Entra object id).' };
  if (last.toLowerCase() === 'me') return { target, person: personOf(turn.actor) };
  if (/^[0-9a-f-]{36}$/i.test(last) || /^29:/.test(last)) {
    // Teams gives Entra object ids in lower case; one copied from elsewhere in capitals is the same person.
    const id = /^[0-9a-f-]{36}$/i.test(last) ? last.toLowerCase() : await entraId(last);
    return { target, person: { id, name: (await nameOf(id)) ?? (await nameOf(last)) ?? last }, ...(id !== last ? { teamsId: last } : {}) };
  }
  return { message: `I can't tell who "${last}" is: @mention them, type "me", or their Entra object id.` };
}

/** `groups`, `group add`, `group remove`: the rollout team keeps the rollout's people from Teams. */
export function registerRollout(bot: RolloutDeskBot, w: RolloutWiring): void {
  const caller = (turn: Turn) => ({ person: personOf(turn.actor), role: turn.role });

  bot.command(ROLLOUT_COMMANDS.groups, async (turn, args) => {
    await turn.reply(groupsPage(w.directory.rollout, /^\d{1,4}$/.test(args.trim()) ? Number(args.trim()) : 1));
  });

  for (const [def, change] of [
    [ROLLOUT_COMMANDS.add, 'add'],
    [ROLLOUT_COMMANDS.remove, 'remove'],
  ] as const) {
    bot.command(def, async (turn, args) => {
      const parsed = await personArgument(
        turn,
        args,
        (id) => w.conversations.personName(id),
        async (teamsId) => (await w.conversations.personalChat(teamsId))?.user?.aadObjectId,
      );
      if ('message' in parsed) return turn.reply(escapeText(parsed.message));
      let res = await w.directory[change](caller(turn), parsed.target, parsed.person);
      // Added before memberships were keyed by Entra id: stored under the Teams id the mention gave then.
      if (change === 'remove' && !res.ok && parsed.teamsId) {
        const old = await w.directory.remove(caller(turn), parsed.target, { ...parsed.person, id: parsed.teamsId });
        if (old.ok) res = old;
      }
      if (res.ok) turn.log.info({ change, target: parsed.target }, 'rollout membership changed');
      await turn.reply(escapeText(res.message));
    });
  }
}
