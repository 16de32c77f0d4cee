import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Keep-alive agents for the requests to Teams that can open a connection ahead of a request. A request that needs a
 * new connection leaves only once it is open (TCP, then TLS: up to ~340 ms on a loaded machine), well past the slot it
 * was planned for and the 20 ms it may be late; the outbound transport opens one while it prepares a slot (`warm`),
 * and the request takes it when it is made. One spare connection per service at a time: the rest come back to the
 * agent's pool as answers arrive. Behind a proxy nothing is opened ahead: requests go through the proxy's agent, and a
 * direct connection would fail or hang.
 */
export class WarmConnections {
  private readonly agents = new Map<string, Warmable>([
    ['http:', new Warmable(new http.Agent({ keepAlive: true }), 80)],
    ['https:', new Warmable(new https.Agent({ keepAlive: true }), 443)],
  ]);
  private readonly proxied: boolean;

  /** `env`: where a proxy is configured, as the HTTP pipeline reads it (HTTPS_PROXY, ALL_PROXY, HTTP_PROXY, either case). */
  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.proxied = PROXY_VARIABLES.some((name) => Boolean(env[name]?.trim()));
  }

  /** The agent requests to `url` go through (its connections opened ahead among them); undefined for another scheme. */
  agentFor(url: string): http.Agent | undefined {
    return this.agents.get(parse(url)?.protocol ?? '')?.agent;
  }

  /** Opens a connection to `url`'s host for the next request there, unless one is open and idle (or opening). */
  warm(url: string): void {
    const u = parse(url);
    if (u && !this.proxied) this.agents.get(u.protocol)?.warm(u);
  }
}

/** The variables Azure's HTTP pipeline takes a proxy from (its proxy policy then sets the request's agent). */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'HTTP_PROXY', 'http_proxy'];

const parse = (url: string): URL | undefined => {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
};

/** A connection opened ahead and not taken is closed after this (servers close idle ones after about 5 s). */
const SPARE_IDLE_MS = 4_000;

type Options = http.ClientRequestArgs & { servername?: string };

class Warmable {
  /** Connections opened ahead, by host:port, not yet taken by a request. */
  private readonly spare = new Map<string, Duplex>();
  private readonly open: (options: Options, cb?: (err: Error | null, stream: Duplex) => void) => Duplex;

  constructor(
    readonly agent: http.Agent,
    private readonly defaultPort: number,
  ) {
    this.open = agent.createConnection.bind(agent) as typeof this.open;
    // The agent asks for a connection when its pool has no idle one: the one opened ahead, if there is one.
    agent.createConnection = ((options: Options, cb?: (err: Error | null, stream: Duplex) => void) =>
      this.take(`${options.host ?? options.hostname ?? 'localhost'}:${Number(options.port) || defaultPort}`) ?? this.open(options, cb)) as typeof agent.createConnection;
  }

  warm(u: URL): void {
    const port = Number(u.port) || this.defaultPort;
    const host = u.hostname;
    const origin = `${host}:${port}`;
    if (this.spare.has(origin) || this.idle(origin)) return;
    const socket = this.open({ host, port, ...(u.protocol === 'https:' && !isIP(host) ? { servername: host } : {}) });
    // A spare keeps no process alive, goes when idle too long, and is forgotten when it closes (or fails to open).
    (socket as Duplex & { unref?: () => void }).unref?.();
    (socket as Duplex & { setTimeout?: (ms: number, cb: () => void) => void }).setTimeout?.(SPARE_IDLE_MS, () => socket.destroy());
    socket.on('error', this.dropOnError);
    socket.once('close', () => {
      if (this.spare.get(origin) === socket) this.spare.delete(origin);
    });
    this.spare.set(origin, socket);
  }

  private readonly dropOnError = function (this: Duplex) {
    this.destroy();
  };

  private take(origin: string): Duplex | undefined {
    const socket = this.spare.get(origin);
    if (!socket) return undefined;
    this.spare.delete(origin);
    if (socket.destroyed || !socket.writable) return undefined;
    socket.removeAllListeners('timeout');
    socket.off('error', this.dropOnError);
    (socket as Duplex & { setTimeout?: (ms: number) => void }).setTimeout?.(0);
    (socket as Duplex & { ref?: () => void }).ref?.();
    return socket;
  }

  /** The agent's pool holds an idle connection to this host and port. */
  private idle(origin: string): boolean {
    return Object.entries(this.agent.freeSockets).some(([name, list]) => name.startsWith(`${origin}:`) && (list?.length ?? 0) > 0);
  }
}
