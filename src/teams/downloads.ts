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
 * Gives a user the link to a file saved in the export store (`/exports/<token>`), only to them: as the reply in
 * their personal chat, else 1:1 through the outbound path (a link in a channel is readable by everyone there).
 */
export async function offerDownload(
  turn: Turn,
  w: DownloadWiring,
  file: { token: string; expiresAt: string; userKey: string },
  message: (url: string, until: string) => string,
): Promise<void> {
  const url = `${w.publicBaseUrl.replace(/\/+$/, '')}/exports/${file.token}`;
  const text = message(url, `${file.expiresAt.slice(0, 16).replace('T', ' ')} UTC`);
  if (turn.context.activity.conversation.conversationType === 'personal') return turn.reply(text);
  // No private chat to send it to (the app never installed for them personally): it would never arrive.
  if (!(await w.conversations.personalChat(file.userKey))) {
    return turn.reply('I send download links only in a private chat with me, and we have none yet: open a private chat with Rollout Desk and ask there.');
  }
  await w.outbox.enqueue([{ op: 'send', key: `export|${file.token}`, to: { kind: 'user', userKey: file.userKey }, content: text }]);
  await turn.reply('It is ready: I sent the download link to you in a private chat.');
}
