import type { App, AppOptions } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { execute, invokeText, say, startTestApp, type TestUser, USERS } from './app.js';
import { RecordingConnector } from './connector.js';

/**
 * The real app in local mode (a demo user named by a header) with a triage channel set up, and a client for
 * the tab's API. Each test file gets its own: the triage channel's Teams limits (60 requests in 30 s) are
 * shared by everything a file logs, so a file that logs dozens of issues keeps its own channel's backlog.
 */
export interface TabApiHarness {
  app: App;
  clock: ManualClock;
  connector: RecordingConnector;
  /** A staff member who is not one of the demo users. */
  other: TestUser;
  /** Logs an issue through the card's "log anyway" action; returns its reference. */
  logIssue(user: TestUser, over?: Record<string, string>): Promise<string>;
  api(user: TestUser | null, path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: Record<string, unknown> & { items?: { ref: string }[] } }>;
  stop(): Promise<void>;
}

const TRIAGE = '19:triage@thread.tacv2';

export async function startTabApi(opts: Omit<AppOptions, 'log' | 'clock'> = {}): Promise<TabApiHarness> {
  const connector = await new RecordingConnector().start();
  const { app, clock } = await startTestApp({ LOG_LEVEL: 'silent' }, undefined, undefined, opts);
  const other: TestUser = { id: '29:other', aadObjectId: 'aad-other', name: 'Olu Other' };
  const where = (u: TestUser) => ({ serviceUrl: connector.url, conversation: { id: `a:chat-${u.aadObjectId}`, conversationType: 'personal', tenantId: 'tenant-1' } });
  clock.set('2027-01-11T09:00:00Z');
  for (const u of [...Object.values(USERS), other]) await say(app, u, 'whoami', where(u));
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', {
    serviceUrl: connector.url,
    conversation: { id: `${TRIAGE};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
  });
  let seq = 0;
  return {
    app,
    clock,
    connector,
    other,
    async logIssue(user, over = {}) {
      seq++;
      const form = { title: `Problem ${seq}`, description: 'It fails every time.', location: 'Visit screen', category: 'Reports', severity: 'slows', site: `Site ${seq}`, ...over };
      const res = await execute(app, user, 'issue.logAnyway', { form }, where(user));
      const ref = /R-\d{4}/.exec(invokeText(res.body))?.[0];
      if (!ref) throw new Error(invokeText(res.body));
      return ref;
    },
    async api(user, path, init = {}) {
      const res = await fetch(`${app.url}${path}`, {
        method: init.method ?? 'GET',
        headers: { ...(user ? { 'x-demo-user': user.aadObjectId } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> & { items?: { ref: string }[] } };
    },
    async stop() {
      await app.stop();
      await connector.stop();
    },
  };
}
