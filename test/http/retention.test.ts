import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { askMyData } from '../support/my-data.js';

/*
 * Retention (RETENTION_DAYS) over HTTP: two instances of the app on the same storage, one clock. What a
 * person sees in `my data` shows what is kept: closed issues, questions, announcements' delivery rows and
 * outbound delivery rows older than the period go, open issues and anything younger stay; the clean-up runs
 * on the instance holding the expiry job's lease only.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-retention-'));
const PLAN_FILE = path.join(dir, 'plan.yaml');
const note = (id: string) => `  - id: ${id}
    stage: adoption
    title: Note ${id}
    body: Read at your desk.
    audience: { users: [${USERS.staff.aadObjectId}] }
    when: manual
`;
writeFileSync(PLAN_FILE, `timeZone: Africa/Lusaka\nmessages:\n${note('old-note')}${note('new-note')}`);

const T0 = '2026-11-30T08:00:00Z';
const DAY = 86_400_000;
const MINUTE = 60_000;

let one: App;
let two: App;
const clock = new ManualClock(T0);
let connector: RecordingConnector;

const where = (u: TestUser) => ({
  ...personalChat(connector.url, u),
});
let cardSeq = 0;
const click = (u: TestUser, verb: string, data: Record<string, unknown>) =>
  execute(one, u, verb, data, { ...where(u), replyToId: `card-${++cardSeq}` });

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    for (const a of [one, two]) {
      await a.broadcast.runner.idle();
      await a.settled();
    }
  }
}

async function logIssue(title: string): Promise<string> {
  const form = { title, description: `${title}, every day.`, location: 'Home screen', category: 'Other', severity: 'minor', site: `Site ${title}` };
  const ref = /R-\d{4}/.exec(invokeText((await click(USERS.staff, 'issue.logAnyway', { form })).body))?.[0];
  if (!ref) throw new Error('not logged');
  return ref;
}

/** A champion resolves the issue, then closes it. */
async function close(ref: string): Promise<void> {
  for (const status of ['resolved', 'closed']) {
    const version = (await one.repository.get(ref))?.version ?? 0;
    await click(USERS.champion, 'issue.status', { ref, version, status });
  }
  expect((await one.repository.get(ref))?.status).toBe('closed');
}

async function sendNote(id: string): Promise<void> {
  await say(one, USERS.lead, `send ${id}`, where(USERS.lead));
  expect(invokeText((await click(USERS.lead, 'broadcast.send', { id })).body)).toContain('Sending');
  await settle();
}

interface Mine {
  issues: { reported: { ref: string }[] };
  faq: { questionsAsked: { question: string }[] };
  broadcast: { announcementsReceived: { message: string }[] };
  outbound: { messagesSentToYou: { message: string }[] };
}

/** The staff member's own data, as `my data` gives it (asked of instance `a`). */
async function mine(a: App = one): Promise<Mine> {
  return JSON.parse((await askMyData(a, connector, USERS.staff)).file) as Mine;
}
const refs = (m: Mine) => m.issues.reported.map((i) => i.ref).sort();
const questions = (m: Mine) => m.faq.questionsAsked.map((q) => q.question).sort();
const notes = (m: Mine) => m.broadcast.announcementsReceived.map((a) => a.message).sort();

let oldClosed = '';
let oldOpen = '';
let newClosed = '';

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  const env = {
    TABLE_PREFIX: `t${randomBytes(4).toString('hex')}`,
    RETENTION_DAYS: '30',
    COMM_PLAN_FILE: PLAN_FILE,
    BROADCAST_WORKING_HOURS: 'off',
    GUIDANCE_DIR: 'sample/guidance',
    // The scheduler's own timer stays out of the way: the test ticks each instance itself.
    SCHEDULER_INTERVAL_SECONDS: '86400',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  };
  ({ app: one } = await startTestApp(env, clock));
  ({ app: two } = await startTestApp(env, clock));
  for (const u of Object.values(USERS)) await say(one, u, 'whoami', where(u));

  // At T0: a closed issue, an open one, a question, an announcement.
  oldClosed = await logIssue('Old closed problem');
  oldOpen = await logIssue('Old open problem');
  await close(oldClosed);
  await say(one, USERS.staff, 'how do I sync when offline', where(USERS.staff));
  await sendNote('old-note');
  // Ten minutes later: the same again, younger.
  clock.advance(10 * MINUTE);
  newClosed = await logIssue('New closed problem');
  await close(newClosed);
  await say(one, USERS.staff, 'the submit button on my monthly report is grey', where(USERS.staff));
  await sendNote('new-note');
  await settle();
});

afterAll(async () => {
  await one?.stop();
  await two?.stop();
  await connector?.stop();
});

describe('retention', () => {
  it('deletes only what is older than RETENTION_DAYS (closed issues only), once, on the instance holding the lease', async () => {
    const before = await mine();
    expect(refs(before)).toEqual([oldClosed, oldOpen, newClosed].sort());
    expect(questions(before)).toHaveLength(2);
    expect(notes(before)).toEqual(['Note new-note', 'Note old-note']);
    // The outbound path's delivery rows of what was sent to them: the announcements and their issues' notices.
    const sent = (m: Mine) => m.outbound.messagesSentToYou.map((d) => d.message).join('\n');
    for (const key of ['broadcast|old-note', 'broadcast|new-note', `issue-notice|${oldClosed}|`, `issue-notice|${newClosed}|`]) {
      expect(sent(before)).toContain(key);
    }

    // 30 days and 5 minutes after T0: the first batch is past the period, the second is not.
    clock.set(new Date(Date.parse(T0) + 30 * DAY + 5 * MINUTE));
    await one.scheduler.tick();
    const after = await mine();
    expect(refs(after)).toEqual([oldOpen, newClosed].sort());
    expect(questions(after)).toEqual(['the submit button on my monthly report is grey']);
    expect(notes(after)).toEqual(['Note new-note']);
    expect(sent(after)).not.toContain('broadcast|old-note');
    expect(sent(after)).not.toContain(`issue-notice|${oldClosed}|`);
    expect(sent(after)).toContain('broadcast|new-note');
    expect(sent(after)).toContain(`issue-notice|${newClosed}|`);
    expect(readable(await say(one, USERS.lead, `issue ${oldClosed}`, where(USERS.lead)))).not.toContain('Old closed problem');

    // Ten minutes on the second batch is past the period too, but the other instance does not hold the
    // expiry job's lease: it does not run the job, and nothing more goes.
    clock.advance(10 * MINUTE);
    await two.scheduler.tick();
    const notYet = await mine(two);
    expect(refs(notYet)).toEqual([oldOpen, newClosed].sort());
    expect(questions(notYet)).toHaveLength(1);
    expect(notes(notYet)).toEqual(['Note new-note']);

    // When the job is next due, its holder deletes the rest; the open issue stays, however old.
    clock.advance(20 * MINUTE);
    await one.scheduler.tick();
    const last = await mine();
    expect(refs(last)).toEqual([oldOpen]);
    expect(questions(last)).toEqual([]);
    expect(notes(last)).toEqual([]);
    expect(sent(last)).not.toContain('broadcast|new-note');
  });
});

describe('retention of kudos', () => {
  it('deletes kudos older than RETENTION_DAYS from my data, and the celebration keeps counting kudos after', async () => {
    const SUPPORT = '19:support@thread.tacv2';
    await say(one, USERS.lead, '<at>Rollout Desk</at> setup support', {
      serviceUrl: connector.url,
      conversation: { id: `${SUPPORT};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: SUPPORT } },
    });
    const what = 'Every district report in on time';
    expect(invokeText((await click(USERS.champion, 'broadcast.celebrate', { who: USERS.lead.aadObjectId, what })).body)).toContain('Posted in the support channel');
    await settle();
    const post = connector.calls.find((c) => c.conversationId === SUPPORT && JSON.stringify(c.body).includes(what));
    const id = /"id":"(c-[0-9a-f]+)"/.exec(JSON.stringify(post?.body))?.[1] ?? '';
    expect(id).not.toBe('');
    expect(invokeText((await click(USERS.staff, 'broadcast.kudos', { id })).body)).toContain('👏 1 kudos');
    const kudosGiven = async () => ((await mine()) as unknown as { broadcast: { kudosGiven: { celebration: string }[] } }).broadcast.kudosGiven;
    expect(await kudosGiven()).toEqual([expect.objectContaining({ celebration: id })]);

    // A day short of the period it stays; past it, the expiry job deletes it.
    clock.advance(29 * DAY);
    await one.scheduler.tick();
    expect(await kudosGiven()).toHaveLength(1);
    clock.advance(DAY + 30 * MINUTE);
    await one.scheduler.tick();
    expect(await kudosGiven()).toEqual([]);

    // The count the post shows stays, and the next person's kudos still adds to it.
    expect(invokeText((await click(USERS.champion, 'broadcast.kudos', { id })).body)).toContain('👏 2 kudos');
  });
});
