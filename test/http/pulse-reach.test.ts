import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { ConversationStore } from '../../src/conversations/store.js';
import { execute, invokeText, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { reads } from '../support/table-reads.js';

/*
 * A pulse's audience check runs inside the sender's turn: its storage work follows the audience, not how many
 * people in the tenant have a chat with the bot. Rows are counted, not timed.
 */

let app: App;
let connector: RecordingConnector;
let dir: string;
const where = (u: TestUser) => ({ serviceUrl: connector.url, conversation: { id: `a:chat-${u.aadObjectId}`, conversationType: 'personal', tenantId: 'tenant-1' } });
/**
 * People with a chat with the bot who are not in the pulse's audience: nearly three times the test's bound on rows
 * read for the listed 101 (222), so a check that read every chat would fail it.
 */
const TENANT = 600;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rd-pulse-reach-'));
  copyFileSync('sample/measures.yaml', path.join(dir, 'measures.yaml'));
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp({ MEASURES_FILE: path.join(dir, 'measures.yaml') }));
  for (const u of Object.values(USERS)) await say(app, u, 'whoami', where(u));
  const store = await ConversationStore.open(app.tables, new ManualClock());
  await store.rememberAll(
    Array.from({ length: TENANT }, (_, i) => ({
      conversationId: `a:other-${i}`,
      conversationType: 'personal' as const,
      serviceUrl: connector.url,
      tenantId: 'tenant-1',
      channelId: 'msteams',
      bot: { id: '28:bot' },
      user: { id: `29:other-${i}`, aadObjectId: `aad-other-${i}`, name: `Other ${i}` },
    })),
  );
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('sending a pulse to a long list of people', () => {
  it("reads each listed person's chat, not every chat in the tenant, and counts those not reached the same", async () => {
    const listed = [USERS.champion.aadObjectId, ...Array.from({ length: 100 }, (_, i) => `aad-listed-${i}`)];
    const { value: sent, rows } = await reads(
      () =>
        execute(app, USERS.lead, 'adoption.pulse.send', {
          title: 'Reach check, long list',
          q1Kind: 'scale',
          q1Text: 'How confident are you?',
          audience: 'people',
          people: listed.join(', '),
        }, where(USERS.lead)),
      { table: 'Conversations' },
    );
    expect(invokeText(sent.body)).toContain('Sent to 1 person (101 listed people); 100 could not be reached (no chat with the bot).');
    // A lookup per listed person (a chat kept in the earlier layout is a second read), and the turn's own few reads.
    expect(rows).toBeLessThan(2 * listed.length + 20);
  }, 60_000);
});
