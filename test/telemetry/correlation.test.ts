import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, startApp } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { LeaseStore } from '../../src/scheduler/lease.js';
import { Scheduler } from '../../src/scheduler/runner.js';
import { form } from '../issues/fixtures.js';
import { execute, say, USERS } from '../support/app.js';
import { azuriteConnection, testTables } from '../support/storage.js';

interface Line {
  msg: string;
  corr?: string;
  [k: string]: unknown;
}

function capture() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { lines, stream };
}

let app: App;
const logged = capture();

beforeAll(async () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    AZURE_STORAGE_CONNECTION_STRING: azuriteConnection(),
    TABLE_PREFIX: `c${randomBytes(4).toString('hex')}`,
    CHAMPION_IDS: USERS.champion.aadObjectId,
    ROLLOUT_TEAM_IDS: USERS.lead.aadObjectId,
  });
  app = await startApp(config, { log: createLogger('info', logged.stream), clock: new ManualClock() });
});
afterAll(async () => {
  await app?.stop();
});

describe('correlation ids in the logs', () => {
  it("gives a turn's lines, and those of the work it starts, one id, and the next turn another", async () => {
    const report = await execute(app, USERS.staff, 'issue.submit', form());
    expect(report.status).toBe(200);
    await say(app, USERS.staff, 'whoami');
    await app.settled(); // the triage post is sent after the turn, by the outbound worker

    const logged1 = logged.lines.find((l) => l.msg === 'issue logged');
    // Posting to the triage channel is the turn's follow-up, sent later by the outbound worker: same id.
    const followUp = logged.lines.find((l) => l.msg.startsWith('no conversation to send to'));
    const handled = logged.lines.filter((l) => l.msg === 'activity handled');
    expect(logged1?.corr).toMatch(/^[0-9a-f-]{36}$/);
    expect(followUp?.corr).toBe(logged1?.corr);
    expect(handled.map((l) => l.corr)).toContain(logged1?.corr);
    const ids = new Set(handled.map((l) => l.corr));
    expect(ids.size, 'each turn has its own id').toBe(handled.length);
  });

  it('gives each scheduled run its own id', async () => {
    const clock = new ManualClock();
    const lines = capture();
    const log = createLogger('info', lines.stream);
    const scheduler = new Scheduler(await LeaseStore.open(testTables()), clock, log);
    scheduler.add({ name: 'probe', everyMs: 60_000, run: async () => void log.info('job ran') });
    await scheduler.tick();
    clock.advance(60_000);
    await scheduler.tick();
    const runs = lines.lines.filter((l) => l.msg === 'job ran');
    expect(runs).toHaveLength(2);
    expect(runs[0]?.corr).toMatch(/^[0-9a-f-]{36}$/);
    expect(runs[1]?.corr).toMatch(/^[0-9a-f-]{36}$/);
    expect(runs[0]?.corr).not.toBe(runs[1]?.corr);
  });
});
