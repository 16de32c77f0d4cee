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

  it('answers /readyz with 503 and the reason when storage is not reachable', async () => {
    const server = createHttpServer({
      log: createLogger('silent'),
      processActivity: async () => ({ status: 200 }),
      ready: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:10002');
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const res = await fetch(`${server.url.replace('[::]', '127.0.0.1')}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'not ready', storage: expect.stringMatching(/ECONNREFUSED/) });
    } finally {
      server.close();
    }
  });
});
