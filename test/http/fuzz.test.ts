import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { runFuzz } from '../../scripts/fuzz/run.js';
import { say, startTestApp, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/**
 * A short run of the fuzzer (`npm run fuzz` runs the long one): generated activities, malformed ones among
 * them, against the real app. No 5xx, no well-formed activity refused, no hang, /healthz answering
 * throughout; a crash or an unhandled rejection would fail this file on its own.
 */
let app: App;
let connector: RecordingConnector;

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp());
  // A triage channel, so logged issues are posted (to the recording connector) as in real use.
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', {
    serviceUrl: connector.url,
    conversation: { id: '19:fuzz1@thread.tacv2;messageid=1', conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: '19:fuzz1@thread.tacv2' } },
  });
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('fuzzing /api/messages', () => {
  for (const seed of [1, 2]) {
    it(`answers 150 generated activities of seed ${seed} without a server error`, async () => {
      const report = await runFuzz({
        url: app.url,
        seed,
        count: 150,
        concurrency: 2,
        ctx: { serviceUrl: connector.url, users: USERS },
      });
      expect(report.failures).toEqual([]);
      expect(report.sent).toBeGreaterThanOrEqual(150);
      // The run covered both kinds of answer: handled activities and refused malformed ones.
      expect(report.byStatus['200']).toBeGreaterThan(50);
      expect(Object.keys(report.byStatus).some((s) => s.startsWith('4'))).toBe(true);
    }, 120_000);
  }
});
