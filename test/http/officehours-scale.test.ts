import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { ManualClock } from '../../src/clock.js';
import { MembershipStore } from '../../src/rollout/members.js';
import { execute, executeData, personalChat, type Reply, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * `office hours` and `my training` at the sizes the files allow: sessions with the longest title, topic and host
 * names the schedule file takes and a join link as long as a real Teams one (the file sets no limit on it), and a
 * user group with many training courses. Every answer must be a card Teams accepts (under 40 KB), and every
 * session or course must be reachable from it.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-officehours-scale-'));
const ROLLOUT_FILE = path.join(dir, 'rollout.yaml');
const OFFICE_HOURS_FILE = path.join(dir, 'office-hours.yaml');
const COURSES = 60;
/** Office hours: daily for twelve days, all in the list's four weeks. */
const CLINICS = 12;
const long = (prefix: string, n: number) => `${prefix} ${'w'.repeat(n)}`.slice(0, n);
/** A Teams meeting's joinUrl is about this long (the thread id, the context JSON, all URL-encoded). */
const JOIN_URL = `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${'N'.repeat(1500)}`.slice(0, 1500);
const HOSTS = Array.from({ length: 10 }, (_, h) => `      - { id: host-${h}, name: "${long(`Host ${h}`, 120)}" }`).join('\n');

/** Someone in every user group the rollout file allows (200), each with the longest name it takes. */
const MANY: TestUser = { id: '29:many', aadObjectId: 'aad-many', name: 'Mo Many' };
const GROUPS = 200;
const others = Array.from({ length: GROUPS - 1 }, (_, i) => `g${i}`);

writeFileSync(
  ROLLOUT_FILE,
  `cohorts:\n  - { id: wave, name: "${long('Wave', 120)}", goLive: 2027-03-01, zone: Africa/Lusaka }\n` +
    `groups:\n  - { id: officers, name: "${long('Officers', 120)}" }\n` +
    others.map((g) => `  - { id: ${g}, name: "${long(`Group ${g}`, 120)}" }\n`).join('') +
    `members:\n  - { id: ${USERS.staff.aadObjectId}, name: Sam Staff, cohort: wave, groups: [officers] }\n` +
    `  - { id: ${MANY.aadObjectId}, name: Mo Many, cohort: wave, groups: [officers, ${others.slice(0, 19).join(', ')}] }\n`,
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
${HOSTS}
`,
  ).join('')}  - id: clinic
    kind: office-hours
    title: "${long('Clinic', 120)}"
    topic: "${long('Topic', 300)}"
    start: 2027-01-05 10:00
    rule: FREQ=DAILY;COUNT=${CLINICS}
    minutes: 60
    capacity: 50
    joinUrl: ${JOIN_URL}
    hosts:
${HOSTS}
`,
);

let app: App;
const clock = new ManualClock('2027-01-04T08:00:00Z');
let connector: RecordingConnector;

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp(
    { ROLLOUT_FILE, OFFICE_HOURS_FILE, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' },
    clock,
  ));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const chat = (u: TestUser = USERS.staff) => personalChat(connector.url, u);
const cardsOf = (replies: Reply[]) => replies.flatMap((r) => r.attachments ?? []).map((a) => a.content);
/** The data of the card's Action.Execute titled `title`, or undefined when the card has none. */
const button = (card: unknown, title: string) => executeData(card, (a) => a.title === title);
const occurrences = (card: unknown) => [...JSON.stringify(card).matchAll(/"occurrenceId":"(clinic\|[^"]+)"/g)].map((m) => m[1] as string);

describe('office hours, with long host names, topics and Teams join links', () => {
  it('every page is a card Teams accepts, and "Later sessions" reaches every session once', async () => {
    const replies = await say(app, USERS.staff, 'office hours', chat());
    const [first] = cardsOf(replies);
    const seen: string[] = [];
    let card: unknown = first;
    // What Teams measures is the whole message (the reply, or the invoke's answer), not the card alone.
    let carrier: unknown = replies;
    for (let pages = 0; card && pages < CLINICS; pages++) {
      expect(utf16Bytes(carrier), `page ${pages + 1}`).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
      const ids = occurrences(card);
      expect(ids.length, `page ${pages + 1}`).toBeGreaterThan(0);
      seen.push(...ids);
      const later = button(card, 'Later sessions');
      if (!later) break;
      const res = await execute(app, USERS.staff, 'officehours.show', later, chat());
      card = res.body.value;
      carrier = res.body;
    }
    expect(seen).toEqual(Array.from({ length: CLINICS }, (_, i) => `clinic|2027-01-${String(5 + i).padStart(2, '0')}T10:00`));
  });
});

describe('my training, for a group with many long courses', () => {
  const courses = (card: unknown) => [...new Set(JSON.stringify(card).match(/Course \d\d/g))];

  it('is a card Teams accepts, and "More courses" reaches every course once, each page a card Teams accepts', async () => {
    const replies = await say(app, USERS.staff, 'my training', chat());
    const cards = cardsOf(replies);
    expect(cards).toHaveLength(1);
    const seen: string[] = [];
    let card: unknown = cards[0];
    let carrier: unknown = replies;
    for (let pages = 0; card && pages < COURSES; pages++) {
      expect(utf16Bytes(carrier), `page ${pages + 1}`).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
      const shown = courses(card);
      expect(shown.length, `page ${pages + 1}`).toBeGreaterThan(0);
      seen.push(...shown);
      if (seen.length < COURSES) expect(JSON.stringify(card)).toContain(`and ${COURSES - seen.length} more course`);
      const more = button(card, 'More courses');
      if (!more) break;
      const res = await execute(app, USERS.staff, 'officehours.training', more, chat());
      card = res.body.value;
      carrier = res.body;
    }
    expect(seen.sort()).toEqual(Array.from({ length: COURSES }, (_, i) => `Course ${String(i).padStart(2, '0')}`));
  });

  it('fits for someone in 200 user groups of long names, naming the first and counting the rest', async () => {
    // The file lists 20 groups a person at most; the rollout team adds the rest from Teams ("group add").
    const store = await MembershipStore.open(app.tables, clock);
    const added = others.slice(19);
    for (let i = 0; i < added.length; i += 10) {
      await Promise.all(added.slice(i, i + 10).map((of) => store.add({ kind: 'group', of, personId: MANY.aadObjectId, name: MANY.name, addedBy: USERS.lead.aadObjectId })));
    }
    const replies = await say(app, MANY, 'my training', chat(MANY));
    const [card] = cardsOf(replies);
    expect(utf16Bytes(replies)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const text = JSON.stringify(card);
    expect(text).toContain('Officers w');
    expect(text).toMatch(/… and \d+ more groups/);
    expect(courses(card).length).toBeGreaterThan(0);
  });
});
