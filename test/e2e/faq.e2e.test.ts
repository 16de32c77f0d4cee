import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAYGROUND_USERS } from '../../src/devtools/playground.js';
import { Stack, type StreamedMessage, textOf } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start({ GUIDANCE_DIR: 'sample/guidance' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

function questionIdOf(m: StreamedMessage): string {
  return /"questionId":"([^"]+)"/.exec(JSON.stringify(m.message.attachments))?.[1] ?? '';
}

describe('FAQ in the Agents Playground', () => {
  it('answers a question with the cited section, takes Helpful, and opens the issue form from the answer', async () => {
    const chat = stack.cfg.personalChatId;
    const user = PLAYGROUND_USERS.alex.id; // the Playground's personal chat is his
    let from = stack.messages.length;
    await stack.say(chat, user, 'my reports wont sync, they stay in pending upload');
    const answer = await stack.waitFor((m) => textOf(m).includes('Source:'), from);
    expect(textOf(answer)).toMatch(/Source: .*›/);
    expect(textOf(answer)).toMatch(/sync|upload/i);

    const qid = questionIdOf(answer);
    expect(qid).not.toBe('');
    const helpful = await stack.execute(chat, answer.message.messageId, user, 'faq.helpful', {
      questionId: qid,
    });
    expect(JSON.stringify(helpful)).toContain('glad it helped');

    from = stack.messages.length;
    await stack.execute(chat, answer.message.messageId, user, 'issue.form', { questionId: qid });
    // The form arrives as a new message, prefilled with the question, so the answer stays on screen.
    const form = await stack.waitFor(
      (m) => JSON.stringify(m.message.attachments ?? []).includes('issue.submit'),
      from,
    );
    expect(JSON.stringify(form.message.attachments)).toMatch(/pending upload/);
  });
});
