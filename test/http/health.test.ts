import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { startTestApp } from '../support/app.js';

let app: App;
beforeAll(async () => {
  ({ app } = await startTestApp());
});
afterAll(async () => {
  await app?.stop();
});

describe('health endpoints', () => {
  it('answers /healthz and /readyz with JSON when storage is reachable', async () => {
    const live = await fetch(`${app.url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', storage: 'ok' });
  });

  it('answers /readyz with 503 and which dependency is not ready, without the error text (that goes to the log)', async () => {
    const lines: string[] = [];
    const server = createHttpServer({
      log: createLogger('info', { write: (line: string) => void lines.push(line) }),
      processActivity: async () => ({ status: 200 }),
      ready: async () => {
        throw new Error('connect ECONNREFUSED 10.20.30.40:10002 (account rolloutdeskprod)');
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const res = await fetch(`${server.url.replace('[::]', '127.0.0.1')}/readyz`);
      expect(res.status).toBe(503);
      const text = await res.text();
      // Anyone can call /readyz: it names the dependency, never the storage account, address or error.
      expect(JSON.parse(text)).toEqual({ status: 'not ready', storage: 'unreachable' });
      expect(text).not.toMatch(/ECONNREFUSED|10\.20|rolloutdeskprod/);
      expect(lines.join('\n')).toMatch(/ECONNREFUSED 10\.20\.30\.40:10002/);
    } finally {
      server.close();
    }
  });
});
