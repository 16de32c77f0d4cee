import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { buttonData, execute, invokeText, personalChat, readable, type Reply, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { azuriteConnection } from '../support/storage.js';

/*
 * `forget` leaves nothing behind, checked from storage rather than from each feature's own idea of what it
 * holds: one staff member uses every feature over HTTP, the rollout team forgets them, then every row of
 * every table of the app (and every queue message) is searched for any of their identifiers. A feature that
 * later stores the person's id without registering its part with the privacy registry fails this test.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-sweep-'));
const PLAN_FILE = path.join(dir, 'plan.yaml');
const PREFIX = `sw${randomBytes(4).toString('hex')}`;

// Identifiers chosen to be found by a plain substring search and nowhere else by chance.
const ZED: TestUser = { id: '29:zed-quillfeather-7731', aadObjectId: 'a7c3e9f1-2b4d-4e6f-8a0b-1c2d3e4f5a6b', name: 'Zephyrine Quillfeather' };
const OTHER: TestUser = { id: '29:olu-other', aadObjectId: 'aad-olu-other', name: 'Olu Other' };
/** A second rollout team member: the forgets they ask for leave the bot's cards in their chat. */
const YUSRA: TestUser = { id: '29:yusra-vantablack-4412', aadObjectId: 'b8d4f0a2-3c5e-4f70-9b1c-2d3e4f5a6b7c', name: 'Yusra Vantablack' };
/** A word only the person writes (their question, issue, booking question, pulse answer). */
const MARKER = 'Zorblaxian';

/*
 * What the design keeps on purpose (README "Privacy duties"): the organisation's records stay with the person
 * replaced by a pseudonym, so what they *wrote* in them stays. Only the marker word may appear, only in these
 * tables; their ids and name may appear nowhere.
 */
const KEPT_TEXT: Record<string, string> = {
  Issues: 'an issue they logged stays, reported by their pseudonym, with its history (title as logged) in its row',
  FaqQuestions: 'questions they asked stay (text), asker pseudonymised: the gaps the champions see are made from them',
  OfficeHoursSeats: 'a booking stays with its question, booked by the pseudonym',
  PulseAnswers: 'pulse answers stay, answered by the pseudonym',
  PulseResults: "a pulse's free-text answers as counted for its results, under no respondent",
  IssueByReporter: "the issue's index rows copy its title (the reporter key is the pseudonym)",
  IssueQueue: "the triage board's index rows copy the issue's title",
  FaqCurated: 'the curated answer a champion wrote keeps the question it answers',
  AdoptionDaily: "the dashboard's roll-up keeps the questions' text for the Questions view, with no asker",
  Dedupe: "a champion's kept answer (for Teams' retry of their click) quotes the question; the person's name is scrubbed",
};

/*
 * Rows that may still hold the person's ids or name after forget, each on purpose. Matched narrowly (table
 * and row), so a new store holding them anywhere else fails the test until it registers with the privacy
 * registry (src/privacy/registry.ts) or is listed here with its reason.
 */
const KEPT_IDS: { table: string; row: (r: Record<string, unknown>) => boolean; why: string }[] = [
  {
    table: 'BroadcastSends',
    row: (r) => r.partitionKey === 'plan',
    why: 'the last good copy of the communication plan file, which the rollout team owns and edits; the confirmation card says the file lists them',
  },
];

writeFileSync(
  PLAN_FILE,
  `timeZone: Africa/Lusaka
messages:
  - id: hello
    stage: launch
    title: Welcome to FieldLedger
    body: Your district goes live next Monday.
    audience: { users: [${OTHER.aadObjectId}, ${ZED.aadObjectId}] }
    when: manual
  - id: again
    stage: launch
    title: Training dates
    body: Training starts next week.
    audience: { users: [${OTHER.aadObjectId}] }
    when: manual
`,
);

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;
const SUPPORT = '19:support@thread.tacv2';
const TRIAGE = '19:triage@thread.tacv2';
// Teams' personal conversation ids are opaque (the shared helper's embed the Entra id, which would hide what this test looks for).
// Their chat's id reaches them (it is all a proactive message needs besides the tenant's service URL): it is theirs too.
const ZED_CHAT = 'a:1QzOpaqueChatOfZ';
const where = (u: TestUser) => (u === ZED ? { ...personalChat(connector.url, u), conversation: { id: ZED_CHAT, conversationType: 'personal', tenantId: 'tenant-1' } } : personalChat(connector.url, u));
let cardSeq = 0;
const click = (u: TestUser, verb: string, data: Record<string, unknown>) => execute(app, u, verb, data, { ...where(u), replyToId: `card-${++cardSeq}` });
const tell = (u: TestUser, text: string) => say(app, u, text, where(u));
const text = (r: { body: Record<string, unknown> }) => invokeText(r.body);

/**
 * `lead` forgets `name` through the confirmation card; the sweep's app hands every forget to the background
 * job (FORGET_INLINE_SECONDS 0, what a forget too big for the turn does), so the click answers with the progress
 * card and the result arrives in its place. Returns the text of the card's last redraw.
 */
async function forgetInBackground(lead: TestUser, name: string): Promise<string> {
  const asked = await tell(lead, `forget ${name}`);
  const cardId = `forget-card-${++cardSeq}`;
  const answer = await execute(app, lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), { ...where(lead), replyToId: cardId });
  expect(text(answer)).toContain(`Forgetting ${name}`);
  for (let i = 0; i < 3; i++) {
    await app.forgetJobs.idle();
    await settle();
  }
  const redraws = connector.calls.filter((c) => c.method === 'PUT' && c.activityId === cardId);
  return readable([redraws.at(-1)?.body as unknown as Reply]);
}

/** The rows (and queue messages) that still hold any of `ids`, less those kept on purpose (KEPT_IDS). */
async function leaksOf(ids: string[]): Promise<string[]> {
  const left = (await everything()).filter((r) => !KEPT_IDS.some((k) => k.table === r.where && r.row && k.row(r.row)));
  return left.flatMap((r) => ids.filter((id) => r.json.toLowerCase().includes(id.toLowerCase())).map((id) => `${r.where}: ${id} in ${r.json.slice(0, 400)}`));
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await app.broadcast.runner.idle();
    await app.settled();
  }
}

const channel = (id: string) => ({
  serviceUrl: connector.url,
  conversation: { id: `${id};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
  channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id } },
});

async function tab(u: TestUser, p: string): Promise<string> {
  const res = await fetch(`${app.url}${p}`, { headers: { 'x-demo-user': u.aadObjectId } });
  expect(res.status, p).toBe(200);
  return res.text();
}
const TAB_PATHS = ['/api/tab/overview', '/api/tab/issue-flow', '/api/tab/issues', '/api/tab/issues?status=new', '/api/tab/champions', '/api/tab/questions?days=30', '/api/tab/pulse', '/api/tab/communications', '/api/tab/officehours'];

/** The names of this app's tables (without the prefix): every table the lists above name must be one of them. */
async function tableNames(): Promise<string[]> {
  const svc = TableServiceClient.fromConnectionString(azuriteConnection(), { allowInsecureConnection: true });
  const out: string[] = [];
  for await (const t of svc.listTables()) if (t.name?.startsWith(PREFIX)) out.push(t.name.slice(PREFIX.length));
  return out;
}

/** The FAQ's rows about one question (`<day>_<rk>`): the question itself and its index rows (who asked, who voted). */
const faqRowsOf = (rows: { where: string; row?: Record<string, unknown> }[], questionId: string) => {
  const [day, rk] = questionId.split('_');
  return rows.filter((r) => r.where === 'FaqQuestions' && r.row?.partitionKey === day && String(r.row?.rowKey).endsWith(rk!)).map((r) => r.row!);
};

/** Every property and key of every row of every table of this app, and every queue message, as `table: json` lines. */
async function everything(): Promise<{ where: string; json: string; row?: Record<string, unknown> }[]> {
  const conn = azuriteConnection();
  const svc = TableServiceClient.fromConnectionString(conn, { allowInsecureConnection: true });
  const out: { where: string; json: string; row?: Record<string, unknown> }[] = [];
  for await (const t of svc.listTables()) {
    const name = t.name ?? '';
    if (!name.startsWith(PREFIX)) continue;
    const table = TableClient.fromConnectionString(conn, name, { allowInsecureConnection: true });
    for await (const row of table.listEntities()) out.push({ where: name.slice(PREFIX.length), json: JSON.stringify(row), row });
  }
  const queues = QueueServiceClient.fromConnectionString(conn);
  for await (const q of queues.listQueues({ prefix: PREFIX.toLowerCase() })) {
    const peeked = await queues.getQueueClient(q.name).peekMessages({ numberOfMessages: 32 });
    for (const m of peeked.peekedMessageItems) out.push({ where: `queue ${q.name}`, json: m.messageText });
  }
  return out;
}

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({
    TABLE_PREFIX: PREFIX,
    ROLLOUT_FILE: 'sample/rollout.yaml',
    OFFICE_HOURS_FILE: 'sample/office-hours.yaml',
    GUIDANCE_DIR: 'sample/guidance',
    COMM_PLAN_FILE: PLAN_FILE,
    BROADCAST_WORKING_HOURS: 'off',
    SCHEDULER_INTERVAL_SECONDS: '86400',
    PULSE_MIN_ANSWERS: '1',
    ROLLOUT_TEAM_IDS: `${USERS.lead.aadObjectId},${YUSRA.aadObjectId}`,
    // Every forget runs as the background job (what production does with any forget too big for the turn).
    FORGET_INLINE_SECONDS: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  }));
  clock.set('2026-11-30T08:00:00Z');
  for (const u of [...Object.values(USERS), ZED, OTHER, YUSRA]) await tell(u, 'whoami');
  expect(readable(await say(app, USERS.lead, '<at>Rollout Desk</at> setup support', channel(SUPPORT)))).not.toBe('');
  expect(readable(await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', channel(TRIAGE)))).toContain('triage channel');
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('forget, swept from storage', () => {
  it("leaves none of the person's ids or name in any table, queue or tab API answer", async () => {
    // Questions: one answered (voted Not helpful), one uncovered (a gap).
    const answer = await tell(ZED, `how do I sync the tablet ${MARKER}`);
    expect(text(await click(ZED, 'faq.notHelpful', buttonData(answer, 'faq.notHelpful')))).not.toBe('');
    const gapReply = await tell(ZED, `where do I park my ${MARKER} motorbike at the district office`);
    expect(readable(gapReply)).toContain("doesn't cover this");
    const gapQuestionId = /"questionId":"([^"]+)"/.exec(JSON.stringify(gapReply))?.[1] ?? '';
    expect(gapQuestionId).toMatch(/^\d{4}-\d{2}-\d{2}_/);
    await settle();

    // A champion writes the curated answer to their gap.
    const gapCard = connector.sentTo(TRIAGE).find((c) => JSON.stringify(c.body).includes(MARKER) && JSON.stringify(c.body).includes('Answer this'));
    const groupId = /"groupId":"([^"]+)"/.exec(JSON.stringify(gapCard?.body))?.[1] ?? '';
    expect(groupId).not.toBe('');
    const answered = await execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'Park behind the district office, bay 3.' }, where(USERS.champion));
    expect(text(answered)).not.toMatch(/out of date/);
    await settle();

    // Issues: they log one, and "+1" another's.
    const form = (title: string) => ({ title, description: `${title}: the tablet loses visits each evening.`, location: 'Sync screen', category: 'Sync / offline', severity: 'minor', site: `Site ${title.length}` });
    const mine = await click(ZED, 'issue.logAnyway', { form: form(`${MARKER} tablet loses visits`) });
    const ref = /R-\d{4}/.exec(text(mine))?.[0] ?? '';
    expect(ref).not.toBe('');
    const othersTitle = 'Printer jams at depot Elm';
    const theirs = /R-\d{4}/.exec(text(await click(OTHER, 'issue.logAnyway', { form: form(othersTitle) })))?.[0] ?? '';
    expect(text(await click(ZED, 'issue.submit', form(othersTitle)))).toContain(theirs);
    expect(text(await click(ZED, 'issue.affected', { ref: theirs }))).toMatch(/affected/);
    // A champion comments on their issue (staff cannot comment; the comment is the champion's).
    const version = (await app.repository.get(ref))?.version ?? 0;
    await execute(app, USERS.champion, 'issue.comment', { ref, version, comment: 'Checked the device logs.', public: 'true' }, where(USERS.champion));

    // Office hours: a seat, with a question.
    expect(text(await click(ZED, 'officehours.book', { occurrenceId: 'office-hours|2026-12-10T14:00', field: 'question0', question0: `Can we cover ${MARKER}?` }))).toMatch(/booked|seat/i);

    // An announcement to them, acknowledged ("Got it").
    const before = connector.calls.length;
    await tell(USERS.lead, 'send hello');
    expect(text(await click(USERS.lead, 'broadcast.send', { id: 'hello' }))).toContain('Sending');
    await settle();
    const send = (await app.broadcast.sends.all()).find((s) => s.messageId === 'hello');
    expect(send).toBeDefined();
    expect(text(await click(ZED, 'broadcast.ack', { sendId: send!.id }))).toContain('You acknowledged');
    expect(connector.calls.length).toBeGreaterThan(before);

    // Celebrated by a champion, and they give kudos.
    const posted = await click(USERS.champion, 'broadcast.celebrate', { who: ZED.aadObjectId, what: 'First district fully synced' });
    expect(text(posted)).toContain('Posted in the support channel');
    await settle();
    const celebrationId = /"id":"(c-[0-9a-f]+)"/.exec(JSON.stringify(connector.sentTo(SUPPORT).at(-1)?.body))?.[1] ?? '';
    expect(text(await click(ZED, 'broadcast.kudos', { id: celebrationId }))).toContain('kudos');

    // A pulse, answered with free text.
    const pulseBefore = connector.calls.length;
    const sent = await click(USERS.lead, 'adoption.pulse.send', {
      title: 'Week 2 check-in',
      q1Kind: 'scale',
      q1Text: 'How confident are you?',
      q2Kind: 'text',
      q2Text: 'What would help?',
      audience: 'people',
      people: `${ZED.aadObjectId}, ${OTHER.aadObjectId}`,
    });
    expect(text(sent)).toContain('Sent to 2 people');
    await settle();
    const pulseCard = connector.calls.slice(pulseBefore).find((c) => JSON.stringify(c.body).includes('adoption.pulse.answer'));
    const pulseId = /"pulseId":"(p-[\w-]+)"/.exec(JSON.stringify(pulseCard?.body))?.[1] ?? '';
    expect(text(await click(ZED, 'adoption.pulse.answer', { pulseId, q1: '4', q2: `More ${MARKER} training` }))).toContain('your answer is in');
    // Counted for its results (a look asks, the scheduled job counts): the count is swept too.
    await click(USERS.lead, 'adoption.pulse.results', { pulseId });
    expect(await app.adoption.pulses.recountDue()).toBe(1);

    // Their own `my data` download, and the rollout team's CSV export of the issues.
    await tell(ZED, 'my data');
    await app.myDataJobs.idle();
    const exported = readable(await tell(USERS.lead, 'export issues'));
    const csvUrl = /\((http[^)]+\/exports\/[0-9a-f]+)\)/.exec(exported)?.[1] ?? '';
    expect(await (await fetch(csvUrl)).text()).toContain(ZED.name);

    // The roll-up folds the events into the dashboard's rows.
    clock.set('2026-11-30T08:10:00Z');
    await app.adoption.rollup.run();
    await settle();

    const ids = [ZED.id, ZED.aadObjectId, ZED.name, ZED_CHAT]; // compared case-insensitively
    // Sanity: before forget, the sweep finds them (so it would find a leak after).
    const seen = await everything();
    expect(seen.some((r) => r.json.includes(ZED.aadObjectId))).toBe(true);
    expect(seen.some((r) => r.json.includes(ZED.name))).toBe(true);
    expect(seen.some((r) => r.json.includes(ZED_CHAT))).toBe(true);

    expect(await tab(USERS.lead, `/api/tab/issues/${ref}`)).toContain(ZED.name);

    // Their gap lives in FaqQuestions: the question row (asked by them) and the index row that files it under them.
    const gapBefore = faqRowsOf(seen, gapQuestionId);
    expect(gapBefore.some((r) => String(r.rowKey).startsWith(`a|${ZED.aadObjectId}|`))).toBe(true);
    expect(gapBefore.find((r) => String(r.rowKey) < 'a')?.asker).toContain(ZED.aadObjectId);

    // The rollout team forgets them, by name, confirming the card.
    expect(await forgetInBackground(USERS.lead, ZED.name)).toContain(`${ZED.name} is forgotten`);

    // The rollout team's issues CSV named them: its link stops working (they export again to get one without).
    expect((await fetch(csvUrl)).status).toBe(404);

    // Every table the lists of what is kept name is one the app really writes (a list naming a table nothing
    // creates allows nothing, and hides where the data really is).
    const tables = await tableNames();
    expect([...Object.keys(KEPT_TEXT), ...KEPT_IDS.map((k) => k.table)].filter((t) => !tables.includes(t))).toEqual([]);

    // Their gap's rows: the index row filing it under them is gone; the question stays for the champions, asked by
    // their pseudonym.
    const after = await everything();
    const gapAfter = faqRowsOf(after, gapQuestionId);
    expect(gapAfter.filter((r) => String(r.rowKey).startsWith('a|')).map((r) => r.rowKey)).toEqual([]);
    const kept = gapAfter.find((r) => String(r.rowKey) < 'a');
    expect(kept?.question).toContain(MARKER);
    expect(String(kept?.asker)).toMatch(/Former member/);

    expect(await leaksOf(ids)).toEqual([]);
    const left = after.filter((r) => !KEPT_IDS.some((k) => k.table === r.where && r.row && k.row(r.row)));
    const textLeaks = left.filter((r) => r.json.includes(MARKER) && !(r.where in KEPT_TEXT)).map((r) => `${r.where}: ${r.json.slice(0, 400)}`);
    expect(textLeaks).toEqual([]);

    // The dashboard's API, as a champion and as the rollout team, names them nowhere.
    for (const caller of [USERS.champion, USERS.lead]) {
      for (const p of [...TAB_PATHS, `/api/tab/issues/${ref}`, `/api/tab/issues/${theirs}`]) {
        const body = await tab(caller, p);
        for (const id of ids) expect(body.toLowerCase(), `${p} as ${caller.name}`).not.toContain(id.toLowerCase());
      }
    }
  }, 120_000);

  it('leaves none of a rollout team member\'s ids or name behind, the cards of the sends and forgets they asked for included', async () => {
    // Yusra sends an announcement: its progress card in her chat is redrawn as it goes, so the bot keeps where it is.
    await tell(YUSRA, 'send again');
    expect(text(await click(YUSRA, 'broadcast.send', { id: 'again' }))).toContain('Sending');
    await settle();
    expect((await everything()).some((r) => r.where === 'Posts' && r.row?.partitionKey === 'broadcast-progress' && r.json.includes(YUSRA.aadObjectId))).toBe(true);
    // Yusra forgets a colleague: her Forget card is redrawn by the background job, so the bot keeps where it is.
    expect(await forgetInBackground(YUSRA, OTHER.name)).toContain(`${OTHER.name} is forgotten`);
    const ids = [YUSRA.id, YUSRA.aadObjectId, YUSRA.name];
    // Sanity: the sweep finds her before she is forgotten, in the cards' store too.
    expect((await everything()).some((r) => r.where === 'Posts' && r.json.includes(YUSRA.aadObjectId))).toBe(true);

    // Then she is forgotten in turn (she leaves the rollout team).
    expect(await forgetInBackground(USERS.lead, YUSRA.name)).toContain(`${YUSRA.name} is forgotten`);
    expect(await leaksOf(ids)).toEqual([]);
  }, 60_000);
});
