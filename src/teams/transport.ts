import { AsyncLocalStorage } from 'node:async_hooks';
import { type CloudAdapter, TurnContext } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import type { StoredConversation } from '../conversations/store.js';
import type { Content } from '../outbound/message.js';
import { WarmConnections } from '../outbound/connections.js';
import { NotSent, type RequestOptions, type Transport, type TransportFailure } from '../outbound/transport.js';
import { toActivity } from './activity.js';
import { referenceOf } from './turn.js';

interface PipelinePolicy {
  name: string;
  sendRequest(request: unknown, next: (request: unknown) => Promise<unknown>): Promise<unknown>;
}

interface PipelineHolder {
  client?: {
    pipeline?: {
      getOrderedPolicies(): { name: string }[];
      removePolicy(p: { name: string }): unknown;
      addPolicy(p: PipelinePolicy, opts: { afterPhase: 'Sign' }): void;
    };
  };
}

/** The `go` of the request under way in this async context, asked by the pipeline's last policy. */
const lastCheck = new AsyncLocalStorage<() => boolean>();

const LAST_CHECK = 'rolloutDeskSlotCheck';

/**
 * The pipeline's last step before the HTTP client writes the request (synchronously from here): the worker's check
 * that the request is still in its slot. Checked earlier, a request held up by the policies before it (the token,
 * signing) or a starved event loop went out late: two requests too close together in one 1 s window, a 429. The
 * request goes through the transport's agent, which holds the connection `prepare` opened ahead (unless a proxy's
 * agent is set already).
 */
function lastCheckPolicy(connections: WarmConnections): PipelinePolicy {
  return {
    name: LAST_CHECK,
    sendRequest(request, next) {
      const go = lastCheck.getStore();
      if (go && !go()) return Promise.reject(new NotSent());
      const r = request as { url?: string; agent?: unknown };
      if (r.agent === undefined && r.url) r.agent = connections.agentFor(r.url);
      return next(request);
    },
  };
}

/**
 * The outbound worker's one request to the Bot Framework connector. The connector client comes from the
 * adapter (its credentials, its serialisation), with the client's own retry policy removed: it retries
 * 429/5xx three times by itself, which would hide 429s from the shared budget and send outside it.
 * The worker retries, under the budget, when Teams says so.
 */
export class TeamsTransport implements Transport {
  private readonly clients = new Map<string, { client: Promise<ConnectorClient>; at: number }>();
  private readonly connections = new WarmConnections();

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly botAppId: string,
    /** A client (and its token cache) is kept this long per service URL. */
    private readonly clientTtlMs = 10 * 60_000,
  ) {}

  /** The client (and its token), and a connection to the service opened ahead: the request need not wait to open one. */
  async prepare(conv: StoredConversation): Promise<void> {
    await this.client(conv);
    this.connections.warm(conv.serviceUrl);
  }

  async send(conv: StoredConversation, content: Content, opts: RequestOptions): Promise<{ activityId: string }> {
    const client = await this.client(conv);
    const activity = TurnContext.applyConversationReference({ ...toActivity(content) }, referenceOf(conv));
    const res = await lastCheck.run(opts.go, () =>
      client.conversations.sendToConversation(conv.conversationId, activity, { timeout: opts.timeoutMs }),
    );
    return { activityId: res.id ?? '' };
  }

  async update(
    conv: StoredConversation,
    activityId: string,
    content: Content,
    opts: RequestOptions,
  ): Promise<void> {
    const client = await this.client(conv);
    const activity = TurnContext.applyConversationReference({ ...toActivity(content), id: activityId }, referenceOf(conv));
    await lastCheck.run(opts.go, () =>
      client.conversations.updateActivity(conv.conversationId, activityId, activity, { timeout: opts.timeoutMs }),
    );
  }

  failure(err: unknown): TransportFailure {
    const e = (err ?? {}) as {
      statusCode?: number;
      code?: string;
      message?: string;
      name?: string;
      response?: { headers?: { get(name: string): string | undefined }; bodyAsText?: string };
    };
    const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
    let code = e.code;
    try {
      const body = e.response?.bodyAsText ? (JSON.parse(e.response.bodyAsText) as { error?: { code?: string } }) : {};
      code = body.error?.code ?? code;
    } catch {
      // not JSON: keep the client's code
    }
    const retryAfter = e.response?.headers?.get('retry-after');
    return {
      status,
      code,
      retryAfterMs: retryAfter === undefined ? undefined : retryAfterMs(retryAfter),
      message: (e.message ?? String(err)).slice(0, 200),
    };
  }

  private client(conv: StoredConversation): Promise<ConnectorClient> {
    const key = conv.serviceUrl;
    const cached = this.clients.get(key);
    if (cached && Date.now() - cached.at < this.clientTtlMs) return cached.client;
    const client = this.create(conv);
    this.clients.set(key, { client, at: Date.now() });
    client.catch(() => this.clients.delete(key));
    return client;
  }

  /** The adapter builds a connector client for a proactive turn; we keep it (without its retry policy). */
  private async create(conv: StoredConversation): Promise<ConnectorClient> {
    let client: ConnectorClient | undefined;
    await this.adapter.continueConversationAsync(this.botAppId, referenceOf(conv), async (ctx) => {
      client = ctx.turnState.get<ConnectorClient>(ctx.adapter.ConnectorClientKey);
    });
    if (!client) throw new Error('the adapter gave no connector client');
    const pipeline = (client as unknown as PipelineHolder).client?.pipeline;
    if (!pipeline) throw new Error('the connector client has no pipeline to take its retry policy from');
    for (const p of pipeline.getOrderedPolicies()) if (/retry/i.test(p.name)) pipeline.removePolicy({ name: p.name });
    // Once per pipeline, should the adapter ever hand the same client out again (a name twice fails every request).
    pipeline.removePolicy({ name: LAST_CHECK });
    pipeline.addPolicy(lastCheckPolicy(this.connections), { afterPhase: 'Sign' });
    return client;
  }
}

/** Retry-After is seconds, or an HTTP date. */
export function retryAfterMs(value: string): number | undefined {
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
