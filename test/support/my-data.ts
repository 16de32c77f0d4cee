import type { App } from '../../src/app.js';
import { personalChat, readable, type Reply, say, type TestUser } from './app.js';
import type { RecordingConnector } from './connector.js';

/** The download links the bot sent to `u`'s 1:1 chat, oldest first. */
export function myDataLinks(connector: RecordingConnector, u: TestUser): string[] {
  return connector
    .sentTo(personalChat(connector.url, u).conversation.id)
    .map((c) => /\((http[^)\s]+\/exports\/[^)\s]+)\)/.exec(readable([c.body as unknown as Reply]))?.[1])
    .filter((url): url is string => !!url);
}

/**
 * `my data` as `u` in their 1:1 chat, as a person sees it: the turn's answer at once, then the link sent to
 * the chat once the background job made the file; the file as text.
 */
export async function askMyData(app: App, connector: RecordingConnector, u: TestUser): Promise<{ reply: string; file: string }> {
  const before = myDataLinks(connector, u).length;
  const reply = readable(await say(app, u, 'my data', personalChat(connector.url, u)));
  await app.myDataJobs.idle();
  await app.settled();
  const url = myDataLinks(connector, u)[before];
  if (!url) throw new Error(`no link sent after: ${reply}`);
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`download answered ${res.status}`);
  return { reply, file: await res.text() };
}
