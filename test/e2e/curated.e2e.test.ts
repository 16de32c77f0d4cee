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

const alex = PLAYGROUND_USERS.alex.id; // the Playground's personal chat is his; he becomes staff for the demo
const megan = PLAYGROUND_USERS.megan.id; // champion

const cardJson = (m: StreamedMessage) => JSON.stringify(m.message.attachments ?? []);
const field = (m: unknown, name: string) => new RegExp(`"${name}":"?([^",}]+)`).exec(JSON.stringify(m))?.[1] ?? '';

describe('champions answer what the guidance does not cover, in the Agents Playground', () => {
  it('a staff question is not covered → a champion answers it from the triage card → the asker hears 1:1 → asked again in other words, the curated answer is cited', async () => {
    const chat = stack.cfg.personalChatId;
    const team = stack.cfg.teamId;
    let from = stack.messages.length;
    await stack.say(team, alex, 'setup triage', true);
    await stack.waitFor((m) => textOf(m).includes('triage channel'), from);
    await stack.say(chat, alex, 'demo as staff');
    await stack.waitFor((m) => textOf(m).includes('Staff'), from);

    from = stack.messages.length;
    await stack.say(chat, alex, 'how many days of annual leave do I get this year?');
    const notCovered = await stack.waitFor((m) => textOf(m).includes("doesn't cover"), from);
    expect(notCovered.actionConversationId).toBe(chat);

    // The champions see it in the triage channel, with "Answer this".
    const gapCard = await stack.waitFor(
      (m) => m.actionConversationId.startsWith(team) && cardJson(m).includes('faq.curated.answer'),
      from,
    );
    expect(textOf(gapCard)).toContain('annual leave');
    const groupId = field(gapCard.message.attachments, 'groupId');
    expect(groupId).not.toBe('');

    // Staff cannot answer in the champions' place, whatever their client sends.
    const forged = await stack.execute(chat, notCovered.message.messageId, alex, 'faq.curated.answer', {
      groupId,
      answer: 'Anything goes',
    });
    expect(JSON.stringify(forged)).toMatch(/champions and the rollout team/);

    from = stack.messages.length;
    const thread = `${team};messageid=${gapCard.message.messageId}`;
    const answered = await stack.execute(thread, gapCard.message.messageId, megan, 'faq.curated.answer', {
      groupId,
      answer: '21 working days a year; ask HR for your balance. Leave is booked on the HR-L1 form.',
    });
    expect(JSON.stringify(answered)).toMatch(/1 person who asked gets your answer/);

    const told = await stack.waitFor(
      (m) => m.actionConversationId === chat && textOf(m).includes('HR-L1 form'),
      from,
    );
    expect(textOf(told)).toMatch(/A champion answered a question you asked earlier/);
    expect(textOf(told)).toMatch(/Answered by a champion/);

    from = stack.messages.length;
    await stack.say(chat, alex, 'what is my annual leave allowance');
    const again = await stack.waitFor((m) => m.actionConversationId === chat && textOf(m).includes('Source:'), from);
    expect(textOf(again)).toContain('HR-L1 form');
    expect(textOf(again)).toMatch(/Answered by a champion, \d{1,2} \w{3} \d{4}/);
  }, 90_000);

  it('a champion edits, then retires, a curated answer: whoever was sent the earlier text gets the new one; retired, it is no longer given', async () => {
    const chat = stack.cfg.personalChatId;
    let from = stack.messages.length;
    await stack.say(chat, alex, 'demo as champion');
    await stack.waitFor((m) => textOf(m).includes('Champion'), from);

    from = stack.messages.length;
    await stack.say(chat, alex, 'curated');
    const list = await stack.waitFor((m) => cardJson(m).includes('faq.curated.retire'), from);
    const [, curatedId = '', v = '0'] = /"curatedId":"([^"]+)","version":"?(\d+)/.exec(cardJson(list)) ?? [];
    const version = Number(v);

    const edited = await stack.execute(chat, list.message.messageId, alex, 'faq.curated.edit', {
      curatedId,
      version,
      answer: '21 working days, 25 after five years; book it on the HR-L1 form.',
    });
    expect(JSON.stringify(edited)).toContain('25 after five years');
    expect(JSON.stringify(edited)).toMatch(/1 person who was sent the earlier answer gets the new one/);
    // Alex asked as staff in the test before and was sent the first text: the correction reaches him 1:1.
    const corrected = await stack.waitFor(
      (m) => m.actionConversationId === chat && textOf(m).includes('changed the answer you were sent earlier'),
      from,
    );
    expect(textOf(corrected)).toContain('25 after five years');
    const stale = await stack.execute(chat, list.message.messageId, alex, 'faq.curated.retire', { curatedId, version });
    expect(JSON.stringify(stale)).toMatch(/changed|version|again/i); // the list's version is out of date now

    const retired = await stack.execute(chat, list.message.messageId, alex, 'faq.curated.retire', {
      curatedId,
      version: Number(/"curatedId":"[^"]+","version":"?(\d+)/.exec(JSON.stringify(edited))?.[1]),
    });
    expect(JSON.stringify(retired)).toMatch(/Retired/);

    await stack.say(chat, alex, 'demo as staff');
    from = stack.messages.length;
    await stack.say(chat, alex, 'how many days of annual leave do I get this year?');
    const after = await stack.waitFor((m) => m.actionConversationId === chat && /Source:|doesn't cover/.test(textOf(m)), from);
    expect(textOf(after)).not.toContain('HR-L1 form');
  }, 90_000);
});
