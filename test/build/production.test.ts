import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activity, USERS } from '../support/app.js';
import { productionBuild } from '../support/build.js';
import { RecordingConnector } from '../support/connector.js';
import {
  LocalBotIdentity,
  type ProductionInstance,
  runProductionToExit,
  startProduction,
} from '../support/production.js';
import { azuriteConnection } from '../support/storage.js';
import { tempDir } from '../support/tempdir.js';

/** Each test starts a production build (a process, its storage and identity checks): seconds on a busy machine. */
const STARTS_AN_INSTANCE_MS = 150_000;

let root: string;
let identity: LocalBotIdentity;
const started: ProductionInstance[] = [];

beforeAll(async () => {
  [root, identity] = await Promise.all([productionBuild(), new LocalBotIdentity().start()]);
  // tsc and the tab's bundles: over a minute when another test file is busy on the same cores.
}, 240_000);
afterAll(async () => {
  await Promise.all(started.map((p) => p.kill()));
  await identity?.stop();
});

async function start(env: Record<string, string> = {}): Promise<ProductionInstance> {
  const instance = await startProduction({
    root,
    identity,
    connectionString: azuriteConnection(),
    tablePrefix: `p${randomBytes(4).toString('hex')}`,
    env: { ROLLOUT_TEAM_IDS: USERS.lead.aadObjectId, ...env },
  });
  started.push(instance);
  return instance;
}

/**
 * The instance the first two tests talk to (started once: each start is seconds of CPU on a busy machine, and
 * neither test changes what the other reads; each test brings its own connector).
 */
let serving: Promise<ProductionInstance> | undefined;
const servingInstance = () => (serving ??= start());

async function post(instance: ProductionInstance, body: Record<string, unknown>, token?: string) {
  return fetch(`${instance.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

describe('node dist/main.js in production', () => {
  it('serves a turn carrying a valid channel token, and refuses one without', async () => {
    const app = await servingInstance();
    expect(app.output()).toContain('authenticated, UserAssignedMsi');
    expect(app.output()).not.toContain('embedded Azurite');

    const serviceUrl = 'http://127.0.0.1:9/';
    const body = activity(USERS.lead, { text: 'whoami', serviceUrl });
    const ok = await post(app, body, identity.token(serviceUrl));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Rollout team');

    expect((await post(app, activity(USERS.lead, { text: 'whoami' }))).status).toBe(401);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);

    // The dashboard tab: its page and the script it loads, bundled by the build.
    const page = await fetch(`${app.url}/tab/index.html`);
    expect(page.status).toBe(200);
    const script = /<script src="([\w-]+\.js)"><\/script>/.exec(await page.text())?.[1];
    expect(script).toBe('dashboard-bundle.js');
    const bundle = await fetch(`${app.url}/tab/${script}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toContain('javascript');
    expect(await bundle.text()).toContain('/api/tab/');
  }, STARTS_AN_INSTANCE_MS);

  it('replies through the connector with a token from the managed identity', async () => {
    const connector = await new RecordingConnector().start();
    try {
      const app = await servingInstance();
      const body = activity(USERS.staff, { text: 'help', serviceUrl: connector.url, deliveryMode: undefined });
      expect((await post(app, body, identity.token(connector.url))).status).toBe(200);
      await connector.waitFor((calls) => calls.some((c) => c.method === 'POST'));
      expect(identity.msi.issued.map((t) => t.resource)).toContain('https://api.botframework.com');
    } finally {
      await connector.stop();
    }
  }, STARTS_AN_INSTANCE_MS);

  it('on SIGTERM finishes the turn in flight, turns new requests away, and exits 0', async () => {
    // A connector that holds the bot's reply until told to answer: the turn stays in flight meanwhile.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let replies = 0;
    let arrived: () => void = () => {};
    const replyArrived = new Promise<void>((r) => (arrived = r));
    const slow: Server = createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        arrived();
        await held;
        replies++;
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `reply-${replies}` }));
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    const serviceUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
    try {
      const app = await start();
      const body = activity(USERS.staff, { text: 'help', serviceUrl, deliveryMode: undefined });
      const inFlight = post(app, body, identity.token(serviceUrl));
      await replyArrived;

      const exit = app.stop('SIGTERM');
      // Wait until the instance has begun shutting down, then try a new request: it must not be served.
      while (!app.output().includes('shutting down')) await new Promise((r) => setTimeout(r, 20));
      const late = await post(app, activity(USERS.staff, { text: 'help', serviceUrl }), identity.token(serviceUrl))
        .then((r) => r.status)
        .catch(() => 'refused');
      expect([503, 'refused']).toContain(late);

      release();
      expect((await inFlight).status).toBe(200);
      expect(replies).toBe(1);
      expect(await exit).toBe(0);
      expect(app.output()).toContain('"boundSeconds":20');
    } finally {
      release();
      slow.closeAllConnections();
      await new Promise<void>((r) => slow.close(() => r()));
    }
  }, STARTS_AN_INSTANCE_MS);

  it('exits non-zero once SHUTDOWN_TIMEOUT_SECONDS has passed with work still in flight', async () => {
    // A connector that never answers: the turn cannot finish, so the bound decides.
    let requested = false;
    const silent: Server = createServer(() => {
      requested = true;
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const serviceUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    try {
      const app = await start({ SHUTDOWN_TIMEOUT_SECONDS: '1' });
      void post(app, activity(USERS.staff, { text: 'help', serviceUrl, deliveryMode: undefined }), identity.token(serviceUrl)).catch(
        () => {},
      );
      while (!requested) await new Promise((r) => setTimeout(r, 20));
      expect(await app.stop('SIGTERM')).toBe(1);
      expect(app.output()).toContain('shutdown bound reached');
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  }, STARTS_AN_INSTANCE_MS);

  it('runs on embedded storage outside production: the build carries the files tsc does not emit', async () => {
    // The Azurite orphan guard is a .cjs file beside src/storage; a build without it could not start storage.
    const dev = await start({ NODE_ENV: 'development', AZURE_STORAGE_CONNECTION_STRING: '', TABLE_PREFIX: '', PLAYGROUND: 'false', DATA_DIR: tempDir('dist-embedded') });
    const ready = await fetch(`${dev.url}/readyz`);
    expect(ready.status, dev.output()).toBe(200);
    await dev.stop();
  }, STARTS_AN_INSTANCE_MS);

  it('refuses to start unauthenticated or on embedded storage, naming the setting', async () => {
    const storage = { AZURE_STORAGE_CONNECTION_STRING: azuriteConnection() };
    const unauthenticated = await runProductionToExit(root, { NODE_ENV: 'production', ...storage });
    expect(unauthenticated.code).toBe(1);
    expect(unauthenticated.output).toMatch(/MicrosoftAppId: required when NODE_ENV=production/);

    const embedded = await runProductionToExit(root, { NODE_ENV: 'production', ...identity.env() });
    expect(embedded.code).toBe(1);
    expect(embedded.output).toMatch(/AZURE_STORAGE_CONNECTION_STRING: required when NODE_ENV=production/);
    expect(embedded.output).not.toContain('Azurite started');
  }, STARTS_AN_INSTANCE_MS);
});
