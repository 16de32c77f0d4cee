import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryRows } from '../../src/broadcast/deliveries.js';
import { outboundKey, topicOf } from '../../src/broadcast/runner.js';
import { SendStore } from '../../src/broadcast/sends.js';
import { DeliveryStore } from '../../src/outbound/deliveries.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { azuriteConnection } from '../support/storage.js';
import { TeamsConnectorStandIn } from '../support/teams-connector.js';
import { personalChat, TestAccount, until } from '../outbound/support.js';

/** An app instance (the plan's runner and an outbound worker) in its own process, killed with SIGKILL. */
class Instance {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  sendId = '';
  stderr = '';
  /** The instance's last log lines (pino writes to stdout), for the state dump on time-out. */
  logs: string[] = [];

  /** `waiting`: the process loads, and starts the instance only when `go()` is called. */
  constructor(account: TestAccount, readonly id: string, start: boolean, waiting = false) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'test/broadcast/child.ts'], {
      env: { ...process.env, BC_STORAGE: azuriteConnection(), BC_PREFIX: account.prefix, BC_ID: id, BC_START: start ? '1' : '', BC_WAIT: waiting ? '1' : '' },
      stdio: [waiting ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    this.child.stderr?.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4_000);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      createInterface({ input: this.child.stdout! }).on('line', (line) => {
        try {
          const msg = JSON.parse(line) as { ready?: boolean; sendId?: string; level?: number };
          if (msg.level !== undefined) this.logs = [...this.logs.slice(-40), line.slice(0, 600)];
          if (msg.sendId) this.sendId = msg.sendId;
          if (msg.ready) resolve();
        } catch {
          // not ours
        }
      });
      void this.exited.then(() => reject(new Error(`instance exited before it was ready: ${this.stderr}`)));
    });
    this.ready.catch(() => {}); // a process killed before `go()` was never awaited
  }

  go(): void {
    this.child.stdin?.end('go\n');
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** What the send, its rows, their outbound rows, the queue and the instances' logs say (for a time-out's message). */
async function stateOf(sendId: string, all: readonly Instance[]): Promise<string> {
  const send = await (await SendStore.open(account.tables)).get(sendId);
  const outbound = await DeliveryStore.open(account.tables);
  const byState: Record<string, number> = {};
  const pending: object[] = [];
  for await (const r of (await DeliveryRows.open(account.tables)).rows(sendId)) {
    const k = `${r.state}${r.state === 'pending' ? (r.waiting ? '/waiting' : r.heldUntil ? '/held' : '/queued') : ''}`;
    byState[k] = (byState[k] ?? 0) + 1;
    if (r.state !== 'pending' || pending.length >= 12) continue;
    const m: OutboundMessage = { op: 'send', key: outboundKey(sendId, r.key, r.attempt), to: { kind: 'user', userKey: r.key }, content: '', topic: topicOf(sendId) };
    const { etag: _etag, ...out } = (await outbound.read(m)) ?? { etag: '', state: 'no outbound row' };
    pending.push({ key: r.key, waiting: r.waiting, attempt: r.attempt, chunk: r.chunk, queuedAt: r.queuedAt, outbound: out });
  }
  const { content: _content, audience: _audience, 'odata.metadata': _metadata, ...head } = (send ?? {}) as Record<string, unknown>;
  return [
    `at ${new Date().toISOString()} send: ${JSON.stringify(head)}`,
    `rows: ${JSON.stringify(byState)}`,
    `pending (first 12): ${JSON.stringify(pending)}`,
    `queue: ${await account.queueReport()}`,
    `connector: ${JSON.stringify(connector.counts)}`,
    ...all.map((i) => `instance ${i.id} (exit ${i.child.exitCode ?? i.child.signalCode ?? 'running'}):\n${i.logs.join('\n')}\n${i.stderr}`),
  ].join('\n');
}

let connector: TeamsConnectorStandIn;
let account: TestAccount;
const instances: Instance[] = [];
beforeAll(async () => {
  // Teams answers after a while, so a kill often falls while requests are out.
  connector = await new TeamsConnectorStandIn({ tenantPerSecond: 25, latencyMs: 40 }).start();
});
afterEach(async () => {
  await Promise.all(instances.splice(0).map((i) => i.kill()));
});
afterAll(async () => {
  await connector?.stop();
});

describe('a broadcast whose instance is killed mid-send', () => {
  it('is finished by another instance: every recipient once, or on record as unconfirmed; none messaged twice', async () => {
    account = new TestAccount();
    const chats = await account.conversations();
    const users = Array.from({ length: 90 }, (_, i) => `r${i}`);
    // The store's bulk path: 90 single writes in one burst can miss the 4 s storage deadline on a loaded machine.
    await chats.rememberAll(users.map((u) => personalChat(connector, u)));

    const first = new Instance(account, 'first', true);
    // The instance that takes over loads meanwhile and starts after the kill.
    const second = new Instance(account, 'second', false, true);
    instances.push(first, second);
    await first.ready;
    expect(first.sendId).not.toBe('');
    await until(() => connector.counts.delivered >= 25, 60_000, '25 deliveries');
    await first.kill();
    expect(connector.counts.delivered).toBeLessThan(users.length);

    second.go();
    await second.ready;
    const sends = await SendStore.open(account.tables);
    await until(async () => Boolean((await sends.get(first.sendId))?.finishedAt), 150_000, 'the send to finish').catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await stateOf(first.sendId, [first, second])}`);
    });

    const rows = new Map<string, { state: string; reason: string }>();
    for await (const r of (await DeliveryRows.open(account.tables)).rows(first.sendId)) rows.set(r.key, r);
    expect(rows.size).toBe(users.length);
    const tally = connector.tally(users.map((u) => `a:chat-${u}`));
    expect(tally.duplicates).toBe(0);
    // Whoever did not get it has a row that says the attempt was cut off ("resend to failed" covers them).
    const missed = users.filter((u) => !connector.deliveries.has(`a:chat-${u}`));
    for (const u of missed) expect(rows.get(`aad-${u}`)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^unconfirmed/) });
    // A row that says sent is a message that arrived; an unconfirmed one may have arrived (the kill came
    // between the request and its answer), which is why it is not sent again.
    const sent = users.filter((u) => rows.get(`aad-${u}`)?.state === 'sent');
    const unconfirmed = users.filter((u) => rows.get(`aad-${u}`)?.state === 'failed');
    expect(sent.length + unconfirmed.length).toBe(users.length);
    for (const u of sent) expect(connector.deliveries.get(`a:chat-${u}`), u).toHaveLength(1);
    // At most the requests out when the kill came (the worker holds 24 at once).
    expect(unconfirmed.length).toBeLessThanOrEqual(24);
    expect(connector.counts.selfCaused429).toBe(0);
  }, 240_000);
});
