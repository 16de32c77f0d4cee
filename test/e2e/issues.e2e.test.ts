import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAYGROUND_USERS } from '../../src/devtools/playground.js';
import { Stack, textOf } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start();
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const alex = PLAYGROUND_USERS.alex.id; // rollout team; the Playground's personal chat is his
const megan = PLAYGROUND_USERS.megan.id; // champion

function versionIn(value: unknown): number {
  return Number(/"version":"?(\d+)/.exec(JSON.stringify(value))?.[1] ?? 0);
}

describe('the issue log in the Agents Playground', () => {
  it('logs an issue, shows it to champions in the triage channel, and the reporter hears back', async () => {
    const chat = stack.cfg.personalChatId;
    const team = stack.cfg.teamId;

    let from = stack.messages.length;
    await stack.say(team, alex, 'setup triage', true);
    await stack.waitFor((m) => textOf(m).includes('triage channel'), from);

    from = stack.messages.length;
    await stack.say(chat, alex, 'report');
    const formMsg = await stack.waitFor(
      (m) => JSON.stringify(m.message.attachments ?? []).includes('issue.submit'),
      from,
    );

    from = stack.messages.length;
    const confirmation = await stack.execute(chat, formMsg.message.messageId, alex, 'issue.submit', {
      title: 'Monthly report will not submit',
      description: 'The Submit button stays grey although every field is filled in.',
      location: 'Monthly report, last step',
      category: 'Reports',
      severity: 'blocks',
      site: 'Tembe district',
    });
    const ref = /R-\d{4}/.exec(JSON.stringify(confirmation))?.[0] ?? '';
    expect(ref).toMatch(/^R-\d{4}$/);

    const triage = await stack.waitFor(
      (m) =>
        m.actionConversationId.startsWith(team) &&
        JSON.stringify(m.message.attachments ?? []).includes('issue.assignMe'),
      from,
    );
    expect(textOf(triage)).toContain('Monthly report will not submit');

    // A post in a channel starts a thread; its card lives in that thread.
    const thread = `${team};messageid=${triage.message.messageId}`;
    const assigned = await stack.execute(thread, triage.message.messageId, megan, 'issue.assignMe', {
      ref,
      version: versionIn(triage.message.attachments),
    });
    expect(JSON.stringify(assigned)).toContain('Megan Bowen');

    from = stack.messages.length;
    const resolved = await stack.execute(thread, triage.message.messageId, megan, 'issue.status', {
      ref,
      version: versionIn(assigned),
      status: 'resolved',
    });
    expect(JSON.stringify(resolved)).toContain('Resolved');
    const notice = await stack.waitFor(
      (m) => m.actionConversationId === chat && textOf(m).includes(ref) && /Resolved/i.test(textOf(m)),
      from,
    );
    expect(textOf(notice)).toContain('Monthly report will not submit');
  }, 60_000);
});
