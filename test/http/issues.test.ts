import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import {
  activity,
  execute,
  invokeText,
  post,
  readable,
  say,
  startTestApp,
  type TestUser,
  USERS,
} from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;

const TRIAGE = '19:triage@thread.tacv2';
const chatOf = (u: TestUser) => `a:chat-${u.aadObjectId}`;
/** Every activity from the connector's point of view: replies and proactive sends go to the recording connector. */
const where = (u: TestUser) => ({
  serviceUrl: connector.url,
  conversation: { id: chatOf(u), conversationType: 'personal', tenantId: 'tenant-1' },
});

const form = {
  title: 'Sync fails with FL-SYNC-409',
  description: 'Every evening the tablet says conflict and the visits stay pending.',
  location: 'Sync screen',
  category: 'Sync / offline',
  severity: 'blocks',
  site: 'Marula district',
};

async function submit(user: TestUser, values: Record<string, unknown>, verb = 'issue.submit') {
  return execute(app, user, verb, values, where(user));
}

function refIn(text: string): string {
  return /R-\d{4}/.exec(text)?.[0] ?? '';
}

function versionOf(body: Record<string, unknown>): number {
  return Number(/"version":"?(\d+)/.exec(JSON.stringify(body))?.[1] ?? 0);
}

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({
    SLA_UNTRIAGED_MINUTES: '120',
    SLA_BLOCKING_MINUTES: '30',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  }));
  // Everyone has a personal chat with the bot; the rollout team makes a channel the triage channel.
  for (const u of Object.values(USERS)) await say(app, u, 'whoami', where(u));
  const setup = await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', {
    serviceUrl: connector.url,
    conversation: { id: `${TRIAGE};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
  });
  expect(readable(setup)).toContain('triage channel');
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('logging an issue', () => {
  it('opens the form on "report"', async () => {
    const text = JSON.stringify(await say(app, USERS.staff, 'report', where(USERS.staff)));
    expect(text).toContain('issue.submit');
    expect(text).toContain('Sync / offline');
  });

  it('refuses an incomplete or over-long form with a message per field and saves nothing', async () => {
    const empty = await submit(USERS.staff, { ...form, title: '' });
    expect(invokeText(empty.body)).toMatch(/title/i);
    const long = await submit(USERS.staff, { ...form, description: 'x'.repeat(5_000) });
    expect(invokeText(long.body)).toMatch(/description|characters/i);
    const queue = await app.queries.triageQueue({}, { limit: 10 });
    expect(queue.items).toHaveLength(0);
  });

  it('saves a valid report with a reference, confirms it, and posts the triage card in the triage channel', async () => {
    const res = await submit(USERS.staff, form);
    const ref = refIn(invokeText(res.body));
    expect(ref).toBe('R-0001');
    expect(invokeText(res.body)).toContain('logged');
    // The channel post is not the reporter's wait: it follows the confirmation.
    await connector.waitFor(() => connector.sentTo(TRIAGE).length > 0);
    const posted = connector.sentTo(TRIAGE);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0]?.body)).toContain('R-0001');
    expect(JSON.stringify(posted[0]?.body)).toContain('issue.assignMe');
  });

  it('offers open issues that look the same, and "+1" adds the user as affected instead of a duplicate', async () => {
    const res = await submit(USERS.champion, { ...form, title: 'FL-SYNC-409 conflict when syncing' });
    expect(JSON.stringify(res.body)).toContain('issue.affected');
    expect(invokeText(res.body)).toContain('R-0001');
    const plusOne = await execute(
      app,
      USERS.champion,
      'issue.affected',
      { ref: 'R-0001' },
      where(USERS.champion),
    );
    expect(invokeText(plusOne.body)).toMatch(/affected/);
    const issue = await app.repository.get('R-0001');
    expect(issue?.affected.map((a) => a.id)).toEqual([USERS.champion.aadObjectId]);
    const queue = await app.queries.triageQueue({}, { limit: 10 });
    expect(queue.items).toHaveLength(1);
  });

  it('logs it anyway when the user says it is a different problem', async () => {
    const res = await execute(
      app,
      USERS.lead,
      'issue.logAnyway',
      { form: { ...form, title: 'Sync FL-SYNC-409 on the new tablets' } },
      where(USERS.lead),
    );
    expect(refIn(invokeText(res.body))).toBe('R-0002');
  });

  it('handles the same submission sent twice by a Teams retry as one issue', async () => {
    const a = activity(USERS.staff, {
      ...where(USERS.staff),
      type: 'invoke',
      name: 'adaptiveCard/action',
      value: {
        action: {
          type: 'Action.Execute',
          verb: 'issue.logAnyway',
          data: { form: { ...form, title: 'Retry me once' } },
        },
      },
      deliveryMode: undefined,
    });
    await post(app, a);
    await post(app, a);
    const mine = await app.queries.listByReporter(USERS.staff.aadObjectId, { limit: 20 });
    expect(mine.items.filter((i) => i.title === 'Retry me once')).toHaveLength(1);
  });
});

describe('triage by champions', () => {
  it('refuses a champion action forged by a staff member and changes nothing', async () => {
    const before = await app.repository.get('R-0001');
    const forged = await execute(
      app,
      USERS.staff,
      'issue.status',
      { ref: 'R-0001', version: before?.version, status: 'resolved' },
      where(USERS.staff),
    );
    expect(invokeText(forged.body)).toMatch(/champions/);
    const after = await app.repository.get('R-0001');
    expect(after?.status).toBe('new');
    expect(after?.version).toBe(before?.version);
  });

  it('assigns to me, updates the channel card in place for everyone, and tells the reporter on status changes', async () => {
    const issue = await app.repository.get('R-0001');
    const assigned = await execute(
      app,
      USERS.champion,
      'issue.assignMe',
      { ref: 'R-0001', version: issue?.version },
      where(USERS.champion),
    );
    expect(invokeText(assigned.body)).toContain(USERS.champion.name);
    const put = connector.calls.filter((c) => c.method === 'PUT' && c.conversationId === TRIAGE);
    expect(put.length).toBeGreaterThan(0);
    expect(JSON.stringify(put.at(-1)?.body)).toContain(USERS.champion.name);

    const sentBefore = connector.sentTo(chatOf(USERS.staff)).length;
    const resolved = await execute(
      app,
      USERS.champion,
      'issue.status',
      { ref: 'R-0001', version: versionOf(assigned.body), status: 'in_progress' },
      where(USERS.champion),
    );
    expect(invokeText(resolved.body)).toMatch(/In progress/i);
    await connector.waitFor(() => connector.sentTo(chatOf(USERS.staff)).length > sentBefore);
    expect(JSON.stringify(connector.sentTo(chatOf(USERS.staff)).at(-1)?.body)).toMatch(/R-0001/);
  });

  it('lets only one of two champions acting on the same card version win; the other sees the fresh card', async () => {
    const issue = await app.repository.get('R-0002');
    const v = issue?.version;
    const [a, b] = await Promise.all([
      execute(
        app,
        USERS.champion,
        'issue.priority',
        { ref: 'R-0002', version: v, priority: 'P1' },
        where(USERS.champion),
      ),
      execute(
        app,
        USERS.lead,
        'issue.priority',
        { ref: 'R-0002', version: v, priority: 'P3' },
        where(USERS.lead),
      ),
    ]);
    const after = await app.repository.get('R-0002');
    const texts = [invokeText(a.body), invokeText(b.body)];
    expect(texts.some((t) => /already|changed|meanwhile|first/i.test(t))).toBe(true);
    expect(after?.history.filter((h) => h.what === 'priority')).toHaveLength(1);
    expect(['P1', 'P3']).toContain(after?.priority);
  });

  it('keeps both comments when two champions comment at once', async () => {
    const v = (await app.repository.get('R-0002'))?.version;
    await Promise.all([
      execute(
        app,
        USERS.champion,
        'issue.comment',
        { ref: 'R-0002', version: v, comment: 'Checked the device logs.', public: 'false' },
        where(USERS.champion),
      ),
      execute(
        app,
        USERS.lead,
        'issue.comment',
        { ref: 'R-0002', version: v, comment: 'Asked the vendor.', public: 'true' },
        where(USERS.lead),
      ),
    ]);
    const after = await app.repository.get('R-0002');
    expect(after?.comments.map((c) => c.text).sort()).toEqual([
      'Asked the vendor.',
      'Checked the device logs.',
    ]);
  });

  it('shows the triage queue to champions with filters, and refuses it to staff', async () => {
    expect(readable(await say(app, USERS.staff, 'triage', where(USERS.staff)))).toMatch(/champions/);
    const all = readable(await say(app, USERS.champion, 'triage', where(USERS.champion)));
    expect(all).toContain('R-0001');
    const filtered = readable(
      await say(app, USERS.champion, 'triage status:in_progress', where(USERS.champion)),
    );
    expect(filtered).toContain('R-0001');
    expect(filtered).not.toContain('R-0002');
    expect(readable(await say(app, USERS.champion, 'triage colour:red', where(USERS.champion)))).toMatch(
      /Usage/,
    );
    expect(readable(await say(app, USERS.champion, 'assigned', where(USERS.champion)))).toContain('R-0001');
  });
});

describe('duplicates and followers', () => {
  it('marks a duplicate, makes its reporter a follower of the original, who then hears when it changes', async () => {
    const mine = await app.queries.listByReporter(USERS.staff.aadObjectId, { limit: 20 });
    const dup = mine.items.find((i) => i.title === 'Retry me once');
    expect(dup).toBeDefined();
    const v = (await app.repository.get(dup!.ref))?.version;
    const marked = await execute(app, USERS.champion, 'issue.duplicate', { ref: dup!.ref, version: v, duplicateOf: 'R-0002' }, where(USERS.champion));
    expect(invokeText(marked.body)).toMatch(/Duplicate/);
    const original = await app.repository.get('R-0002');
    expect(original?.affected.map((a) => a.id)).toContain(USERS.staff.aadObjectId);

    const before = connector.sentTo(chatOf(USERS.staff)).length;
    await execute(app, USERS.champion, 'issue.status', { ref: 'R-0002', version: original?.version, status: 'resolved' }, where(USERS.champion));
    await connector.waitFor(() => connector.sentTo(chatOf(USERS.staff)).length > before);
    expect(JSON.stringify(connector.sentTo(chatOf(USERS.staff)).at(-1)?.body)).toContain('R-0002');
  });

  it('cancels the form without saving anything', async () => {
    const count = (await app.queries.listByReporter(USERS.lead.aadObjectId, { limit: 50 })).items.length;
    const res = await execute(app, USERS.lead, 'issue.cancel', {}, where(USERS.lead));
    expect(invokeText(res.body)).toMatch(/nothing was saved/i);
    expect((await app.queries.listByReporter(USERS.lead.aadObjectId, { limit: 50 })).items).toHaveLength(count);
  });
});

describe('following one’s issues', () => {
  it('lists the user’s issues and shows one with its history, hiding internal comments', async () => {
    expect(readable(await say(app, USERS.staff, 'my issues', where(USERS.staff)))).toContain('R-0001');
    const lead = readable(await say(app, USERS.lead, 'issue R-0002', where(USERS.lead)));
    expect(lead).toContain('Asked the vendor');
    // Staff follows R-0002 (its duplicate was theirs): they see it as a reporter does, internal comments hidden.
    const staffView = readable(await say(app, USERS.staff, 'issue R-0002', where(USERS.staff)));
    expect(staffView).toContain('Asked the vendor');
    expect(staffView).not.toContain('Checked the device logs');
    const other = await execute(app, USERS.lead, 'issue.logAnyway', { form: { ...form, title: 'Lead-only issue' } }, where(USERS.lead));
    const otherRef = refIn(invokeText(other.body));
    expect(readable(await say(app, USERS.staff, `issue ${otherRef}`, where(USERS.staff)))).toMatch(/not one of your issues/);
  });

  it('says plainly when an issue does not exist', async () => {
    expect(readable(await say(app, USERS.staff, 'issue R-9999', where(USERS.staff)))).toMatch(
      /no issue R\\?-9999/i,
    );
  });
});

describe('export', () => {
  it('gives the rollout team a CSV download link, and refuses it to champions', async () => {
    expect(readable(await say(app, USERS.champion, 'export issues', where(USERS.champion)))).toMatch(
      /rollout team/,
    );
    const text = readable(await say(app, USERS.lead, 'export issues', where(USERS.lead)));
    const url = /\((http[^)]+\/exports\/[0-9a-f]+)\)/.exec(text)?.[1] ?? '';
    expect(url).not.toBe('');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="rollout-issues-.*\.csv"/);
    const csv = await res.text();
    expect(csv.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(4);
    expect(csv).toContain('R-0002');
    expect((await fetch(url.replace(/[0-9a-f]{64}$/, 'f'.repeat(64)))).status).toBe(404);
  });
});

describe('SLA', () => {
  it('reminds the triage channel once about an issue left untriaged, and escalates a blocking one once', async () => {
    const res = await execute(
      app,
      USERS.staff,
      'issue.logAnyway',
      { form: { ...form, title: 'Cannot log in at all', category: 'Access / login' } },
      where(USERS.staff),
    );
    const ref = refIn(invokeText(res.body));
    const channelBefore = connector.sentTo(TRIAGE).length;
    const leadBefore = connector.sentTo(chatOf(USERS.lead)).length;
    const about = (calls: { body: unknown }[], text: string) =>
      calls.filter((c) => JSON.stringify(c.body).includes(text));
    clock.advance(31 * 60_000);
    await app.scheduler.tick();
    await app.outbox.drain();
    const escalations = about(connector.sentTo(chatOf(USERS.lead)).slice(leadBefore), `**${ref}**`);
    expect(escalations).toHaveLength(1);
    expect(JSON.stringify(escalations[0]?.body)).toContain('Escalation');
    clock.advance(90 * 60_000);
    await app.scheduler.tick();
    await app.outbox.drain();
    await app.scheduler.tick();
    await app.outbox.drain();
    expect(about(connector.sentTo(TRIAGE).slice(channelBefore), `Reminder: **${ref}**`)).toHaveLength(1);
    clock.advance(120 * 60_000);
    await app.scheduler.tick();
    await app.outbox.drain();
    expect(about(connector.sentTo(chatOf(USERS.lead)).slice(leadBefore), `**${ref}**`)).toHaveLength(1);
    expect(about(connector.sentTo(TRIAGE).slice(channelBefore), `Reminder: **${ref}**`)).toHaveLength(1);
  });
});
