import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Whether the event loop stays free while some work runs: `begin` starts counting its turns and asks a stand-in
 * for the app's /healthz (answered only when the loop is free to take the request); `end` stops, and says how
 * many turns there were and whether /healthz answered before the work was done.
 */
export interface LoopProbe {
  begin(): void;
  end(): Promise<{ ticks: number; answered: boolean }>;
  close(): Promise<void>;
}

export async function startLoopProbe(): Promise<LoopProbe> {
  const health = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(health.address() as AddressInfo).port}/healthz`;
  let ticks = 0;
  let counting = false;
  let done = false;
  let answered = false;
  let asked: Promise<void> = Promise.resolve();
  const tick = () => {
    ticks++;
    if (counting) setImmediate(tick);
  };
  return {
    begin() {
      counting = true;
      setImmediate(tick);
      asked = fetch(url).then(async (r) => {
        if ((await r.text()) === 'ok' && !done) answered = true;
      });
    },
    async end() {
      done = true;
      counting = false;
      await asked;
      return { ticks, answered };
    },
    async close() {
      health.closeAllConnections();
      await new Promise<void>((r) => health.close(() => r()));
    },
  };
}
