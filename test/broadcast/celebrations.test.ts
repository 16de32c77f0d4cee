import { describe, expect, it } from 'vitest';
import { celebrateForm } from '../../src/broadcast/cards.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { allAcknowledged, championsPast, milestonesToMark, noP1Week } from '../../src/broadcast/wins.js';
import { parsePlan } from '../../src/broadcast/plan.js';
import type { Rollout } from '../../src/rollout/model.js';
import { CHAMPION, fixture, finished, installed, LEAD, STAFF } from './support.js';

const ADELE = '00000000-0000-0000-0000-0000000000022';

describe('celebrate', () => {
  it('posts to the support channel with a real @mention; bad input and staff change nothing', async () => {
    // Adele never spoke to the app: Teams' roster of the support channel's team vouches for her.
    const f = await fixture({ supportTeam: [{ id: ADELE, name: 'Adele Vance' }] });
    const staff = await f.b.celebrations.celebrate(STAFF, { who: ADELE, what: 'All reports on time', image: '' }, 'k0');
    expect(staff).toMatchObject({ kind: 'refused' });
    const bad = await f.b.celebrations.celebrate(CHAMPION, { who: '', what: 'x'.repeat(501), image: 'http://x' }, 'k1');
    expect(bad).toMatchObject({ kind: 'invalid', errors: { who: expect.any(String), what: expect.stringContaining('501'), image: expect.any(String) } });
    expect(f.outbox.enqueued).toEqual([]);

    const posted = await f.b.celebrations.celebrate(CHAMPION, { who: ADELE, what: 'Every K-05 on time in **week one**', image: '' }, 'k2');
    expect(posted).toMatchObject({ kind: 'posted', fresh: true, celebration: { people: [{ id: ADELE, name: 'Adele Vance' }] } });
    const [post] = f.outbox.enqueued;
    expect(post).toMatchObject({ op: 'send', to: { kind: 'channel', role: 'support' }, post: { kind: 'celebration' } });
    const card = JSON.stringify(post?.op === 'send' ? post.content : {});
    expect(card).toContain('<at>Adele Vance</at>');
    expect(card).toContain(`"mentioned":{"id":"${ADELE}","name":"Adele Vance"}`);
    // What the champion typed is shown as typed, never as formatting.
    expect(card).not.toContain('**week one**');
  });

  it('a win written only of invisible characters (zero-width spaces, no-break spaces) is refused like an empty one; nothing is posted', async () => {
    const f = await fixture();
    const res = await f.b.celebrations.celebrate(CHAMPION, { who: 'aad-adele', what: ' \u200b\u00a0\u2060\n\u200b ', image: '' }, 'k-blank');
    expect(res).toMatchObject({ kind: 'invalid', errors: { what: 'Say what they achieved.' } });
    expect(f.outbox.enqueued).toEqual([]);
    // An emoji alone is something said.
    expect(await f.b.celebrations.celebrate(CHAMPION, { who: 'aad-adele', what: '👏', image: '' }, 'k-emoji')).toMatchObject({ kind: 'posted' });
  });

  it('a forged "who" naming ids nobody can vouch for is refused, naming them; nothing is posted', async () => {
    const f = await fixture({ supportTeam: [{ id: ADELE, name: 'Adele Vance' }] });
    const stranger = 'a0b1c2d3-0000-4000-8000-00000000dead';
    // Any well-formed id was taken as "a colleague" and mentioned.
    expect(await f.b.celebrations.celebrate(CHAMPION, { who: stranger, what: 'Great triage', image: '' }, 'k-stranger')).toMatchObject({
      kind: 'invalid',
      errors: { who: expect.stringContaining(`"${stranger}": not someone Rollout Desk knows`) },
    });
    const res = await f.b.celebrations.celebrate(CHAMPION, { who: `aad-adele,${stranger},29:mallory`, what: 'Great triage', image: '' }, 'k-forged');
    if (res.kind !== 'invalid') throw new Error(`not refused: ${res.kind}`);
    expect(res.errors.who).toBe(`"${stranger}", "29:mallory": not someone Rollout Desk knows. Pick people from the list (colleagues in the support channel's team or the rollout file).`);
    // The form comes back with the people who could be vouched for still picked.
    expect(res.values.who).toBe('aad-adele');
    expect(f.outbox.enqueued).toEqual([]);
    expect(await f.b.celebrations.celebrate(CHAMPION, { who: `aad-adele,${ADELE}`, what: 'Great triage', image: '' }, 'k-forged')).toMatchObject({
      kind: 'posted',
      celebration: { people: [{ id: 'aad-adele', name: 'Adele Vance' }, { id: ADELE, name: 'Adele Vance' }] },
    });
  });

  it('"Post" pressed again on the same form posts once; pressed after an edit, it posts the edited win', async () => {
    const f = await fixture();
    const form = { who: 'aad-adele', what: 'Great triage', image: '' };
    expect(await f.b.celebrations.celebrate(CHAMPION, form, 'card-1')).toMatchObject({ kind: 'posted', fresh: true });
    // A second press (or Teams' retry) of the same content: nothing more is posted.
    expect(await f.b.celebrations.celebrate(CHAMPION, { ...form, what: ' Great triage ' }, 'card-1')).toMatchObject({ kind: 'posted', fresh: false });
    const edited = await f.b.celebrations.celebrate(CHAMPION, { ...form, what: 'Great triage all week' }, 'card-1');
    expect(edited).toMatchObject({ kind: 'posted', fresh: true, celebration: { what: 'Great triage all week' } });
    // What reaches the channel (the outbound path sends each key once): the first win, then the edited one.
    await f.outbox.deliver();
    expect(f.outbox.delivered).toHaveLength(2);
    const last = f.outbox.enqueued.find((m) => m.op === 'send' && m.key === f.outbox.delivered[1]);
    expect(JSON.stringify(last)).toContain('Great triage all week');
  });

  it('a huge paste is refused with the form shown again, small enough for Teams to show it', async () => {
    const f = await fixture();
    const res = await f.b.celebrations.celebrate(
      CHAMPION,
      { who: Array(600).fill(ADELE).join(','), what: 'Well done! '.repeat(1800), image: `https://x.example/${'p'.repeat(3980)}` },
      'k-huge',
    );
    if (res.kind !== 'invalid') throw new Error(`not refused: ${res.kind}`);
    expect(res.errors.what).toBe('That is 19799 characters; at most 500.');
    const people = Array.from({ length: 100 }, (_, i) => ({ id: `aad-person-${i}`, name: `Person number ${i}` }));
    expect(utf16Bytes(celebrateForm(res.values, res.errors, people))).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    expect(f.outbox.enqueued).toEqual([]);
  });

  it('a paste too long shown again on the form ends on a whole character, never half an emoji', async () => {
    const f = await fixture();
    // Each 🎉 is two UTF-16 units: the one at the cut used to be split, and came back as U+FFFD.
    const what = `x${'🎉'.repeat(1500)}`;
    const image = `https://x.example/${'🎉'.repeat(600)}`;
    const res = await f.b.celebrations.celebrate(CHAMPION, { who: ADELE, what, image }, 'k-emoji');
    if (res.kind !== 'invalid') throw new Error(`not refused: ${res.kind}`);
    for (const [shown, typed] of [[res.values.what, what], [res.values.image, image]] as const) {
      expect(shown.length).toBeGreaterThan(900);
      expect(typed.startsWith(shown)).toBe(true);
      expect(shown).not.toMatch(/[\uD800-\uDBFF]$/);
      expect(Array.from(shown).at(-1)).toBe('🎉');
    }
  });

  it('on a rollout file of people with the longest names Teams gives, the form shown again after a refused paste is still one card Teams shows', async () => {
    // The fallback list (people the app knows) was the first 100 whatever their names: at 120 characters each it
    // took nearly all of Teams' 40 KB, and the form shown again with what was typed went over it.
    const known = Array.from({ length: 3000 }, (_, i) => ({ id: `a0b1c2d3-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `Member ${i} ${'x'.repeat(120)}`.slice(0, 120) }));
    const f = await fixture({ knownPeople: known });
    const people = await f.b.celebrations.formPeople(CHAMPION);
    if (!Array.isArray(people)) throw new Error('refused');
    expect(people.length).toBeGreaterThan(20);
    const res = await f.b.celebrations.celebrate(CHAMPION, { who: ADELE, what: '"Great" '.repeat(300), image: `https://x.example/${'p'.repeat(990)}` }, 'k-long-names');
    if (res.kind !== 'invalid') throw new Error(`not refused: ${res.kind}`);
    expect(utf16Bytes(celebrateForm(res.values, res.errors, people))).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
  });

  it('names pasted one per line in "who" (one long "id") come back in a form Teams can still show', async () => {
    const f = await fixture();
    const names = Array.from({ length: 20_000 }, (_, i) => `Colleague number ${i} from the field office`).join('\n');
    const res = await f.b.celebrations.celebrate(CHAMPION, { who: names, what: 'Well done!', image: '' }, 'k-lines');
    if (res.kind !== 'invalid') throw new Error(`not refused: ${res.kind}`);
    expect(res.errors.who).toMatch(/^"Colleague number 0 from the field office Colleague number 1…": not someone Rollout Desk knows/);
    const people = Array.from({ length: 100 }, (_, i) => ({ id: `aad-person-${i}`, name: `Person number ${i}` }));
    expect(utf16Bytes(celebrateForm(res.values, res.errors, people))).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
  });

  it('thousands of different names pasted in "who" are refused with work in proportion to the paste, not to its square', async () => {
    const f = await fixture();
    const who = Array.from({ length: 5_000 }, (_, i) => `person-${i}`).join(',');
    // Counted, not recorded (a spy keeping 25 million calls runs out of memory); past the bound it stops the work.
    const original = String.prototype.toLowerCase;
    let calls = 0;
    String.prototype.toLowerCase = function (this: string) {
      if (++calls > 50_000) throw new Error('lower-cased more than 50,000 times for a 5,000-name paste');
      return original.call(this);
    };
    try {
      const res = await f.b.celebrations.celebrate(CHAMPION, { who, what: 'Well done', image: '' }, 'k-many');
      expect(res).toMatchObject({ kind: 'invalid', errors: { who: 'Pick at most 10 people.' } });
    } finally {
      String.prototype.toLowerCase = original;
    }
    expect(f.outbox.enqueued).toEqual([]);
  });

  it('one person named twice (their id in two letter cases) is mentioned once', async () => {
    const megan = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
    const f = await fixture({ supportTeam: [{ id: megan, name: 'Megan Bowen' }] });
    const twice = `${megan},${megan.toUpperCase()}, ${megan}`;
    const posted = await f.b.celebrations.celebrate(CHAMPION, { who: twice, what: 'Every K-05 on time', image: '' }, 'k3');
    expect(posted).toMatchObject({ kind: 'posted', celebration: { people: [{ id: megan }] } });
    if (posted.kind === 'posted') expect(posted.celebration.people).toHaveLength(1);
  });

  it('kudos: once per person, the count redrawn in place with a newer version each time', async () => {
    const f = await fixture();
    const posted = await f.b.celebrations.celebrate(CHAMPION, { who: 'aad-adele', what: 'Great triage', image: '' }, 'k');
    if (posted.kind !== 'posted') throw new Error('not posted');
    const id = posted.celebration.id;
    const adele = { person: { id: 'aad-adele', name: 'Adele Vance' }, role: 'staff' as const };
    const first = await f.b.celebrations.kudos(adele, id);
    const twice = await f.b.celebrations.kudos(adele, id);
    const lead = await f.b.celebrations.kudos(LEAD, id);
    expect(JSON.stringify(first)).toContain('👏 1 kudos');
    expect(JSON.stringify(twice)).toContain('You already sent kudos for this one.');
    expect(JSON.stringify(twice)).toContain('👏 1 kudos');
    expect(JSON.stringify(lead)).toContain('👏 2 kudos');
    const updates = f.outbox.enqueued.filter((m) => m.op === 'update');
    expect(updates.map((u) => u.op === 'update' && u.version)).toEqual([1, 2]);
    expect(await f.b.celebrations.kudos(adele, 'c-forged')).toMatchObject({ kind: 'message' });
  });

  it('kudos from many people at once (each clicking twice): nobody gets an error, each counts once, the post ends with the full count', async () => {
    const f = await fixture();
    const posted = await f.b.celebrations.celebrate(CHAMPION, { who: 'aad-adele', what: 'Great triage', image: '' }, 'k');
    if (posted.kind !== 'posted') throw new Error('not posted');
    const people = Array.from({ length: 40 }, (_, i) => ({ person: { id: `aad-p${i}`, name: `P${i}` }, role: 'staff' as const }));
    const clicks = await Promise.allSettled([...people, ...people].map((p) => f.b.celebrations.kudos(p, posted.celebration.id)));
    expect(clicks.filter((c) => c.status === 'rejected')).toEqual([]);
    expect(clicks.filter((c) => c.status === 'fulfilled' && c.value.kind === 'card' && c.value.fresh)).toHaveLength(40);
    const versions = f.outbox.enqueued.flatMap((m) => (m.op === 'update' ? [m.version] : []));
    expect(Math.max(...versions)).toBe(40);
    expect(JSON.stringify(await f.b.celebrations.kudos(LEAD, posted.celebration.id))).toContain('👏 41 kudos');
  });

  it('says so when the support channel is not set up, and posts nothing', async () => {
    const f = await fixture({ supportChannel: false });
    const res = await f.b.celebrations.celebrate(CHAMPION, { who: 'aad-adele', what: 'x', image: '' }, 'k');
    expect(res).toMatchObject({ kind: 'message', text: expect.stringContaining('setup support') });
    expect(f.outbox.enqueued).toEqual([]);
  });
});

describe('automatic wins', () => {
  it('rules: the highest milestone reached, the no-P1 clock, a cohort all acknowledged, champions past the threshold', () => {
    expect(milestonesToMark(260, [25, 100, 250, 500], new Set([25]))).toEqual({ celebrate: 250, quietly: [100] });
    expect(milestonesToMark(24, [25], new Set())).toEqual({ quietly: [] });
    const t0 = new Date('2027-01-04T00:00:00Z');
    expect(noP1Week('', 0, false, t0)).toEqual({ clearSince: '', win: false });
    expect(noP1Week('', 0, true, t0)).toEqual({ clearSince: t0.toISOString(), win: false });
    expect(noP1Week(t0.toISOString(), 0, true, new Date('2027-01-11T00:00:00Z')).win).toBe(true);
    expect(noP1Week(t0.toISOString(), 1, true, new Date('2027-01-11T00:00:00Z'))).toEqual({ clearSince: '', win: false });
    expect(allAcknowledged(['a', 'B'], new Set(['a', 'b']))).toBe(true);
    expect(allAcknowledged([], new Set())).toBe(false);
    const counts = new Map([
      ['champ', { name: 'Grace', count: 10 }],
      ['staff', { name: 'Sam', count: 12 }],
    ]);
    expect(championsPast(counts, ['CHAMP'], 10)).toEqual([{ id: 'champ', name: 'Grace', count: 10 }]);
  });

  it('each win is posted once, however often (and on however many instances) the check runs', async () => {
    const rollout: Rollout = {
      cohorts: [{ id: 'wave-b', name: 'Wave B', goLive: '2027-02-01', zone: 'Africa/Lusaka' }],
      groups: [],
      members: [],
      problems: [],
    };
    const facts = {
      resolvedCount: async () => 120,
      openP1: async () => 0,
      anyIssues: async () => true,
      // Chris resolved 11 in January, none yet in February.
      resolvedBy: async (since: Date) =>
        new Map(since.toISOString() < '2027-01-15' ? [[CHAMPION.person.id, { name: 'Chris Champion', count: 11 }]] : []),
    };
    const f = await fixture({ facts, members: { 'cohort:wave-b': ['a', 'b'] }, chats: installed(['a', 'b']) });
    f.rollout.current = rollout;
    f.plan.current = parsePlan(
      `timeZone: Africa/Lusaka
celebrations: { resolvedMilestones: [25, 100, 250], noP1Week: true, cohortAcknowledged: true, championMonthly: 10 }
messages:
  - id: golive-week
    stage: launch
    launch: true
    title: Next Monday
    body: Get ready.
    audience: { cohort: all }
    when: golive-7d 09:00
`,
      rollout,
    );
    // The launch message goes to Wave B; both acknowledge.
    f.clock.set('2027-01-25T07:00:30Z');
    const [sendId] = await f.b.service.runDue();
    await finished(f, sendId!);
    for (const who of ['a', 'b']) await f.b.service.acknowledge({ person: { id: who, name: who }, role: 'staff' }, sendId!);

    const first = await f.b.wins.run();
    expect(first.sort()).toEqual(['champion|aad-champ|2027-01', 'cohort-ack|wave-b|golive-week', 'resolved-100'].sort());
    f.clock.advance(8 * 86_400_000);
    expect(await f.b.wins.run()).toEqual(['no-p1-week']);
    expect(await f.b.wins.run()).toEqual([]);
    const posts = f.outbox.enqueued.filter((m) => m.op === 'send' && m.key.startsWith('celebration|'));
    expect(posts).toHaveLength(4);
    expect(JSON.stringify(posts)).toContain('Wave B: everyone acknowledged the launch message');
  });

  it('a cohort name from the rollout file is shown as written in its win, never as formatting, a mention or a link', async () => {
    const name = '**Wave B** <at>Boss</at> [prize](https://evil.example)';
    const rollout: Rollout = { cohorts: [{ id: 'wave-b', name, goLive: '2027-02-01', zone: 'Africa/Lusaka' }], groups: [], members: [], problems: [] };
    const f = await fixture({ members: { 'cohort:wave-b': ['a'] }, chats: installed(['a']) });
    f.rollout.current = rollout;
    f.plan.current = parsePlan(
      `timeZone: Africa/Lusaka
celebrations: { cohortAcknowledged: true }
messages:
  - id: golive-week
    stage: launch
    launch: true
    title: Next Monday
    body: Get ready.
    audience: { cohort: all }
    when: golive-7d 09:00
`,
      rollout,
    );
    f.clock.set('2027-01-25T07:00:30Z');
    const [sendId] = await f.b.service.runDue();
    await finished(f, sendId!);
    await f.b.service.acknowledge({ person: { id: 'a', name: 'a' }, role: 'staff' }, sendId!);
    expect(await f.b.wins.run()).toEqual(['cohort-ack|wave-b|golive-week']);
    const post = f.outbox.enqueued.find((m) => m.op === 'send' && m.key.startsWith('celebration|'));
    const card = JSON.stringify(post?.op === 'send' ? post.content : {});
    expect(card).toContain('everyone acknowledged the launch message');
    expect(card).toContain('Wave B'); // the name is there, as text
    expect(card).not.toContain('<at>Boss</at>');
    expect(card).not.toContain('](https://evil.example)');
    expect(card).not.toContain('**Wave B**');
  });

  describe('a week with no P1', () => {
    const noP1Plan = () =>
      parsePlan('timeZone: UTC\ncelebrations: { noP1Week: true }\nmessages: []\n', { cohorts: [], groups: [] });
    const facts = { resolvedCount: async () => 0, openP1: async () => 0, anyIssues: async () => true, resolvedBy: async () => new Map() };

    it('due before "setup support" is kept, not spent on a channel nobody set up: it is posted once the channel is', async () => {
      const opts: { facts: typeof facts; supportChannel: boolean } = { facts, supportChannel: false };
      const f = await fixture(opts);
      f.plan.current = noP1Plan();
      expect(await f.b.wins.run()).toEqual([]); // the no-P1 clock starts
      f.clock.advance(8 * 86_400_000);
      expect(await f.b.wins.run()).toEqual([]);
      expect(f.outbox.enqueued).toEqual([]);
      opts.supportChannel = true;
      expect(await f.b.wins.run()).toEqual(['no-p1-week']);
      expect(await f.b.wins.run()).toEqual([]);
      expect(f.outbox.enqueued.filter((m) => m.op === 'send' && m.key.startsWith('celebration|'))).toHaveLength(1);
    });

    it('is not lost when the instance posting it dies part-way: the next check posts it, once', async () => {
      const f = await fixture({ facts });
      f.plan.current = noP1Plan();
      await f.b.wins.run();
      f.clock.advance(8 * 86_400_000);
      // The first check dies while posting (its run never ends).
      const postWin = f.b.celebrations.postWin.bind(f.b.celebrations);
      f.b.celebrations.postWin = () => new Promise<boolean>(() => {});
      void f.b.wins.run();
      await new Promise((r) => setTimeout(r, 200));
      f.b.celebrations.postWin = postWin;
      expect(await f.b.wins.run()).toEqual(['no-p1-week']);
      expect(await f.b.wins.run()).toEqual([]);
      expect(f.outbox.enqueued.filter((m) => m.op === 'send' && m.key.startsWith('celebration|'))).toHaveLength(1);
    });
  });
});
