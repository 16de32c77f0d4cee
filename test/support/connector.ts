import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Headers for a scripted 429/503 that tell the caller to try again at once (`Retry-After: 0`): the Bot Framework
 * SDK's own retries of a read (three, after about 1, 2 and 4 s otherwise) come straight away, and the app still
 * gets Teams' refusal after the last of them, as it would after waiting.
 */
export const RETRY_AT_ONCE: Readonly<Record<string, string>> = { 'retry-after': '0' };

export interface RecordedCall {
  method: string;
  path: string;
  conversationId?: string;
  activityId?: string;
  body: Record<string, unknown>;
}

/**
 * A local stand-in for the Bot Framework connector (what `serviceUrl` points at): records every send and
 * update, answers like the real service (201 with an id), and can be told to fail the next calls.
 */
export class RecordingConnector {
  readonly calls: RecordedCall[] = [];
  /** Calls answered with a scripted failure. */
  readonly rejected: RecordedCall[] = [];
  private server: Server | undefined;
  private seq = 0;
  private failures: { status: number; headers?: Record<string, string> }[] = [];
  private readonly answers: { method: string; path: RegExp; body: unknown }[] = [];
  private readonly held = new Map<string, { waiting: (() => void)[] }>();
  url = '';

  async start(): Promise<this> {
    this.server = createServer(async (req, res) => {
      const body = await readJson(req);
      const m = /^\/v3\/conversations\/([^/]+)(?:\/activities(?:\/([^/]+))?)?/.exec(req.url ?? '');
      const call: RecordedCall = {
        method: req.method ?? '',
        path: req.url ?? '',
        conversationId: m?.[1] ? decodeURIComponent(m[1]) : undefined,
        activityId: m?.[2] ? decodeURIComponent(m[2]) : undefined,
        body,
      };
      const hold = call.conversationId ? this.held.get(call.conversationId) : undefined;
      if (hold) await new Promise<void>((r) => hold.waiting.push(r));
      const failure = this.failures.shift();
      if (failure) {
        this.rejected.push(call);
        res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
        res.end(
          JSON.stringify({
            error: { code: failure.status === 429 ? 'Throttled' : 'ServiceError', message: 'x' },
          }),
        );
        return;
      }
      this.calls.push(call);
      const answer = this.answers.find((a) => a.method === req.method && a.path.test(req.url ?? ''));
      if (answer) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
        return;
      }
      if (req.method === 'POST' && req.url === '/v3/conversations') {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `conv-${++this.seq}`, activityId: `act-${this.seq}` }));
        return;
      }
      // As the Bot Connector answers: 201 for a new activity, 200 for reads, updates and deletes (a 201 where the
      // SDK expects 200 fails the call, e.g. a roster read).
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: call.activityId ?? `act-${++this.seq}` }));
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  /** Keeps every call to this conversation unanswered (as a slow Teams would) until `release` is called. */
  hold(conversationId: string): { release(): void; waiting(): number } {
    const entry = { waiting: [] as (() => void)[] };
    this.held.set(conversationId, entry);
    return {
      waiting: () => entry.waiting.length,
      release: () => {
        this.held.delete(conversationId);
        for (const go of entry.waiting.splice(0)) go();
      },
    };
  }

  failNext(status: number, times = 1, headers?: Record<string, string>): void {
    for (let i = 0; i < times; i++) this.failures.push({ status, headers });
  }

  /** Scripts the answer to a read, e.g. a roster page (GET …/pagedmembers). */
  answer(method: string, path: RegExp, body: unknown): void {
    this.answers.push({ method, path, body });
  }

  clearFailures(): void {
    this.failures = [];
  }

  sentTo(conversationId: string): RecordedCall[] {
    return this.calls.filter((c) => c.conversationId === conversationId && c.method === 'POST');
  }

  /**
   * Waits until `pred` holds. The bound only says when to give up on a message that never comes: generous, as a
   * loaded 2-core CI machine can take many times longer to post through the outbound queue than a quiet one.
   */
  async waitFor(pred: (calls: RecordedCall[]) => boolean, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.calls)) {
      if (Date.now() > end)
        throw new Error(`connector: condition not met; calls: ${JSON.stringify(this.calls)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** A request's JSON body (`{raw}` when it is not JSON). */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    return { raw: text };
  }
}
