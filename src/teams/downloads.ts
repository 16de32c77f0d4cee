import type { ConversationStore } from '../conversations/store.js';
import type { Outbox } from '../outbound/message.js';
import type { Turn } from './bot.js';

export interface DownloadWiring {
  outbox: Outbox;
  /** Whether the person has a private chat with the bot: the only place a link outside it can go. */
  conversations: Pick<ConversationStore, 'personalChat'>;
  /** Where users download exports, e.g. https://rollout-desk.azurewebsites.net */
  publicBaseUrl: string;
}

/**
 * Makes a file with `make` and gives the user its link (`/exports/<token>`), only to them: as the reply in their
 * personal chat, else 1:1 through the outbound path (a link in a channel is readable by everyone there). With no
 * private chat to send it to, they are told where to ask and nothing is made: a file nobody can fetch would still
 * name people until it expires. `make` gives undefined when there is nothing to offer (it has replied).
 */
export async function offerDownload(
  turn: Turn,
  w: DownloadWiring,
  userKey: string,
  make: () => Promise<{ token: string; expiresAt: string } | undefined>,
  message: (url: string, until: string) => string,
): Promise<void> {
  const personal = turn.context.activity.conversation.conversationType === 'personal';
  // No private chat to send it to (the app never installed for them personally): it would never arrive.
  if (!personal && !(await w.conversations.personalChat(userKey))) {
    return turn.reply('I send download links only in a private chat with me, and we have none yet: open a private chat with Rollout Desk and ask there.');
  }
  const file = await make();
  if (!file) return;
  const url = `${w.publicBaseUrl.replace(/\/+$/, '')}/exports/${file.token}`;
  const text = message(url, `${file.expiresAt.slice(0, 16).replace('T', ' ')} UTC`);
  if (personal) return turn.reply(text);
  await w.outbox.enqueue([{ op: 'send', key: `export|${file.token}`, to: { kind: 'user', userKey }, content: text }]);
  await turn.reply('It is ready: I sent the download link to you in a private chat.');
}
