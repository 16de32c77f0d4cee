import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlanError, parsePlan } from '../../src/broadcast/plan.js';
import { parseRollout, type Rollout } from '../../src/rollout/model.js';

const sampleRollout: Rollout = parseRollout(readFileSync('sample/rollout.yaml', 'utf8'));

function problems(text: string, rollout = sampleRollout): string[] {
  try {
    parsePlan(text, rollout, 'plan.yaml');
  } catch (error) {
    if (error instanceof PlanError) return error.problems;
    throw error;
  }
  return [];
}

const message = (over: string) => `messages:
  - id: golive-week
    stage: launch
    title: Next Monday
    body: Get ready.
    audience: { cohort: all }
    when: golive-7d 09:00
${over}`;

/** A plan of one daily tip repeating by `every` from 2027-01-01 until `until`. */
const repeating = (every: string, until: string) => `messages:
  - id: tip
    stage: adoption
    title: Tip
    body: Sync daily.
    audience: everyone
    when: { every: "${every}", at: "09:00", from: 2027-01-01, until: ${until} }
`;

describe('the communication plan file', () => {
  it('reads the sample plan for the FieldLedger rollout: every stage, about ten messages', () => {
    const plan = parsePlan(readFileSync('sample/communication-plan.yaml', 'utf8'), sampleRollout);
    expect(plan.messages.length).toBeGreaterThanOrEqual(9);
    expect(new Set(plan.messages.map((m) => m.stage))).toEqual(new Set(['assessment', 'design', 'launch', 'adoption']));
    expect(plan.messages.map((m) => m.when.kind)).toEqual(expect.arrayContaining(['at', 'golive', 'every', 'manual']));
    expect(plan.wins.resolvedMilestones).toEqual([25, 100, 250, 500]);
  });

  it('names the message id and the field of every problem', () => {
    const found = problems(`timeZone: Africa/Lusaka
messages:
  - id: welcome
    stage: launch
    title: Welcome
    body: Hello
    audience: { group: enumerators }
    when: 2027-01-11 9am
  - id: tip
    stage: adoption
    title: Tip
    body: Sync daily.
    audience: everyone
    when: { every: "FREQ=HOURLY", at: "09:00", from: 2027-01-01, until: 2027-03-01 }
  - id: Bad_Id
    stage: rollout
    body: x
    audience: { channel: triage }
    when: manual
`);
    expect(found).toEqual([
      'messages[0] (welcome).audience.group: no user group "enumerators" in the rollout file',
      'messages[0] (welcome).when: "9am": the time must be written HH:mm (24-hour)',
      'messages[1] (tip).when.every: must repeat at most daily (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY)',
      'messages[2] (Bad_Id).id: must be 1–40 lower-case letters, digits and dashes',
      'messages[2] (Bad_Id).stage: must be one of assessment, design, launch, adoption',
      'messages[2] (Bad_Id).title: is missing',
      'messages[2] (Bad_Id).audience.channel: must be support or announcements (the channels set up with "setup support|announcements")',
    ]);
  });

  it('refuses a repeat whose days never exist (30 February), naming them (rrule would search to the year 9999 for its dates)', () => {
    const rule = (every: string) => repeating(every, '9999-12-31');
    const never = 'messages[0] (tip).when.every: has no date in the 8 years from 2027-01-01: the message would never be sent';
    expect(problems(rule('FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30'))).toEqual([never]);
    expect(problems(rule('FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=31,-31'))).toEqual([never]);
    // Any rule without a date, not only a day of the month a month lacks.
    expect(problems(rule('FREQ=DAILY;BYMONTH=4,6,9,11;BYMONTHDAY=31'))).toEqual([never]);
    expect(problems(rule('FREQ=YEARLY;BYMONTH=2;BYYEARDAY=366'))).toEqual([never]);
    expect(problems(rule('FREQ=DAILY;BYYEARDAY=-366;BYMONTH=12'))).toEqual([never]);
    expect(problems(rule('FREQ=YEARLY;BYWEEKNO=53;BYMONTH=6'))).toEqual([never]);
    expect(problems(rule('FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6'))).toEqual([never]);
    // Easter's dates follow no calendar cycle the check could stand in for.
    expect(problems(rule('FREQ=YEARLY;BYEASTER=0'))).toEqual(['messages[0] (tip).when.every: must not set BYEASTER']);
    // Rare but real days stay allowed: 29 February, the last day of the month, the 31st of the months that have
    // it, week 53 (next in 2032), the 366th day (in leap years).
    expect(problems(rule('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29'))).toEqual([]);
    expect(problems(rule('FREQ=MONTHLY;BYMONTHDAY=-1'))).toEqual([]);
    expect(problems(rule('FREQ=MONTHLY;BYMONTHDAY=31'))).toEqual([]);
    expect(problems(rule('FREQ=MONTHLY;BYMONTH=1,4;BYMONTHDAY=31'))).toEqual([]);
    expect(problems(rule('FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO'))).toEqual([]);
    expect(problems(rule('FREQ=YEARLY;BYYEARDAY=366'))).toEqual([]);
  });

  it('refuses an INTERVAL or COUNT that is not a whole number of 1 or more, naming the field (rrule would step forever, or never send)', () => {
    const rule = (every: string) => repeating(every, '2027-03-01');
    const interval = ['messages[0] (tip).when.every: INTERVAL must be a whole number of 1 or more'];
    const count = ['messages[0] (tip).when.every: COUNT must be a whole number of 1 or more'];
    // Taken before, then the scheduler's first look at its dates never returned (the app stopped answering).
    expect(problems(rule('FREQ=DAILY;INTERVAL=1.5'))).toEqual(interval);
    // Taken before, and never sent.
    expect(problems(rule('FREQ=DAILY;COUNT=0'))).toEqual(count);
    expect(problems(rule('FREQ=WEEKLY;BYDAY=MO;COUNT=2.5'))).toEqual(count);
    // The check itself never returned (in its worker: "could not finish checking", after two minutes).
    expect(problems(rule('FREQ=DAILY;INTERVAL=-1'))).toEqual(interval);
    expect(problems(rule('FREQ=DAILY;INTERVAL=two'))).toEqual(interval);
    expect(problems(rule('FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;COUNT=3'))).toEqual([]);
  });

  it('refuses a time relative to go-live for an audience that is not a cohort, and ids used twice', () => {
    expect(problems(message('').replace('{ cohort: all }', 'everyone'))).toEqual([
      'messages[0] (golive-week).when: a time relative to go-live needs a cohort audience (cohort: all, or a cohort id)',
    ]);
    const twice = message(`  - id: golive-week
    stage: launch
    title: Again
    body: x
    audience: champions
    when: manual
`);
    expect(problems(twice)).toEqual(['messages[1] (golive-week).id: "golive-week" is used by another message']);
  });

  it('checks time zones and links', () => {
    expect(
      problems(`messages:
  - id: a
    stage: design
    title: A
    body: B
    links: [{ title: Open, url: "http://insecure.example" }]
    audience: champions
    when: 2027-01-11 09:00 Mars/Olympus
`),
    ).toEqual([
      'messages[0] (a).links[0].url: must be an https:// address',
    ]);
    expect(
      problems(`messages:
  - id: a
    stage: design
    title: A
    body: B
    audience: champions
    when: 2027-01-11 09:00 Mars/Olympus
`),
    ).toEqual(['messages[0] (a).when: "Mars/Olympus" is not an IANA time zone such as Africa/Nairobi']);
  });

  it('says when the file is not YAML at all', () => {
    expect(problems('messages: [unclosed')[0]).toMatch(/^not valid YAML/);
  });
});

describe('a repeating message with more dates than are scheduled (400)', () => {
  it('is taken, and the plan says which message is cut and the last date scheduled; 400 dates or fewer say nothing', () => {
    const plan = parsePlan(repeating('FREQ=DAILY', '2030-12-31'), sampleRollout, 'plan.yaml');
    const cut = 'repeats on more than 400 dates: only the first 400 are scheduled, until 2028-02-04; to have the later dates go, end it by then ("until") and add another message for the rest';
    expect(plan.notes).toEqual([`messages[0] (tip).when.every: ${cut}`]);
    expect(plan.messages[0]!.cut).toBe(cut);
    // Exactly 400 dates (2027-01-01 to 2028-02-04), or a COUNT of 400: all go, nothing to tell.
    for (const every of ['FREQ=DAILY', 'FREQ=DAILY;COUNT=400']) {
      const whole = parsePlan(repeating(every, every.includes('COUNT') ? '2030-12-31' : '2028-02-04'), sampleRollout, 'plan.yaml');
      expect(whole.notes, every).toBeUndefined();
      expect(whole.messages[0]!.cut, every).toBeUndefined();
    }
    // A COUNT past 400 is cut too.
    expect(parsePlan(repeating('FREQ=DAILY;COUNT=500', '2030-12-31'), sampleRollout, 'plan.yaml').notes).toEqual([`messages[0] (tip).when.every: ${cut}`]);
    expect(parsePlan(readFileSync('sample/communication-plan.yaml', 'utf8'), sampleRollout).notes).toBeUndefined();
  });

  it('bounded by go-live: names the first cohort cut and counts the others', () => {
    const rollout: Rollout = {
      ...sampleRollout,
      cohorts: [
        { id: 'wave-a', name: 'Wave A', goLive: '2027-01-04', zone: 'UTC' },
        { id: 'wave-b', name: 'Wave B', goLive: '2027-02-01', zone: 'UTC' },
      ],
    };
    const plan = parsePlan(
      `messages:
  - id: daily-tip
    stage: adoption
    title: Tip
    body: Sync daily.
    audience: { cohort: all }
    when: { every: "FREQ=DAILY", at: "09:00", from: golive, until: golive+100w }
`,
      rollout,
      'plan.yaml',
    );
    expect(plan.notes).toEqual([
      'messages[0] (daily-tip).when.every: repeats on more than 400 dates for Wave A (and 1 more cohort): only the first 400 are scheduled, until 2028-02-07; to have the later dates go, end it by then ("until") and add another message for the rest',
    ]);
  });
});
