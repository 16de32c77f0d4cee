import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { PLAYGROUND_USERS } from '../../src/devtools/playground.js';
import { parseIcsEvent } from '../support/ics.js';
import { Stack, type StreamedMessage, textOf } from './support/stack.js';

// The Playground tells the bot the user's time zone from its own process's: it runs "in" Kolkata here.
const PLAYGROUND_ZONE = 'Asia/Kolkata';
let stack: Stack;
const clock = new ManualClock('2027-01-19T04:00:00Z'); // Tue 19 Jan 2027: Wave B's training is under way
beforeAll(async () => {
  const tz = process.env.TZ;
  process.env.TZ = PLAYGROUND_ZONE;
  try {
    stack = await Stack.start(
      { GUIDANCE_DIR: 'sample/guidance', ROLLOUT_FILE: 'sample/rollout.yaml', OFFICE_HOURS_FILE: 'sample/office-hours.yaml' },
      { clock },
    );
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const alex = PLAYGROUND_USERS.alex.id;
const cardJson = (m: StreamedMessage) => JSON.stringify(m.message.attachments ?? []);

describe('office hours and training in the Agents Playground', () => {
  it('a staff member sees their training timeline and the next office hours in their zone, books with a question, gets the .ics, and the agenda and reminder arrive', async () => {
    const chat = stack.cfg.personalChatId;
    const team = stack.cfg.teamId;
    let from = stack.messages.length;
    // The rollout team (Alex, before he becomes staff for the demo) sets up channels and puts himself in Wave B's field officers.
    await stack.say(team, alex, 'setup triage', true);
    await stack.waitFor((m) => textOf(m).includes('triage channel'), from);
    from = stack.messages.length;
    await stack.say(team, alex, 'setup support', true);
    await stack.waitFor((m) => textOf(m).includes('support channel'), from);
    for (const target of ['field-officers', 'wave-b']) {
      from = stack.messages.length;
      await stack.say(chat, alex, `group add ${target} me`);
      await stack.waitFor((m) => textOf(m).includes('Alex Wilber is now in'), from);
    }
    from = stack.messages.length;
    await stack.say(chat, alex, 'demo as staff');
    await stack.waitFor((m) => textOf(m).includes('Staff'), from);

    // The training timeline, in his own zone (09:00 in Lusaka is 12:30 in Kolkata).
    from = stack.messages.length;
    await stack.say(chat, alex, 'my training');
    const timeline = textOf(await stack.waitFor((m) => textOf(m).includes('Your training'), from));
    expect(timeline).toContain('Field officers · Wave B: Sefara, Lumbe, Dhoro (go-live Mon 1 Feb 2027, Africa/Lusaka)');
    // ICU may name the zone by its older alias (Asia/Calcutta), as Teams clients can too.
    expect(timeline).toMatch(/Times in your time zone, Asia\/(Kolkata|Calcutta)/);
    expect(timeline).toContain('You missed it on Mon 18 Jan 2027, 12:30. Next chance to catch up: Mon 25 Jan 2027, 12:30–14:30.');
    expect(timeline).toContain('Wed 20 Jan 2027, 12:30–14:30.');

    // The next office hours, in his zone.
    from = stack.messages.length;
    await stack.say(chat, alex, 'office hours');
    const list = await stack.waitFor((m) => textOf(m).includes('Next office hours'), from);
    expect(textOf(list)).toContain('Tue 19 Jan 2027, 17:30–19:00');
    const occurrenceId = /"occurrenceId":"(office-hours\|2027-01-19T14:00)"/.exec(cardJson(list))?.[1];
    expect(occurrenceId).toBe('office-hours|2027-01-19T14:00');

    // Books it with a question.
    const booked = JSON.stringify(
      await stack.execute(chat, list.message.messageId, alex, 'officehours.book', {
        occurrenceId,
        field: 'question0',
        question0: 'How do I record a follow-up visit when the household has moved?',
      }),
    );
    expect(booked).toContain("You're booked for FieldLedger office hours");
    const link = /"url":"(http[^"]+\/calendar\/[^"]+)"/.exec(booked)?.[1] ?? '';
    expect(link).toContain('/calendar/');

    // The invite, parsed back: the start in UTC.
    const res = await fetch(link);
    expect(res.status).toBe(200);
    const event = parseIcsEvent(await res.text());
    expect(event.startDate.toJSDate().toISOString()).toBe('2027-01-19T12:00:00.000Z');
    expect(event.uid).toBe('office-hours-20270119T1400@rollout-desk');

    // Two hours before: the hosts' agenda (none of them has a chat with the bot here: the triage channel).
    from = stack.messages.length;
    clock.set('2027-01-19T10:00:00Z');
    await stack.app.scheduler.tick();
    const agenda = await stack.waitFor((m) => m.actionConversationId.startsWith(team) && textOf(m).includes('Agenda: FieldLedger office hours'), from);
    expect(textOf(agenda)).toContain('Alex Wilber: How do I record a follow-up visit when the household has moved?');
    expect(cardJson(agenda)).toContain('officehours.attendance');

    // One hour before: the reminder, 1:1 in his zone, and in the support channel.
    from = stack.messages.length;
    clock.set('2027-01-19T11:00:00Z');
    await stack.app.scheduler.tick();
    const reminder = await stack.waitFor((m) => m.actionConversationId === chat && textOf(m).includes('Reminder:'), from);
    expect(textOf(reminder)).toMatch(/Tue 19 Jan 2027, 17:30–19:00 \(Asia\/(Kolkata|Calcutta)/);
    expect(textOf(reminder)).toContain('household has moved');
    const channel = await stack.waitFor((m) => m.actionConversationId.startsWith(team) && textOf(m).includes('starts soon'), from);
    expect(textOf(channel)).toContain('24 of 25 seats left');
  }, 120_000);

  it('a staff member cannot add office hours, by command or by forging the card action', async () => {
    const chat = stack.cfg.personalChatId;
    let from = stack.messages.length;
    await stack.say(chat, alex, 'demo as staff');
    await stack.waitFor((m) => textOf(m).includes('Staff'), from);
    from = stack.messages.length;
    await stack.say(chat, alex, 'office hours add');
    const refusal = await stack.waitFor((m) => textOf(m).includes('rollout team only'), from);
    const before = (await stack.app.officeHours.current()).sessions.length;
    const forged = await stack.execute(chat, refusal.message.messageId, alex, 'officehours.add', {
      title: 'Not allowed',
      date: '2027-01-21',
      time: '10:00',
      capacity: '5',
      joinUrl: 'https://teams.microsoft.com/l/x',
    });
    expect(JSON.stringify(forged)).toMatch(/rollout team only/);
    expect((await stack.app.officeHours.current()).sessions.length).toBe(before);
  }, 60_000);
});
