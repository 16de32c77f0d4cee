import net from 'node:net';

/**
 * A TCP relay that holds every chunk for `delayMs` each way: storage as far away as a loaded machine or a
 * distant region makes it, for races whose outcome depends on how long a call takes. Order is kept per direction.
 */
export interface SlowLink {
  /** `connectionString` with its table endpoint moved to the relay. */
  connectionString: string;
  stop(): Promise<void>;
}

export async function startSlowLink(connectionString: string, delayMs: number): Promise<SlowLink> {
  const m = /TableEndpoint=http:\/\/([^:/]+):(\d+)/.exec(connectionString);
  if (!m) throw new Error('no table endpoint in the connection string');
  const [, host = '', port = ''] = m;
  const sockets = new Set<net.Socket>();
  const relay = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delayMs));
    from.on('end', () => setTimeout(() => to.end(), delayMs));
    from.on('error', () => to.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: relayPort } = server.address() as net.AddressInfo;
  return {
    connectionString: connectionString.replace(`TableEndpoint=http://${host}:${port}`, `TableEndpoint=http://127.0.0.1:${relayPort}`),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
