import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { App } from '../../../src/app.js';
import type { ManualClock } from '../../../src/clock.js';
import {
  PLAYGROUND_USERS,
  type RunningPlayground,
  startPlayground,
} from '../../../src/devtools/playground.js';
import { freePort } from '../../../src/storage/azurite.js';
import { startTestApp } from '../../support/app.js';

export interface StreamedMessage {
  action: string;
  actionConversationId: string;
  message: {
    messageId: string;
    from?: { id: string };
    text?: string;
    attachments?: { contentType: string; content: Record<string, unknown> }[];
  };
}

export interface PlaygroundConfig {
  personalChatId: string;
  teamId: string;
  botId: string;
  currentUserId: string;
}

/** The app and the Agents Playground pointed at it, with a client for the Playground's HTTP and WebSocket routes. */
export class Stack {
  readonly messages: StreamedMessage[] = [];
  private ws: WebSocket | undefined;
  cfg!: PlaygroundConfig;

  private constructor(
    readonly app: App,
    readonly playground: RunningPlayground,
  ) {}

  /** `clock`: a ManualClock the test moves (scheduled work then runs with `app.scheduler.tick()`). */
  static async start(env: Record<string, string> = {}, opts: { clock?: ManualClock } = {}): Promise<Stack> {
    const { app } = await startTestApp(
      {
        ROLLOUT_TEAM_IDS: PLAYGROUND_USERS.alex.aadObjectId,
        CHAMPION_IDS: PLAYGROUND_USERS.megan.aadObjectId,
        ...env,
      },
      opts.clock,
    );
    const playground = await startPlayground({
      botEndpoint: `${app.url}/api/messages`,
      port: await freePort(),
      workDir: mkdtempSync(path.join(tmpdir(), 'rd-playground-')),
    });
    const stack = new Stack(app, playground);
    await stack.connect();
    return stack;
  }

  private async connect(): Promise<void> {
    const res = await fetch(`${this.playground.url}/_internal/v1/config`);
    const json = (await res.json()) as {
      config: {
        personalChat: { id: string };
        teams: { id: string }[];
        bot: { id: string };
        currentUser: { id: string };
      };
    };
    this.cfg = {
      personalChatId: json.config.personalChat.id,
      teamId: json.config.teams[0]?.id ?? 'team-id',
      botId: json.config.bot.id,
      currentUserId: json.config.currentUser.id,
    };
    const wsUrl = `${this.playground.url.replace('http', 'ws')}/_ws_conversation/v1/conversations/stream`;
    this.ws = new WebSocket(wsUrl);
    this.ws.on('message', (raw) => {
      try {
        const event = JSON.parse(raw.toString()) as StreamedMessage;
        // Only events that carry a message (new or updated); others (typing, deletes) are not what users read.
        if (event?.message) this.messages.push(event);
      } catch {
        // not a conversation event
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.ws?.once('open', () => resolve());
      this.ws?.once('error', reject);
    });
  }

  /** A user types a message in a conversation; in a channel, mentioning the bot. */
  async say(conversationId: string, userId: string, text: string, mentionBot = false): Promise<string> {
    const body: Record<string, unknown> = {
      from: { id: userId },
      text: mentionBot ? `<at>Test Bot</at> ${text}` : text,
      textFormat: 'plain',
    };
    if (mentionBot) body.mentions = [{ mentioned: { id: this.cfg.botId }, text: '<at>Test Bot</at>' }];
    const res = await fetch(
      `${this.playground.url}/_conversation/v1/conversations/${encodeURIComponent(conversationId)}/messages`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
    );
    if (!res.ok) throw new Error(`playground refused the message: ${res.status} ${await res.text()}`);
    const json = (await res.json()) as { postConversationId?: string };
    return json.postConversationId ?? conversationId;
  }

  /** Clicks an Action.Execute button on a bot message. */
  async execute(
    conversationId: string,
    replyToId: string,
    userId: string,
    verb: string,
    data: Record<string, unknown>,
  ) {
    const res = await fetch(`${this.playground.url}/_conversation/v1/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb, data } },
        from: { id: userId },
        conversation: { id: conversationId },
        replyToId,
      }),
    });
    if (!res.ok) throw new Error(`invoke failed: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  }

  /** Clicks an Action.Submit button on a bot message. */
  async submit(conversationId: string, replyToId: string, userId: string, value: Record<string, unknown>) {
    const res = await fetch(`${this.playground.url}/_conversation/v1/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ conversation: { id: conversationId }, from: { id: userId }, replyToId, value }),
    });
    if (!res.ok) throw new Error(`submit failed: ${res.status} ${await res.text()}`);
  }

  /** Opens the bot in a conversation, as when the app is installed. */
  async install(conversationId: string): Promise<void> {
    const res = await fetch(
      `${this.playground.url}/_debug/conversation/${encodeURIComponent(conversationId)}/installation`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      },
    );
    if (!res.ok) throw new Error(`installation failed: ${res.status} ${await res.text()}`);
  }

  /** Waits for a bot message (new or updated) matching `pred`, seen after index `from`. */
  async waitFor(pred: (m: StreamedMessage) => boolean, from = 0, ms = 10_000): Promise<StreamedMessage> {
    const end = Date.now() + ms;
    for (;;) {
      const found = this.messages.slice(from).find(pred);
      if (found) return found;
      if (Date.now() > end) {
        throw new Error(
          `no matching message; saw:\n${this.messages.map((m) => textOf(m).slice(0, 200)).join('\n---\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    this.ws?.close();
    await this.playground.stop();
    await this.app.stop();
  }
}

/** Everything a user would read in a streamed message. */
export function textOf(m: StreamedMessage): string {
  const out: string[] = [];
  if (!m.message) return '';
  if (m.message.text) out.push(m.message.text);
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
      return;
    }
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    for (const k of ['text', 'title', 'value'] as const)
      if (typeof o[k] === 'string') out.push(o[k] as string);
    for (const v of Object.values(o)) if (typeof v === 'object') walk(v);
  };
  walk(m.message.attachments?.map((a) => a.content));
  return out.join('\n');
}
