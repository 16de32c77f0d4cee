import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type App, type AppOptions, startApp } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/log.js';
import { azuriteConnection } from './storage.js';

export const USERS = {
  staff: { id: '29:staff', aadObjectId: 'aad-staff', name: 'Sam Staff' },
  champion: { id: '29:champ', aadObjectId: 'aad-champ', name: 'Chris Champion' },
  lead: { id: '29:lead', aadObjectId: 'aad-lead', name: 'Lee Lead' },
} as const;

export type TestUser = { id: string; aadObjectId: string; name: string };

/** Starts the real app on a free port, on the shared test Azurite under a fresh table prefix. */
export async function startTestApp(env: Record<string, string> = {}, clock = new ManualClock(), log?: Logger, opts: Omit<AppOptions, 'log' | 'clock'> = {}) {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    AZURE_STORAGE_CONNECTION_STRING: azuriteConnection(),
    TABLE_PREFIX: `t${randomBytes(4).toString('hex')}`,
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'rd-data-')),
    CHAMPION_IDS: USERS.champion.aadObjectId,
    ROLLOUT_TEAM_IDS: USERS.lead.aadObjectId,
    LOG_LEVEL: 'silent',
    // The longest a Forget click may wait: tests that expect the done card from the click keep a margin on a
    // loaded machine (test/http/privacy-job.test.ts sets 0 to see the background path).
    FORGET_INLINE_SECONDS: '10',
    ...env,
  });
  const app: App = await startApp(config, { ...opts, log: log ?? createLogger(config.env.LOG_LEVEL), clock });
  return { app, clock };
}

let seq = 0;

/** An activity as Teams would send it; replies come back in the HTTP response (expectReplies). */
export function activity(
  user: TestUser,
  overrides: Record<string, unknown> & { serviceUrl?: string } = {},
): Record<string, unknown> {
  return {
    type: 'message',
    id: `act-${Date.now()}-${++seq}`,
    channelId: 'msteams',
    serviceUrl: overrides.serviceUrl ?? 'http://127.0.0.1:9/',
    from: { id: user.id, aadObjectId: user.aadObjectId, name: user.name },
    recipient: { id: '28:bot', name: 'Rollout Desk' },
    conversation: { id: `a:personal-${user.id}`, conversationType: 'personal', tenantId: 'tenant-1' },
    channelData: { tenant: { id: 'tenant-1' } },
    deliveryMode: 'expectReplies',
    locale: 'en-US',
    ...overrides,
  };
}

/**
 * Where activities go: a started app, or a production build (`url`) that needs a channel token on each
 * request (`authorize` returns the Authorization header for the activity).
 */
export interface BotEndpoint {
  url: string;
  authorize?(activity: Record<string, unknown>): string;
}

export interface Reply {
  type: string;
  text?: string;
  attachments?: { contentType: string; content: Record<string, unknown> }[];
}

export async function post(
  app: BotEndpoint,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const authorization = app.authorize && typeof body === 'object' ? app.authorize(body as Record<string, unknown>) : undefined;
  const res = await fetch(`${app.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}

/** Sends a message and returns the bot's replies. */
export async function say(app: BotEndpoint, user: TestUser, text: string, extra: Record<string, unknown> = {}) {
  const res = await post(app, activity(user, { text, ...extra }));
  if (res.status !== 200) throw new Error(`status ${res.status}: ${JSON.stringify(res.json)}`);
  return ((res.json.activities as Reply[] | undefined) ?? []).filter((a) => a.type === 'message');
}

/** The data of a card's Action.Execute for `verb` (what pressing it sends besides the inputs), found anywhere in `replies`. */
export function buttonData(replies: unknown, verb: string): Record<string, unknown> {
  const found = executeData(replies, (a) => a.verb === verb);
  if (!found) throw new Error(`no ${verb} button in ${JSON.stringify(replies)}`);
  return found;
}

/** The data of the last Action.Execute anywhere in `replies` that `match` picks, or undefined when none does. */
export function executeData(replies: unknown, match: (action: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
  let found: Record<string, unknown> | undefined;
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (o.type === 'Action.Execute' && match(o)) found = o.data as Record<string, unknown>;
    Object.values(o).forEach(walk);
  };
  walk(replies);
  return found;
}

/** All the text a user would read in a reply: message text plus every TextBlock/FactSet in its cards. */
export function readable(replies: Reply[]): string {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const x of node) walk(x);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (typeof n.text === 'string') out.push(n.text);
    if (typeof n.title === 'string') out.push(n.title);
    if (typeof n.value === 'string' && n.type !== 'Input.Text') out.push(n.value);
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v);
  };
  for (const r of replies) {
    if (r.text) out.push(r.text);
    walk(r.attachments?.map((a) => a.content));
  }
  return out.join('\n');
}

/** A user's 1:1 chat with the bot, replies and proactive sends going to `connectorUrl` (a recording connector). */
export function personalChat(connectorUrl: string, user: TestUser) {
  return {
    serviceUrl: connectorUrl,
    conversation: { id: `a:chat-${user.aadObjectId}`, conversationType: 'personal', tenantId: 'tenant-1' },
  };
}

/** Clicks an Action.Execute button: an `adaptiveCard/action` invoke; returns the invoke response body. */
export async function execute(
  app: BotEndpoint,
  user: TestUser,
  verb: string,
  data: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await post(
    app,
    activity(user, {
      type: 'invoke',
      name: 'adaptiveCard/action',
      value: { action: { type: 'Action.Execute', verb, data } },
      replyToId: 'bot-message-1',
      deliveryMode: undefined,
      ...extra,
    }),
  );
  return { status: res.status, body: res.json };
}

/** What a card action's response shows: the replacing card's text, or the message. */
export function invokeText(body: Record<string, unknown>): string {
  const value = body.value;
  if (typeof value === 'string') return value;
  return readable([
    { type: 'message', attachments: [{ contentType: 'card', content: value as Record<string, unknown> }] },
  ]);
}
