import type { AddressInfo } from 'node:net';
import type { Server } from 'restify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';

/** A server whose every dependency fails: each route must still answer, with JSON, and keep serving. */
let server: Server;
let url: string;
const logged: string[] = [];

beforeAll(async () => {
  server = createHttpServer({
    log: createLogger('error', { write: (l: string) => void logged.push(l) }),
    processActivity: async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'id')");
    },
    ready: async () => {
      throw new Error('storage down');
    },
    download: async () => {
      throw new Error('table gone');
    },
    calendar: async () => {
      throw new Error('table gone');
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.close();
});

const activity = {
  type: 'message',
  id: 'act-1',
  serviceUrl: 'http://127.0.0.1:9/',
  from: { id: '29:x' },
  recipient: { id: '28:bot' },
  conversation: { id: 'a:1' },
  text: 'hi',
};

describe('a route that fails inside', () => {
  it('answers 500 with a JSON error (no stack trace), logs it once, and the server keeps serving', async () => {
    const res = await fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
    });
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ error: 'InternalError', message: 'the request could not be handled' });
    expect(body).not.toContain('reading');
    expect(logged.filter((l) => l.includes('request failed'))).toHaveLength(1);
    const download = await fetch(`${url}/exports/some-token`);
    expect(download.status).toBe(500);
    expect(await download.json()).toMatchObject({ error: 'InternalError' });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('answers a calendar download it cannot read with the same JSON 500, logged, and keeps serving', async () => {
    const before = logged.filter((l) => l.includes('request failed')).length;
    const res = await fetch(`${url}/calendar/B-7K3F9Q2M.1900000000.${'a'.repeat(43)}`);
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ error: 'InternalError', message: 'the request could not be handled' });
    expect(body).not.toContain('table gone');
    expect(logged.filter((l) => l.includes('request failed'))).toHaveLength(before + 1);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});

describe('downloads', () => {
  let files: Server;
  let base: string;
  beforeAll(async () => {
    const saved: Record<string, { filename: string; contentType: string; content: string }> = {
      json: { filename: 'my-data-2026-12-01.json', contentType: 'application/json', content: '{"about":{"name":"Zoë"}}' },
      csv: { filename: 'rollout-issues.csv', contentType: 'text/csv', content: '"Ref","Title"\r\n"R-0001","Zoë"\r\n' },
    };
    files = createHttpServer({
      log: createLogger('silent'),
      processActivity: async () => ({ status: 200 }),
      ready: async () => {},
      download: async (token) => saved[token],
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    files?.close();
  });

  const bytes = async (token: string) => Buffer.from(await (await fetch(`${base}/exports/${token}`)).arrayBuffer());

  it('saves a `my data` JSON file that JSON readers accept as it is (no byte order mark, RFC 8259)', async () => {
    const saved = await bytes('json');
    expect(() => JSON.parse(saved.toString('utf8'))).not.toThrow();
    expect(JSON.parse(saved.toString('utf8'))).toEqual({ about: { name: 'Zoë' } });
  });

  it('still starts a CSV with the byte order mark Excel needs to read UTF-8', async () => {
    const saved = await bytes('csv');
    expect(saved.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(saved.subarray(3).toString('utf8')).toBe('"Ref","Title"\r\n"R-0001","Zoë"\r\n');
  });
});

describe('every answer carries the security headers', () => {
  let plain: Server;
  let base: string;
  beforeAll(async () => {
    plain = createHttpServer({
      log: createLogger('silent'),
      processActivity: async () => ({ status: 200 }),
      ready: async () => {},
      download: async (token) => (token === 'csv' ? { filename: 'rollout-issues.csv', contentType: 'text/csv', content: '"Ref"\r\n' } : undefined),
      calendar: async (token) => (token === 'ics' ? { filename: 'office-hours.ics', content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' } : undefined),
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    plain?.close();
  });

  it('sends nosniff on downloads, calendar files, health answers and every refusal', async () => {
    const paths = ['/exports/csv', '/exports/unknown', '/calendar/ics', '/calendar/unknown', '/healthz', '/readyz', '/exports/%E0%A4%A', '/calendar/%zz', '/nothing'];
    for (const path of paths) {
      const res = await fetch(`${base}${path}`);
      await res.arrayBuffer();
      expect(res.headers.get('x-content-type-options'), `${path} (${res.status})`).toBe('nosniff');
    }
    // A route that may be cached still says so itself: the tab's files are revalidated, not refused to caches.
    const css = await fetch(`${base}/tab/tab.css`);
    await css.arrayBuffer();
    expect(css.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers what no route serves (a malformed % escape, an unknown path, a wrong method) in the app’s JSON error shape, not cached', async () => {
    const cases = [
      { path: '/exports/%E0%A4%A', method: 'GET', status: 404, error: 'NotFound' },
      { path: '/calendar/%zz', method: 'GET', status: 404, error: 'NotFound' },
      { path: '/nothing', method: 'GET', status: 404, error: 'NotFound' },
      { path: '/healthz', method: 'DELETE', status: 405, error: 'MethodNotAllowed' },
    ];
    for (const c of cases) {
      const res = await fetch(`${base}${c.path}`, { method: c.method });
      const label = `${c.method} ${c.path}`;
      expect(res.status, label).toBe(c.status);
      expect(res.headers.get('x-content-type-options'), label).toBe('nosniff');
      expect(res.headers.get('cache-control'), label).toBe('no-store');
      expect(res.headers.get('content-type'), label).toMatch(/^application\/json/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort(), label).toEqual(['error', 'message']);
      expect(body.error, label).toBe(c.error);
      expect(String(body.message), label).not.toBe('');
      if (c.status === 405) expect(res.headers.get('allow'), label).toBe('GET');
    }
  });
});
