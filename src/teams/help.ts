import { CHANNEL_ROLES, type ChannelRole, type ConversationStore } from '../conversations/store.js';
import { SETUP_COMMANDS } from '../conversations/verbs.js';
import { helpCard, whoAmICard } from '../help/cards.js';
import { HELP_COMMANDS } from '../help/verbs.js';
import { type DemoRoles, parseDemoRole } from '../roles/demo.js';
import { roleLabel } from '../roles/roles.js';
import type { RolloutDeskBot, Turn } from './bot.js';
import { storedConversationOf } from './turn.js';

/** help, whoami, the local demo's role switch, and `setup <channel role>`. */
export function registerHelp(
  bot: RolloutDeskBot,
  w: { conversations: ConversationStore; demo?: DemoRoles; localMode: boolean },
): void {
  bot.command(HELP_COMMANDS.help, async (turn) => turn.reply(helpCard(turn.role, w.localMode)));
  bot.command(HELP_COMMANDS.whoami, async (turn) =>
    turn.reply(whoAmICard(turn.actor, turn.role, w.demo?.isSwitched(turn.actor) ?? false)),
  );
  bot.command(HELP_COMMANDS.demoAs, async (turn, args) => {
    const role = parseDemoRole(args);
    if (!w.demo || !role) {
      return turn.reply('Type "demo as staff", "demo as champion" or "demo as rollout team".');
    }
    w.demo.set(turn.actor, role);
    turn.log.info({ role }, 'demo role switched');
    await turn.reply(`You now see Rollout Desk as **${roleLabel(role)}** (local demo only). Type "help" to see what you can do.`);
  });

  for (const role of CHANNEL_ROLES) {
    bot.command(SETUP_COMMANDS[role], (turn) => setupChannel(turn, role, w.conversations));
  }
}

async function setupChannel(turn: Turn, role: ChannelRole, conversations: ConversationStore): Promise<void> {
  const conv = storedConversationOf(turn.context);
  if (conv.conversationType !== 'channel') {
    await turn.reply(
      `Run "setup ${role}" in the team channel you want to use for ${role}, by @mentioning me there.`,
    );
    return;
  }
  await conversations.setChannelRole(role, { ...conv, updatedAt: '' }, turn.actor.aadObjectId ?? turn.actor.id);
  turn.log.info({ role, channel: conv.conversationId }, 'channel role set');
  await turn.reply(`Done: this channel is now the ${role} channel. I will post ${role} messages here.`);
}
