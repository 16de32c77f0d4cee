import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, startApp } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { execute, invokeText, readable, say, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { until } from '../support/until.js';
import { tempDir } from '../support/tempdir.js';

/*
 * The app with its own embedded Azurite on a data folder (not the shared test Azurite): the storage
 * processes are killed here.
 */
let app: App;
let connector: RecordingConnector;
let dataDir: string;
const logLines: string[] = [];

const where = (u: TestUser) => ({
  serviceUrl: connector.url,
  conversation: { id: `a:chat-${u.aadObjectId}`, conversationType: 'personal', tenantId: 'tenant-1' },
});
const form = {
  title: 'Printer queue stuck after the upgrade',
  description: 'Every print job from the visit form waits for ever in the queue.',
  location: 'Visit form',
  category: 'Sync / offline',
  severity: 'blocks',
  site: 'Marula district',
};
const refIn = (text: string) => /R-\d{4}/.exec(text)?.[0] ?? '';

async function report(user: TestUser, title: string): Promise<string> {
  const res = await execute(app, user, 'issue.logAnyway', { form: { ...form, title } }, where(user));
  return refIn(invokeText(res.body));
}

const get = (p: string) => fetch(`${app.url}${p}`, { signal: AbortSignal.timeout(10_000) });

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  dataDir = tempDir('rd-faults');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    CHAMPION_IDS: USERS.champion.aadObjectId,
    ROLLOUT_TEAM_IDS: USERS.lead.aadObjectId,
    LOG_LEVEL: 'info',
  });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  app = await startApp(config, { log: createLogger('info', sink), clock: new ManualClock() });
  await say(app, USERS.staff, 'whoami', where(USERS.staff));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('embedded storage faults, as a user sees them', () => {
  it('an issue confirmed to its reporter survives kill -9 of Azurite, and the next report gets a new reference', async () => {
    const first = await report(USERS.staff, 'Printer queue stuck after the upgrade');
    expect(first).toBe('R-0001');

    process.kill(app.storage.embedded!.pid('table')!, 'SIGKILL'); // before Azurite's next save
    await until('ready again', async () => (await get('/readyz')).status === 200);
    expect((await get('/healthz')).status).toBe(200);

    const shown = readable(await say(app, USERS.staff, `issue ${first}`, where(USERS.staff)));
    expect(shown).toContain('Printer queue stuck after the upgrade');
    const second = await report(USERS.staff, 'Visit photos do not upload on 3G');
    expect(second).toBe('R-0002');
    expect(logLines.join('\n')).toMatch(/embedded Azurite table service stopped unexpectedly; restarting it/);
  }, 90_000);

  it('says on /healthz and in the log that storage is down when Azurite cannot be restarted, without the error text on /healthz', async () => {
    writeFileSync(path.join(dataDir, 'table', '__azurite_db_table__.json'), '{"not json');
    process.kill(app.storage.embedded!.pid('table')!, 'SIGKILL');
    await until('down', async () => (await get('/healthz')).status === 503);
    expect(await (await get('/healthz')).json()).toMatchObject({
      status: 'down',
      reason: 'embedded Azurite table service could not be restarted',
    });
    // Anyone can call /healthz: the error (paths, addresses) is in the log, not the answer.
    expect(JSON.stringify(await (await get('/healthz')).json())).not.toContain(dataDir);
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(logLines.join('\n')).toMatch(/STORAGE IS DOWN/);
  }, 90_000);
});
