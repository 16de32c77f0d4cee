import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { ManualClock } from '../../src/clock.js';
import { personalChat, say, startTestApp, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * `my training` at the sizes the files allow: a user group with many training courses, each with the longest
 * title, topic and host names the schedule file takes. The answer must be a card Teams accepts.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-training-scale-'));
const ROLLOUT_FILE = path.join(dir, 'rollout.yaml');
const OFFICE_HOURS_FILE = path.join(dir, 'office-hours.yaml');
const COURSES = 60;
const long = (prefix: string, n: number) => `${prefix} ${'w'.repeat(n)}`.slice(0, n);

writeFileSync(
  ROLLOUT_FILE,
  `cohorts:\n  - { id: wave, name: "${long('Wave', 120)}", goLive: 2027-03-01, zone: Africa/Lusaka }\n` +
    `groups:\n  - { id: officers, name: "${long('Officers', 120)}" }\n` +
    `members:\n  - { id: ${USERS.staff.aadObjectId}, name: Sam Staff, cohort: wave, groups: [officers] }\n`,
);
writeFileSync(
  OFFICE_HOURS_FILE,
  `zone: Africa/Lusaka\nsessions:\n${Array.from(
    { length: COURSES },
    (_, i) => `  - id: course-${i}
    kind: training
    title: "${long(`Course ${String(i).padStart(2, '0')}`, 120)}"
    topic: "${long('Topic', 300)}"
    group: officers
    cohort: wave
    course: ${long(`C${i}`, 60)}
    start: golive-${20 + (i % 10)}d 09:00
    rule: FREQ=WEEKLY;COUNT=2
    minutes: 60
    capacity: 1000
    joinUrl: https://teams.microsoft.com/l/meetup-join/${'m'.repeat(300)}
    hosts:
${Array.from({ length: 10 }, (_, h) => `      - { id: host-${h}, name: "${long(`Host ${h}`, 120)}" }`).join('\n')}
`,
  ).join('')}`,
);

let app: App;
let connector: RecordingConnector;

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp(
    { ROLLOUT_FILE, OFFICE_HOURS_FILE, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' },
    new ManualClock('2027-01-04T08:00:00Z'),
  ));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('my training, for a group with many long courses', () => {
  it('answers with a card Teams accepts', async () => {
    const replies = await say(app, USERS.staff, 'my training', personalChat(connector.url, USERS.staff));
    const cards = replies.flatMap((r) => r.attachments ?? []).map((a) => a.content);
    expect(cards.length).toBeGreaterThan(0);
    for (const c of cards) expect(utf16Bytes(c)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    // The courses that fit are shown (next first); the rest are counted.
    const shown = new Set(JSON.stringify(cards).match(/Course \d\d/g)).size;
    expect(shown).toBeGreaterThan(0);
    expect(JSON.stringify(cards)).toContain(`and ${COURSES - shown} more courses of your group`);
  });
});
