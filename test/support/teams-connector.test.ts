import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { busiest } from '../../src/outbound/windows.js';
import { TeamsConnectorStandIn } from './teams-connector.js';

/**
 * The stand-in's limits are measured on when requests arrive, as Teams measures them. The app under test runs in
 * other processes (production builds, worker processes) while this process is busy with the test itself: a
 * request that arrived while this process's event loop was held up must still count at the time it arrived.
 */

let connector: TeamsConnectorStandIn | undefined;
afterEach(async () => {
  await connector?.stop();
  connector = undefined;
});

/**
 * Another process sends `count` requests, each at least `everyMs` after the one before (0: all at once), each to its own 1:1 chat (only
 * the tenant's window binds), without waiting for answers. `onFirst` runs once the first request is under way.
 */
async function sendFromAnotherProcess(url: string, count: number, everyMs: number, onFirst?: () => void): Promise<number[]> {
  const script = `
    const [url, count, everyMs] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
    // A first request the stand-in does not count: fetch loads lazily, and would send the first ones late and bunched.
    await fetch(url + 'warm-up').then((r) => r.text());
    const sends = [];
    let last = 0;
    for (let i = 0; i < count; i++) {
      // At least everyMs after the one before (a sender held up does not catch up with a burst).
      const at = last + everyMs;
      while (Date.now() < at) await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      last = Date.now();
      if (i === 0) console.log('first');
      const conversation = { id: 'a:chat-' + i, tenantId: 'tenant-1' };
      sends.push(fetch(url + 'v3/conversations/' + encodeURIComponent(conversation.id) + '/activities', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'message', text: 'hello ' + i, conversation }),
      }).then((r) => r.status));
    }
    console.log(JSON.stringify(await Promise.all(sends)));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, url, String(count), String(everyMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (onFirst && out.includes('first')) {
      const run = onFirst;
      onFirst = undefined;
      run();
    }
  });
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as number[];
}

/** Holds this process's event loop, as a test busy with other work does on a loaded machine. */
function holdEventLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

describe('Teams connector stand-in', () => {
  it('requests sent within the tenant limit get no 429, even when they arrive while this process is busy', async () => {
    connector = await new TeamsConnectorStandIn({ tenantPerSecond: 10 }).start();
    // 5 a second, against a limit of 10; the stand-in's process is held up for 1.5 s while they arrive.
    const statuses = await sendFromAnotherProcess(connector.url, 16, 200, () => setTimeout(() => holdEventLoop(1_500), 100));
    expect(statuses).toEqual(Array.from({ length: 16 }, () => 201));
    expect(connector.counts.selfCaused429).toBe(0);
    expect(connector.counts.delivered).toBe(16);
  }, 30_000);

  it('a burst over the tenant limit: what is over is answered 429, and what got through kept to the limit', async () => {
    connector = await new TeamsConnectorStandIn({ tenantPerSecond: 5 }).start();
    const statuses = await sendFromAnotherProcess(connector.url, 30, 0);
    const throttled = statuses.filter((s) => s === 429).length;
    expect(throttled).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 201)).toHaveLength(30 - throttled);
    expect(connector.counts).toMatchObject({ requests: 30, selfCaused429: throttled, delivered: 30 - throttled });
    const accepted = [...connector.deliveries.values()].flat().map((d) => d.at).sort((a, b) => a - b);
    expect(busiest(accepted, 1_000)).toBeLessThanOrEqual(5);
  }, 30_000);
});
