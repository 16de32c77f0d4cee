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

describe('in the Agents Playground', () => {
  it('greets with the welcome card when the app is installed', async () => {
    const from = stack.messages.length;
    await stack.install(stack.cfg.personalChatId);
    const welcome = await stack.waitFor((m) => textOf(m).includes('Welcome to Rollout Desk'), from);
    expect(textOf(welcome)).toContain('report');
  });

  it('answers whoami with the user’s role', async () => {
    const from = stack.messages.length;
    await stack.say(stack.cfg.personalChatId, PLAYGROUND_USERS.alex.id, 'whoami');
    const reply = await stack.waitFor((m) => textOf(m).includes('Alex Wilber'), from);
    expect(textOf(reply)).toContain('Rollout team');
  });

  it('lets the rollout team set the triage channel by @mentioning the bot in it', async () => {
    const from = stack.messages.length;
    await stack.say(stack.cfg.teamId, PLAYGROUND_USERS.alex.id, 'setup triage', true);
    const reply = await stack.waitFor((m) => textOf(m).includes('triage channel'), from);
    expect(reply.actionConversationId).toContain(stack.cfg.teamId);
  });
});
