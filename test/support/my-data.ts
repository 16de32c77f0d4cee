import type { App } from '../../src/app.js';
import { personalChat, readable, type Reply, say, type TestUser } from './app.js';
import type { RecordedCall, RecordingConnector } from './connector.js';

/** What the bot posted (POST) or redrew (PUT) in `u`'s 1:1 chat, oldest first. */
export function chatCalls(connector: RecordingConnector, u: TestUser): RecordedCall[] {
  const id = personalChat(connector.url, u).conversation.id;
  return connector.calls.filter((c) => c.conversationId === id && (c.method === 'POST' || c.method === 'PUT'));
}

/** A call's message as a person reads it. */
export const callText = (c: RecordedCall): string => readable([c.body as unknown as Reply]);

/** The download links the bot sent to `u`'s 1:1 chat (as a message, or as the progress card redrawn), oldest first. */
export function myDataLinks(connector: RecordingConnector, u: TestUser): string[] {
  return chatCalls(connector, u)
    .map((c) => /\((http[^)\s]+\/exports\/[^)\s]+)\)/.exec(callText(c))?.[1])
    .filter((url): url is string => !!url);
}

/**
 * `my data` as `u` in their 1:1 chat, as a person sees it: the progress card posted there at once (`card`, the
 * turn's own answer in `reply`), then the link the card turns into once the background job made the file; the
 * file as text.
 */
export async function askMyData(app: App, connector: RecordingConnector, u: TestUser): Promise<{ reply: string; card: string; file: string }> {
  const before = myDataLinks(connector, u).length;
  const calls = chatCalls(connector, u).length;
  const reply = readable(await say(app, u, 'my data', personalChat(connector.url, u)));
  await app.myDataJobs.idle();
  await app.settled();
  const card = chatCalls(connector, u).slice(calls).map(callText).find((t) => t.includes('Gathering your data')) ?? '';
  const url = myDataLinks(connector, u)[before];
  if (!url) throw new Error(`no link sent after: ${reply}`);
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`download answered ${res.status}`);
  return { reply, card, file: await res.text() };
}
