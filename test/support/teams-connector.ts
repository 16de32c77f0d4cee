import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { busiest, CONVERSATION_WINDOWS, type Window } from '../../src/outbound/windows.js';
import { readJson } from './connector.js';

/**
 * A stand-in for the Teams connector at scale (test tooling). It enforces Teams' published limits for bots —
 * per conversation 7/1 s, 8/2 s, 60/30 s, 1,800/h; per tenant `tenantPerSecond` requests per second — as sliding
 * windows over request arrival times, answering 429 with Retry-After when one is passed, and injects faults like
 * the real service (seeded): 429 with Retry-After, 502, and conversations whose person blocked the bot (403
 * `MessageWritesBlocked` on every request). It counts deliveries per conversation, so duplicates and missed
 * recipients can be checked.
 *
 * `scale` runs it on a faster clock: every window and Retry-After is divided by it (limits scale with time).
 *
 * Arrival times are taken in a worker thread that only relays requests (FRONT_DOOR): this thread runs the test
 * too, and while its event loop is held up, requests that arrived evenly would be seen all at once, bunched into
 * one window, and answered 429 although the sender kept to the limits (Teams stamps them as they reach it).
 */
export interface StandInOptions {
  tenantPerSecond?: number;
  seed?: number;
  /** Share of requests answered 429 regardless of load. */
  p429?: number;
  p502?: number;
  /** Share of conversations whose person blocked the bot. */
  pBlocked?: number;
  /** Retry-After of an injected 429, in (scaled) seconds. */
  injectedRetryAfterSec?: number;
  /** Answer after this many ms (the request is counted when it arrives). */
  latencyMs?: number;
  scale?: number;
}

export interface Delivery {
  conversationId: string;
  activityId: string;
  at: number;
  body: Record<string, unknown>;
}

export interface StandInCounts {
  requests: number;
  delivered: number;
  updates: number;
  /** 429s because a limit was passed: the sender's own fault. */
  selfCaused429: number;
  injected429: number;
  injected502: number;
  blocked403: number;
}

export class TeamsConnectorStandIn {
  readonly counts: StandInCounts = {
    requests: 0,
    delivered: 0,
    updates: 0,
    selfCaused429: 0,
    injected429: 0,
    injected502: 0,
    blocked403: 0,
  };
  /** Successful sends per conversation id. */
  readonly deliveries = new Map<string, Delivery[]>();
  /** The current content of every message, by activity id (what a person sees after updates). */
  readonly messages = new Map<string, Record<string, unknown>>();
  /** Every version of every message, in the order the requests arrived. */
  readonly history = new Map<string, Record<string, unknown>[]>();
  /** Arrival times (ms) of every request, per tenant and per conversation. */
  readonly tenantTimes = new Map<string, number[]>();
  readonly conversationTimes = new Map<string, number[]>();
  /** When each self-caused 429 happened. */
  readonly selfCausedAt: number[] = [];
  /** When each connection to the stand-in was opened (as its front door accepted it), in order. */
  readonly connectionTimes: number[] = [];
  /** Scripted answers for the next requests to a conversation (tests), before any other rule. */
  private readonly scripted = new Map<string, { status: number; code?: string; retryAfterSec?: number }[]>();
  private readonly opts: Required<StandInOptions>;
  private readonly tenantWindow: Window;
  private readonly convWindows: Window[];
  private server: Server | undefined;
  private frontDoor: Worker | undefined;
  private random: () => number;
  private seq = 0;
  url = '';

  constructor(opts: StandInOptions = {}) {
    this.opts = {
      tenantPerSecond: 50,
      seed: 1,
      p429: 0,
      p502: 0,
      pBlocked: 0,
      injectedRetryAfterSec: 1,
      latencyMs: 0,
      scale: 1,
      ...opts,
    };
    this.random = mulberry32(this.opts.seed);
    this.tenantWindow = { count: this.opts.tenantPerSecond, ms: 1_000 / this.opts.scale };
    this.convWindows = CONVERSATION_WINDOWS.map((w) => ({ count: w.count, ms: w.ms / this.opts.scale }));
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch(() => {
        res.writeHead(500);
        res.end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    const backPort = (this.server.address() as AddressInfo).port;
    const worker = new Worker(FRONT_DOOR, { eval: true, workerData: { port, backPort } });
    this.frontDoor = worker;
    worker.on('message', (m: { connection?: number }) => {
      if (m.connection !== undefined) this.connectionTimes.push(m.connection);
    });
    const frontPort = await new Promise<number>((resolve, reject) => {
      worker.once('message', (m: { port: number }) => resolve(m.port));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the stand-in's front door stopped (${code})`)));
    });
    this.url = `http://127.0.0.1:${frontPort}/`;
    return this;
  }

  async stop(): Promise<void> {
    await this.frontDoor?.terminate();
    this.frontDoor = undefined;
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Whether this conversation's person blocked the bot (decided by the seed, the same on every run). */
  isBlocked(conversationId: string): boolean {
    return this.opts.pBlocked > 0 && hashUnit(`${this.opts.seed}:${conversationId}`) < this.opts.pBlocked;
  }

  /** The next `times` requests to this conversation get this answer (e.g. 403, or 429 with Retry-After). */
  script(conversationId: string, status: number, times = 1, extra: { code?: string; retryAfterSec?: number } = {}): void {
    const list = this.scripted.get(conversationId) ?? [];
    for (let i = 0; i < times; i++) list.push({ status, ...extra });
    this.scripted.set(conversationId, list);
  }

  /** Per expected recipient: how many got it more than once, and how many never got it (blocked ones excepted). */
  tally(expected: Iterable<string>): { recipients: number; delivered: number; duplicates: number; missed: number; blocked: number } {
    let recipients = 0;
    let delivered = 0;
    let duplicates = 0;
    let missed = 0;
    let blocked = 0;
    for (const id of expected) {
      recipients++;
      const n = this.deliveries.get(id)?.length ?? 0;
      if (n > 0) delivered++;
      if (n > 1) duplicates += n - 1;
      if (n === 0) {
        if (this.isBlocked(id)) blocked++;
        else missed++;
      }
    }
    return { recipients, delivered, duplicates, missed, blocked };
  }

  /** The most requests seen in any one window, per tenant and the worst conversation (a check on the stand-in itself). */
  busiest(): { tenantPerWindow: number; conversationPer1s: number } {
    let tenantPerWindow = 0;
    for (const times of this.tenantTimes.values()) tenantPerWindow = Math.max(tenantPerWindow, busiest(times, this.tenantWindow.ms));
    let conversationPer1s = 0;
    for (const times of this.conversationTimes.values())
      conversationPer1s = Math.max(conversationPer1s, busiest(times, this.convWindows[0]!.ms));
    return { tenantPerWindow, conversationPer1s };
  }

  /**
   * Forgets what was delivered and counted (the windows' history too) and the scripted answers no request took (one
   * test's would answer the next test's requests), keeping the blocked set.
   */
  reset(): void {
    this.scripted.clear();
    for (const k of Object.keys(this.counts) as (keyof StandInCounts)[]) this.counts[k] = 0;
    this.deliveries.clear();
    this.messages.clear();
    this.history.clear();
    this.tenantTimes.clear();
    this.selfCausedAt.length = 0;
    this.connectionTimes.length = 0;
    this.conversationTimes.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Stamped by the front door as the request reached it; Date.now() only for a request sent here directly.
    const arrived = Number(req.headers[ARRIVED_HEADER]) || Date.now();
    const body = await readJson(req);
    const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/?]+))?/.exec(req.url ?? '');
    if (!m?.[1] || !['POST', 'PUT'].includes(req.method ?? '')) {
      return this.answer(res, 404, { error: { code: 'NotFound', message: `${req.method} ${req.url}` } });
    }
    const conversationId = decodeURIComponent(m[1]);
    const root = conversationId.split(';messageid=')[0] ?? conversationId;
    const isUpdate = req.method === 'PUT';
    const activityId = m[2] ? decodeURIComponent(m[2]) : undefined;
    const tenant = tenantOf(body);
    this.counts.requests++;

    const tenantTimes = push(this.tenantTimes, tenant, arrived);
    const convTimes = push(this.conversationTimes, root, arrived);
    const over = [
      retryAfter(tenantTimes, this.tenantWindow, arrived),
      ...this.convWindows.map((w) => retryAfter(convTimes, w, arrived)),
    ].reduce((a, b) => Math.max(a, b), 0);

    const scripted = this.scripted.get(root)?.shift();
    if (scripted) {
      return this.answer(
        res,
        scripted.status,
        { error: { code: scripted.code ?? codeFor(scripted.status), message: 'scripted' } },
        scripted.retryAfterSec !== undefined ? { 'retry-after': String(scripted.retryAfterSec) } : {},
      );
    }
    if (over > 0) {
      this.counts.selfCaused429++;
      this.selfCausedAt.push(arrived);
      return this.answer(
        res,
        429,
        { error: { code: 'Throttled', message: 'rate limit exceeded' } },
        { 'retry-after': String(Math.max(1, Math.ceil((over * this.opts.scale) / 1_000))) },
      );
    }
    if (this.isBlocked(root)) {
      this.counts.blocked403++;
      return this.answer(res, 403, { error: { code: 'MessageWritesBlocked', message: 'The user blocked the bot' } });
    }
    const roll = this.random();
    if (roll < this.opts.p429) {
      this.counts.injected429++;
      return this.answer(
        res,
        429,
        { error: { code: 'Throttled', message: 'injected' } },
        { 'retry-after': String(this.opts.injectedRetryAfterSec) },
      );
    }
    if (roll < this.opts.p429 + this.opts.p502) {
      this.counts.injected502++;
      return this.answer(res, 502, { error: { code: 'ServiceError', message: 'injected' } });
    }
    if (isUpdate) {
      if (!activityId || !this.messages.has(activityId))
        return this.answer(res, 404, { error: { code: 'ActivityNotFound', message: 'no such message' } });
      this.counts.updates++;
      this.messages.set(activityId, body);
      this.history.get(activityId)?.push(body);
      return this.answer(res, 200, { id: activityId });
    }
    const id = `act-${++this.seq}`;
    this.counts.delivered++;
    this.messages.set(id, body);
    this.history.set(id, [body]);
    const list = this.deliveries.get(root) ?? [];
    list.push({ conversationId, activityId: id, at: arrived, body });
    this.deliveries.set(root, list);
    return this.answer(res, 201, { id });
  }

  private async answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    if (this.opts.latencyMs > 0) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
}

/**
 * ms until a request at `now` would fit `w` (0: it fits), given the arrivals (ascending, this one among them). Every
 * window of `w.ms` that holds this request is checked, also those reaching past it: requests are handled in about,
 * not exactly, the order they arrived, so a later arrival may have been let through already, and this one must not
 * make a window it shares with those too full.
 */
function retryAfter(times: number[], w: Window, now: number): number {
  const at = times.lastIndexOf(now);
  let worst = 0;
  // A fullest window holding this request starts at an arrival no later than it and no more than w.ms before it.
  for (let start = at; start >= 0 && (times[start] ?? 0) > now - w.ms; start--) {
    const from = times[start] ?? 0;
    let end = start;
    while (end + 1 < times.length && (times[end + 1] ?? 0) < from + w.ms) end++;
    if (end - start + 1 > w.count) worst = Math.max(worst, from + w.ms - now);
  }
  return worst;
}

/** Adds an arrival in time order (requests are handled in about, not exactly, the order they arrived). */
function push(map: Map<string, number[]>, key: string, at: number): number[] {
  const list = map.get(key) ?? [];
  let i = list.length;
  while (i > 0 && (list[i - 1] ?? 0) > at) i--;
  list.splice(i, 0, at);
  map.set(key, list);
  return list;
}

const ARRIVED_HEADER = 'x-stand-in-arrived';

/**
 * The stand-in's listening socket, in a worker thread whose event loop does nothing else: it stamps each request
 * with the time it arrived and relays it, and the answer back, over a kept-alive connection to the stand-in.
 * Plain JavaScript (a worker evaluates it as it is).
 */
const FRONT_DOOR = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const agent = new http.Agent({ keepAlive: true });
const server = http.createServer((req, res) => {
  const headers = { ...req.headers, '${ARRIVED_HEADER}': String(Date.now()) };
  const back = http.request(
    { host: '127.0.0.1', port: workerData.backPort, method: req.method, path: req.url, headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode || 500, answer.headers);
      answer.pipe(res);
    },
  );
  back.on('error', () => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
  req.pipe(back);
});
server.keepAliveTimeout = 60000;
server.on('connection', () => parentPort.postMessage({ connection: Date.now() }));
server.listen(workerData.port, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
`;

function tenantOf(body: Record<string, unknown>): string {
  const conv = body.conversation as { tenantId?: string } | undefined;
  const data = body.channelData as { tenant?: { id?: string } } | undefined;
  return conv?.tenantId ?? data?.tenant?.id ?? '';
}

function codeFor(status: number): string {
  if (status === 403) return 'MessageWritesBlocked';
  if (status === 429) return 'Throttled';
  return 'ServiceError';
}

/** A small seeded generator, so a run's faults are the same every time. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashUnit(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return mulberry32(h >>> 0)();
}
