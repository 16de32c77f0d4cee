import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { gzipBomb } from '../../scripts/fuzz/bodies.js';
import { activity, readable, startTestApp, USERS } from '../support/app.js';

let app: App;
beforeAll(async () => {
  ({ app } = await startTestApp());
});
afterAll(async () => {
  await app?.stop();
});

async function postRaw(body: Buffer | string, headers: Record<string, string>) {
  const res = await fetch(`${app.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json, headers: res.headers };
}

async function healthy(): Promise<boolean> {
  const res = await fetch(`${app.url}/healthz`);
  return res.status === 200;
}

describe('request bodies are bounded after decompression', () => {
  it('answers a gzip body that inflates to 1 GB with 413, and keeps serving', async () => {
    const bomb = gzipBomb(1024 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(1_100_000); // under the 1 MB wire limit: only the inflated size is too big
    const res = await postRaw(bomb, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ error: 'PayloadTooLarge' });
    expect(await healthy()).toBe(true);
  });

  it('stops inflating a 200 MB body at the limit instead of holding it in memory', async () => {
    const before = process.resourceUsage().maxRSS; // KiB, the peak so far
    const bomb = gzipBomb(200 * 1024 * 1024);
    const res = await postRaw(bomb, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    // The server says how far it read: no more than the limit and one inflate chunk past it.
    const read = Number(res.json.inflatedBytesRead);
    const limit = Number(res.json.limitBytes);
    expect(limit).toBeGreaterThan(0);
    expect(read).toBeGreaterThan(limit);
    expect(read).toBeLessThanOrEqual(limit + 64 * 1024);
    // …and the process's peak memory did not grow by anything like the inflated size.
    expect(process.resourceUsage().maxRSS - before).toBeLessThan(100 * 1024);
    expect(await healthy()).toBe(true);
  });

  it('still accepts a small gzip-compressed activity', async () => {
    const body = gzipSync(JSON.stringify(activity(USERS.staff, { text: 'whoami' })));
    const res = await postRaw(body, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(readable(res.json.activities as never)).toContain('Staff');
  });

  it('refuses an encoding it does not decode with 415 and says which it accepts', async () => {
    const res = await postRaw('xxxx', { 'content-encoding': 'compress' });
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ error: 'UnsupportedMediaType' });
    expect(res.headers.get('accept-encoding')).toMatch(/gzip/);
  });

  it('answers 400 for a gzip body that is not gzip', async () => {
    const res = await postRaw('definitely not gzip', { 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'BadRequest' });
  });

  it('answers 413 for a plain body over the limit without reading it all', async () => {
    const big = JSON.stringify(activity(USERS.staff, { text: 'x'.repeat(2 * 1024 * 1024) }));
    const res = await postRaw(big, {});
    expect(res.status).toBe(413);
    expect(await healthy()).toBe(true);
  });

  it('answers 400 for JSON nested deeper than any activity', async () => {
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    const res = await postRaw(JSON.stringify(activity(USERS.staff, { text: 'hi', value: '__DEEP__' })).replace('"__DEEP__"', deep), {});
    expect(res.status).toBe(400);
    expect(String(res.json.message)).toMatch(/nested/);
  });

  it('answers 415 for a body that is not JSON by its content type', async () => {
    const res = await postRaw('text=hello', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
  });
});
