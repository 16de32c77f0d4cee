import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendStore } from '../../src/broadcast/sends.js';
import { DeliveryRows } from '../../src/broadcast/deliveries.js';
import { ManualClock, systemClock } from '../../src/clock.js';
import { ConversationStore } from '../../src/conversations/store.js';
import { DEFAULT_CATEGORIES } from '../../src/issues/model.js';
import { IssueRepository } from '../../src/issues/repository.js';
import { openIssueTables } from '../../src/issues/tables.js';
import { LEASES_TABLE } from '../../src/scheduler/lease.js';
import { queueName } from '../../src/storage/queues.js';
import { Tables } from '../../src/storage/tables.js';
import { type BotEndpoint, execute, invokeText, readable, say, type TestUser, USERS } from '../support/app.js';
import { productionBuild } from '../support/build.js';
import { LocalBotIdentity, type ProductionInstance, startProduction } from '../support/production.js';
import { azuriteConnection } from '../support/storage.js';
import { TeamsConnectorStandIn } from '../support/teams-connector.js';
import { until } from '../support/until.js';
import { channel, personalChat } from '../outbound/support.js';

/**
 * Two production builds (`node dist/main.js`, authenticated with locally minted channel tokens) on one
 * Storage account (the test Azurite, one table/queue prefix) and one Teams connector stand-in: what runs
 * when App Service scales the app out. Scheduled work goes out once, a card action on one instance is what
 * the other reads, and when one instance dies mid-broadcast the other finishes it (each recipient at most
 * once) and takes over the scheduled jobs without repeating what was already sent.
 *
 * Production builds take no test clock, so scheduled work is written into the files the instances reload:
 * a plan message due from the start of the current minute (already begun when it is written), and an
 * office-hours session, booked first, then moved to start within the reminder's lead time. The SLA's issue
 * is stored as logged five hours ago, before the instances start. The weekly digest is set to be due on the
 * day the instances start, from midnight, in a zone where it is about noon (so a run near midnight UTC
 * cannot miss its day).
 */

const TRIAGE = '19:triage@thread.tacv2';
const SUPPORT = '19:support@thread.tacv2';
const ROLLOUT = '19:rollout@thread.tacv2';
/** The digest card's heading ("Adoption this week: week of …"). */
const DIGEST = 'Adoption this week';
const RECIPIENTS = Array.from({ length: 150 }, (_, i) => `r${String(i).padStart(3, '0')}`);
const PLAN_USERS = ['p1', 'p2', 'p3'];
const chatOf = (key: string) => `a:chat-${key}`;
/** The jobs that run every scheduler tick (SCHEDULER_INTERVAL_SECONDS=1): their leases last 5 s (SCHEDULER_LEASE_SECONDS). */
const JOBS = ['broadcast.plan', 'issues.sla', 'officehours.reminders', 'adoption.digest'];

let connector: TeamsConnectorStandIn;
let identity: LocalBotIdentity;
let tables: Tables;
let prefix: string;
let dir: string;
let a: ProductionInstance;
let b: ProductionInstance;
let aHolder = '';
/** The issue the SLA job finds untriaged (stored as logged five hours before the instances started). */
let oldRef = '';
/** When the plan message falls due (the start of the minute it was written in, UTC). */
let due: Date;
/** The clinic's start as first written (its occurrence id keeps it when the session is moved). */
let clinicStart: Date;
const started: ProductionInstance[] = [];
/** DIGEST_* settings that make the digest due now in both instances (set in beforeAll). */
let digestDue: Record<string, string> = {};

/** Today in a zone where it is about noon now, with the digest due from its midnight. */
function digestDueToday(): Record<string, string> {
  const offset = 12 - new Date().getUTCHours(); // UTC-11 … UTC+12
  const zone = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`; // Etc/GMT-2 is UTC+2
  const weekday = new Intl.DateTimeFormat('en-US', { weekday: 'long', timeZone: zone }).format(new Date()).toLowerCase();
  return { DIGEST_WEEKDAY: weekday, DIGEST_HOUR: '0', DIGEST_TIME_ZONE: zone };
}

/** A person's 1:1 chat, as the stand-in serves it. */
const where = (u: TestUser) => ({
  serviceUrl: connector.url,
  conversation: { id: chatOf(u.aadObjectId.replace(/^aad-/, '')), conversationType: 'personal', tenantId: 'tenant-1' },
});
const endpoint = (instance: ProductionInstance): BotEndpoint => ({
  url: instance.url,
  authorize: (activity) => `Bearer ${identity.token(String(activity.serviceUrl))}`,
});

/** What a conversation received (new messages, not updates) whose text contains `marker`. */
function received(conversationId: string, marker: string): number {
  return (connector.deliveries.get(conversationId) ?? []).filter((d) => JSON.stringify(d.body).includes(marker)).length;
}

/** Writes a file the instances watch in one step (a rename), so a reload never sees half of it. */
function writeWatched(file: string, text: string): void {
  const tmp = `${file}.${randomBytes(3).toString('hex')}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

const minute = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ');

function planFile(scheduled?: Date): string {
  const launch = `  - id: launch
    stage: launch
    title: FieldLedger goes live on Monday
    body: Sign in once before Monday.
    audience: { users: [${RECIPIENTS.map((r) => `aad-${r}`).join(', ')}] }
    when: manual
`;
  const tip = scheduled
    ? `  - id: scale-tip
    stage: adoption
    title: Tip of the week from the scale test
    body: Sync before you leave the office.
    audience: { users: [${PLAN_USERS.map((p) => `aad-${p}`).join(', ')}] }
    when: "${minute(scheduled)}"
`
    : '';
  return `timeZone: UTC\nmessages:\n${launch}${tip}`;
}

function officeHoursFile(start?: Date, movedTo?: Date): string {
  if (!start) return 'zone: UTC\nsessions: []\n';
  const change = movedTo
    ? `    changes:\n      - { date: ${minute(start).slice(0, 10)}, moveTo: "${minute(movedTo)}", reason: The trainer is free earlier }\n`
    : '';
  return `zone: UTC
sessions:
  - id: scale-clinic
    kind: office-hours
    title: Scale test clinic
    start: ${minute(start)}
    minutes: 60
    capacity: 10
    joinUrl: https://teams.microsoft.com/l/meetup-join/scale-clinic
    hosts:
      - { id: ${USERS.lead.aadObjectId}, name: ${USERS.lead.name} }
${change}`;
}

/** Lease rows of the scheduled jobs: job → holder and expiry. */
async function leases(): Promise<Map<string, { holder: string; expiresAt: string }>> {
  const table = await tables.table(LEASES_TABLE);
  const out = new Map<string, { holder: string; expiresAt: string }>();
  for await (const e of table.listEntities<{ holderId: string; expiresAt: string }>({ queryOptions: { filter: `PartitionKey eq 'lease'` } })) {
    out.set(String(e.rowKey), { holder: String(e.holderId), expiresAt: String(e.expiresAt) });
  }
  return out;
}

async function start(name: string): Promise<ProductionInstance> {
  const instance = await startProduction({
    identity,
    connectionString: azuriteConnection(),
    tablePrefix: prefix,
    env: {
      CHAMPION_IDS: USERS.champion.aadObjectId,
      ROLLOUT_TEAM_IDS: USERS.lead.aadObjectId,
      DATA_DIR: path.join(dir, `data-${name}`),
      COMM_PLAN_FILE: path.join(dir, 'plan.yaml'),
      OFFICE_HOURS_FILE: path.join(dir, 'office-hours.yaml'),
      SCHEDULER_INTERVAL_SECONDS: '1',
      // A killed instance's jobs are taken over within seconds (60 s by default).
      SCHEDULER_LEASE_SECONDS: '5',
      OFFICE_HOURS_REMINDER_MINUTES: '60',
      OFFICE_HOURS_AGENDA_MINUTES: '120',
      BROADCAST_WORKING_HOURS: 'off',
      BROADCAST_STALE_MINUTES: '1',
      BROADCAST_PROGRESS_SECONDS: '1',
      // The stand-in allows 25 requests/s per tenant: a 150-recipient broadcast takes a few seconds. The instances
      // pace at 20/s: this file checks a kill's recovery (nobody twice, nobody missed), and on a loaded CI machine an
      // instance's requests can leave up to ~190 ms after their slot, which at the limit itself made a rare genuine
      // 429 (ci-19, ci-24). Pacing at the limit is test/outbound/limits.test.ts's to check.
      TENANT_SENDS_PER_SECOND: '20',
      // A request the kill cut off (it may have left) is settled once its claim runs out: 27 s (the least) rather
      // than 39 s (15 s for the stand-in to answer, as always, 3 s to record it).
      OUTBOUND_CLAIM_SECONDS: '27',
      LOG_LEVEL: 'warn',
      ...digestDue,
    },
  });
  started.push(instance);
  return instance;
}

beforeAll(async () => {
  [connector, identity] = await Promise.all([
    new TeamsConnectorStandIn({ tenantPerSecond: 25, latencyMs: 40 }).start(),
    new LocalBotIdentity().start(),
  ]);
  await productionBuild();
  prefix = `s${randomBytes(4).toString('hex')}`;
  tables = new Tables(azuriteConnection(), prefix);
  dir = mkdtempSync(path.join(tmpdir(), 'rd-instances-'));
  digestDue = digestDueToday();
  writeWatched(path.join(dir, 'plan.yaml'), planFile());
  writeWatched(path.join(dir, 'office-hours.yaml'), officeHoursFile());

  // The organisation as it stands when the app is scaled out: everyone has a 1:1 chat with the bot, the
  // triage and support channels are set up, and an issue that blocks someone's work has waited 5 hours.
  const chats = await ConversationStore.open(tables, systemClock);
  const people = [...RECIPIENTS, ...PLAN_USERS, 'lead', 'staff', 'champ'];
  await chats.rememberAll(people.map((p) => personalChat(connector, p)));
  for (const [role, id] of [['triage', TRIAGE], ['support', SUPPORT], ['rollout', ROLLOUT]] as const) {
    await chats.setChannelRole(role, { ...channel(connector, id), updatedAt: new Date().toISOString() }, USERS.lead.aadObjectId);
  }
  const logged = new IssueRepository(await openIssueTables(tables), {
    config: { refPrefix: 'R-', categories: [...DEFAULT_CATEGORIES], sla: { untriagedReminderMinutes: 240, escalationMinutes: 60 } },
    clock: new ManualClock(new Date(Date.now() - 5 * 3600_000)),
  });
  const old = await logged.logIssue(
    {
      title: 'Monthly report will not submit',
      description: 'Submitting the K-05 report ends with an error every time.',
      location: 'K-05 screen',
      category: DEFAULT_CATEGORIES[0],
      severity: 'blocks',
      site: 'Marula district',
    },
    { id: USERS.staff.id, name: USERS.staff.name, aadObjectId: USERS.staff.aadObjectId },
  );
  if (old.kind !== 'created') throw new Error(`could not store the old issue: ${JSON.stringify(old)}`);
  oldRef = old.issue.ref;

  // A starts first and takes every job's lease; B joins. A is the one killed later.
  a = await start('a');
  await until('instance A to hold the scheduled jobs\' leases', async () => {
    const held = await leases();
    return JOBS.every((j) => held.get(j)?.holder);
  }, 60_000, 200);
  aHolder = (await leases()).get(JOBS[0]!)!.holder;
  b = await start('b');

  // Now that both run: a plan message due at the start of the current minute, and a clinic in three hours (its
  // reminder goes 60 minutes before, its agenda 120). Plan times have minute resolution: a time already begun
  // makes the message due without waiting up to a minute for the next one. Each instance finds it due (within
  // BROADCAST_GRACE_MINUTES of its time, as after a restart) at its first tick after reloading the plan, and
  // both try to send it at about the same moment.
  due = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  clinicStart = new Date(Math.ceil((Date.now() + 3 * 3600_000) / 60_000) * 60_000);
  writeWatched(path.join(dir, 'plan.yaml'), planFile(due));
  writeWatched(path.join(dir, 'office-hours.yaml'), officeHoursFile(clinicStart));
}, 240_000);

afterAll(async () => {
  await Promise.all(started.map((i) => i.kill()));
  await Promise.all([connector?.stop(), identity?.stop()]);
});

/** The occurrence id of the clinic (`<session>|<local start>`). */
const clinic = () => `scale-clinic|${clinicStart.toISOString().slice(0, 16)}`;

describe('two production instances on one Storage account', () => {
  it('a triage change made through one instance is what the other shows, and the triage card is posted once', async () => {
    const logged = await execute(
      endpoint(b),
      USERS.staff,
      'issue.logAnyway',
      {
        form: {
          title: 'Tablet map shows the wrong district',
          description: 'The map on the visit screen centres on another district.',
          location: 'Visit screen',
          category: DEFAULT_CATEGORIES[0],
          severity: 'slows',
          site: 'Kanyama',
        },
      },
      where(USERS.staff),
    );
    const ref = /R-\d{4}/.exec(invokeText(logged.body))?.[0] ?? '';
    expect(ref, invokeText(logged.body)).not.toBe('');
    expect(ref).not.toBe(oldRef);

    const issues = new IssueRepository(await openIssueTables(tables), {
      config: { refPrefix: 'R-', categories: [...DEFAULT_CATEGORIES], sla: { untriagedReminderMinutes: 240, escalationMinutes: 60 } },
    });
    const version = (await issues.get(ref))?.version ?? 0;
    const changed = await execute(endpoint(a), USERS.champion, 'issue.status', { ref, version, status: 'in_progress' }, where(USERS.champion));
    expect(changed.status).toBe(200);
    expect(invokeText(changed.body)).toContain('In progress');

    const shown = readable(await say(endpoint(b), USERS.champion, `issue ${ref}`, where(USERS.champion)));
    expect(shown).toContain(ref);
    expect(shown).toContain('In progress');
    expect(readable(await say(endpoint(b), USERS.staff, `issue ${ref}`, where(USERS.staff)))).toContain('In progress');

    // The card in the triage channel was posted by one instance, once, and then updated in place.
    await until('the triage card', () => received(TRIAGE, ref) > 0);
    expect(received(TRIAGE, ref)).toBe(1);
  }, 120_000);

  it('scheduled work goes out once: the SLA reminder and escalation, the plan message, the office-hours reminders, agenda and notice', async () => {
    // The staff member books a seat through B once the instances have read the schedule; then the clinic is
    // moved to start within the hour, so its agenda, reminders and the "moved" notice are all due at once.
    await until('a seat at the clinic', async () => {
      const res = await execute(endpoint(b), USERS.staff, 'officehours.book', { occurrenceId: clinic() }, where(USERS.staff));
      return res.status === 200 && typeof res.body.value === 'object';
    }, 30_000, 500);
    const soon = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 59 * 60_000);
    writeWatched(path.join(dir, 'office-hours.yaml'), officeHoursFile(clinicStart, soon));

    await until('the SLA reminder and escalation', () => received(TRIAGE, oldRef) > 0 && received(chatOf('lead'), oldRef) > 0, 60_000);
    await until('the plan message and the office-hours reminders', () =>
      PLAN_USERS.every((p) => received(chatOf(p), 'Tip of the week') > 0) &&
      received(chatOf('staff'), 'Reminder: **Scale test clinic**') > 0 &&
      received(chatOf('staff'), '**Scale test clinic** has moved') > 0 &&
      received(SUPPORT, 'Scale test clinic') > 0 &&
      received(chatOf('lead'), 'Agenda: Scale test clinic') > 0,
    150_000, 200);

    expect(received(TRIAGE, `Reminder: **${oldRef}**`)).toBe(1);
    expect(received(chatOf('lead'), `Escalation: **${oldRef}**`)).toBe(1);
    for (const p of PLAN_USERS) expect(received(chatOf(p), 'Tip of the week'), p).toBe(1);
    expect(received(chatOf('staff'), 'Reminder: **Scale test clinic**')).toBe(1);
    expect(received(chatOf('staff'), '**Scale test clinic** has moved')).toBe(1);
    expect(received(SUPPORT, '**Scale test clinic** starts soon')).toBe(1);
    expect(received(chatOf('lead'), 'Agenda: Scale test clinic')).toBe(1);
  }, 240_000);

  it('an instance killed mid-broadcast: the other finishes it, nobody gets it twice, and the jobs it takes over repeat nothing', async () => {
    // What the scheduled jobs sent before the kill (the previous test waits for it; alone, this one does).
    const once: [string, string][] = [
      [TRIAGE, `Reminder: **${oldRef}**`],
      [chatOf('lead'), `Escalation: **${oldRef}**`],
      ...PLAN_USERS.map((p) => [chatOf(p), 'Tip of the week'] as [string, string]),
      [SUPPORT, '**Scale test clinic** starts soon'],
      [chatOf('lead'), 'Agenda: Scale test clinic'],
      [chatOf('staff'), 'Reminder: **Scale test clinic**'],
      [chatOf('staff'), '**Scale test clinic** has moved'],
      [ROLLOUT, DIGEST],
    ];
    await until('the scheduled messages', () => once.every(([c, m]) => received(c, m) > 0), 240_000, 200);

    const confirm = readable(await say(endpoint(a), USERS.lead, 'send launch', where(USERS.lead)));
    expect(confirm).toContain('150');
    const sent = await execute(endpoint(a), USERS.lead, 'broadcast.send', { id: 'launch' }, where(USERS.lead));
    expect(invokeText(sent.body)).toContain('Sending "FieldLedger goes live on Monday"');

    const reached = () => RECIPIENTS.filter((r) => connector.deliveries.has(chatOf(r))).length;
    await until('the broadcast under way', () => reached() >= 20, 60_000, 10);
    await a.kill();
    expect(reached()).toBeLessThan(RECIPIENTS.length);

    // B takes over A's jobs once their leases run out and runs each at least twice (the scheduler starts a
    // run only when the last one ended). Watched from the kill on, while B finishes the broadcast: that takes
    // longer whenever the kill cut off a request that may have left (its claim, OUTBOUND_CLAIM_SECONDS, must run out first).
    const renewals = new Map<string, Set<string>>();
    const tookOver = until('B to run the jobs A held', async () => {
      const held = await leases();
      for (const j of JOBS) {
        const l = held.get(j);
        if (l && l.holder !== aHolder) renewals.set(j, (renewals.get(j) ?? new Set()).add(l.expiresAt));
      }
      return JOBS.every((j) => (renewals.get(j)?.size ?? 0) >= 3);
    }, 120_000, 300);
    tookOver.catch(() => {}); // awaited below; not an unhandled rejection if an assertion before it fails

    const sends = await SendStore.open(tables);
    const send = (await sends.all()).find((s) => s.messageId === 'launch');
    expect(send).toBeDefined();
    await until('B to finish the broadcast', async () => Boolean((await sends.get(send!.id))?.finishedAt), 240_000, 500);

    const rows = new Map<string, { state: string; reason: string }>();
    for await (const r of (await DeliveryRows.open(tables)).rows(send!.id)) rows.set(r.key, r);
    expect(rows.size).toBe(RECIPIENTS.length);
    const tally = connector.tally(RECIPIENTS.map(chatOf));
    expect(tally.duplicates).toBe(0);
    for (const r of RECIPIENTS) {
      const row = rows.get(`aad-${r}`);
      const got = connector.deliveries.get(chatOf(r))?.length ?? 0;
      // Sent means it arrived once; the only other end is an attempt the kill cut off, on record as
      // unconfirmed (it may have arrived: the connector has no way to ask), which is never sent again.
      if (row?.state === 'sent') expect(got, r).toBe(1);
      else expect(row, r).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^unconfirmed/) });
    }
    // At most what A had out at once (the worker holds 24).
    expect(RECIPIENTS.filter((r) => rows.get(`aad-${r}`)?.state !== 'sent').length).toBeLessThanOrEqual(24);
    expect(connector.counts.selfCaused429).toBe(0);

    // Once B has run the jobs it took over, whatever those runs queued is sent: nothing is repeated.
    await tookOver;
    const queue = new QueueClient(azuriteConnection(), queueName(prefix, 'outbound'));
    await until('the outbound queue to empty', async () => (await queue.getProperties()).approximateMessagesCount === 0, 60_000, 200);
    for (const [c, m] of once) expect(received(c, m), `${c}: ${m}`).toBe(1);
    // The sender's progress card was posted once, and the report B made at the end replaced it in place.
    const cards = (connector.deliveries.get(chatOf('lead')) ?? []).filter((d) => JSON.stringify(d.body).includes('FieldLedger goes live on Monday'));
    expect(cards).toHaveLength(1);
    expect(JSON.stringify(connector.messages.get(cards[0]!.activityId))).toContain('Delivery report');
    expect(connector.tally(RECIPIENTS.map(chatOf)).duplicates).toBe(0);
  }, 480_000);

  it('the weekly digest goes out once to the rollout channel, and the job holder running it again sends nothing', async () => {
    await until('the weekly digest', () => received(ROLLOUT, DIGEST) > 0, 120_000, 200);
    // The instance now holding the digest's lease (B, after the kill above) runs the job twice more.
    const runs = new Set<string>();
    await until('two more runs of the digest job', async () => {
      const lease = (await leases()).get('adoption.digest');
      if (lease) runs.add(lease.expiresAt);
      return runs.size >= 3;
    }, 120_000, 300);
    const queue = new QueueClient(azuriteConnection(), queueName(prefix, 'outbound'));
    await until('the outbound queue to empty', async () => (await queue.getProperties()).approximateMessagesCount === 0, 60_000, 200);
    expect(received(ROLLOUT, DIGEST)).toBe(1);
  }, 300_000);
});
