import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WarmConnections } from '../../src/outbound/connections.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { personalChat, standInSuite } from './support.js';

/**
 * This process's client sockets and HTTP requests, in the order they happen (Node's diagnostics channels, published
 * synchronously): which sockets exist, and which of them had connected, when a request was issued. No clocks.
 */
function watchClient() {
  const sockets: Socket[] = [];
  const requests: { host: string; path: string; openBefore: Socket[] }[] = [];
  const onSocket = (m: unknown) => void sockets.push((m as { socket: Socket }).socket);
  const onRequest = (m: unknown) => {
    const req = (m as { request: http.ClientRequest }).request;
    requests.push({ host: String(req.getHeader('host') ?? req.host), path: req.path, openBefore: sockets.filter((s) => !s.connecting && !s.destroyed) });
  };
  diagnostics.subscribe('net.client.socket', onSocket);
  diagnostics.subscribe('http.client.request.start', onRequest);
  return {
    sockets,
    requests,
    stop() {
      diagnostics.unsubscribe('net.client.socket', onSocket);
      diagnostics.unsubscribe('http.client.request.start', onRequest);
    },
  };
}

describe('WarmConnections', () => {
  let server: http.Server;
  let url = '';
  let accepted = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    server.on('connection', () => accepted++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterEach(() => {
    accepted = 0;
    server.closeAllConnections();
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("hands the connection warm() opened to the agent's next connection for that host, once; the request takes it", async () => {
    const watch = watchClient();
    try {
      const warm = new WarmConnections({});
      warm.warm(url);
      expect(watch.sockets).toHaveLength(1);
      const agent = warm.agentFor(url)!;
      const port = Number(new URL(url).port);
      const taken = (agent as unknown as { createConnection(o: object): Socket }).createConnection({ host: '127.0.0.1', port });
      expect(taken).toBe(watch.sockets[0]);
      warm.warm(url); // opened again: the first was taken
      const body = await new Promise<string>((resolve, reject) =>
        http.get(url, { agent }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        }).on('error', reject),
      );
      expect(body).toBe('ok');
      // Two opened ahead and none as the request left: it went over the second.
      expect(watch.sockets).toHaveLength(2);
      expect(watch.requests).toHaveLength(1);
      taken.destroy();
    } finally {
      watch.stop();
    }
  });

  it('opens nothing ahead behind a proxy (a direct connection would fail or hang); requests go through the proxy agent', () => {
    const watch = watchClient();
    try {
      new WarmConnections({ HTTPS_PROXY: 'http://proxy.example:3128' }).warm(url);
      new WarmConnections({ http_proxy: 'http://proxy.example:3128' }).warm(url);
      expect(watch.sockets).toEqual([]);
      expect(accepted).toBe(0);
    } finally {
      watch.stop();
    }
  });
});

// A stand-in of this file's own: every connection it counts is one this file's instance opened.
const suite = standInSuite({ latencyMs: 40 });

describe('the first request to a service the instance has not sent to yet', () => {
  it('goes over a connection opened before it was issued (while its slot was planned), not one opened as it leaves', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'dana'));
    const { outbox } = await account.instance();
    const connector = new URL(suite.connector.url).host;
    const watch = watchClient();
    try {
      const m: OutboundMessage = { op: 'send', key: 'warm-1', to: { kind: 'user', userKey: 'aad-dana' }, content: 'Welcome to FieldLedger.' };
      await outbox.enqueue([m]);
      const [row] = await account.settled([m]);
      expect(row?.state).toBe('sent');
      const first = watch.requests.find((r) => r.host === connector && r.path.startsWith('/v3/conversations'));
      expect(first).toBeDefined();
      // When it was issued a connection to the connector had already connected: it did not wait to open one (TCP,
      // then TLS with Teams: up to ~340 ms on a loaded machine, past the 20 ms a request may be late for its slot).
      expect(first!.openBefore.some((s) => `${s.remoteAddress}:${s.remotePort}` === connector)).toBe(true);
      // And one connection carried it.
      expect(suite.connector.connectionTimes).toHaveLength(1);
    } finally {
      watch.stop();
    }
  });
});
