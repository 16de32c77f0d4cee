import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryRows } from '../../src/broadcast/deliveries.js';
import { SendStore } from '../../src/broadcast/sends.js';
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

  constructor(account: TestAccount, id: string, start: boolean) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'test/broadcast/child.ts'], {
      env: { ...process.env, BC_STORAGE: azuriteConnection(), BC_PREFIX: account.prefix, BC_ID: id, BC_START: start ? '1' : '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr?.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4_000);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      createInterface({ input: this.child.stdout! }).on('line', (line) => {
        try {
          const msg = JSON.parse(line) as { ready?: boolean; sendId?: string };
          if (msg.sendId) this.sendId = msg.sendId;
          if (msg.ready) resolve();
        } catch {
          // not ours
        }
      });
      void this.exited.then(() => reject(new Error(`instance exited before it was ready: ${this.stderr}`)));
    });
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
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
    instances.push(first);
    await first.ready;
    expect(first.sendId).not.toBe('');
    await until(() => connector.counts.delivered >= 25, 60_000, '25 deliveries');
    await first.kill();
    expect(connector.counts.delivered).toBeLessThan(users.length);

    const second = new Instance(account, 'second', false);
    instances.push(second);
    await second.ready;
    const sends = await SendStore.open(account.tables);
    await until(async () => Boolean((await sends.get(first.sendId))?.finishedAt), 150_000, 'the send to finish');

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
