import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { type Post, PostStore } from '../../src/conversations/posts.js';
import { ForgetLog, ForgetLogPersonalData } from '../../src/privacy/forget-log.js';
import { ForgetJobsPersonalData } from '../../src/privacy/jobs-personal-data.js';
import { FORGET_POST, ForgetJobs } from '../../src/privacy/jobs.js';
import type { PersonalData, Subject } from '../../src/privacy/personal-data.js';
import { Pseudonyms } from '../../src/privacy/pseudonym.js';
import { PersonalDataRegistry } from '../../src/privacy/registry.js';
import { PrivacyService, type PrivacyServiceDeps } from '../../src/privacy/service.js';
import { collect, type Tables } from '../../src/storage/tables.js';
import { CapturedOutbox } from '../support/outbox.js';
import { testTables } from '../support/storage.js';
import { until } from '../support/until.js';

/*
 * A forget job whose instance dies part-way (its run never comes back: here, a part that never answers, as
 * in a process frozen or killed mid-call) is resumed by another instance's upkeep once its claim lapses: the
 * parts done are not run again, the rest are, the log gets one record, and the lead is told the end once.
 */

const HANA: Subject = { ids: ['aad-hana', '29:hana'], name: 'Hana Ito' };
const LEAD = 'aad-lead';
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** A part that counts its calls for Hana; `hangFirst` makes its first call never answer (the dying instance's). */
function part(feature: string, opts: { hangFirst?: boolean } = {}) {
  const calls = { n: 0 };
  let never: Promise<never> | undefined;
  const p: PersonalData = {
    feature,
    describe: async () => ({ holdings: [] }),
    export: async () => ({}),
    forget: async (s) => {
      if (!s.ids.includes('aad-hana')) return { holdings: [] };
      calls.n++;
      if (opts.hangFirst && calls.n === 1) await (never ??= new Promise<never>(() => {}));
      return { holdings: [{ kind: `${feature}.rows`, label: `rows in ${feature}`, count: 2, action: 'delete' }] };
    },
  };
  return { p, calls };
}

/**
 * Two instances on one set of tables. `middle` replaces the slow part; `beforeConclude` runs between the job's
 * last read of its row and its log record.
 */
async function setUp(opts: { middle?: PersonalData; beforeConclude?: () => Promise<void> } = {}) {
  const tables: Tables = testTables();
  const clock = new ManualClock('2026-11-30T08:00:00Z');
  const first = part('first');
  const slow = part('slow', { hangFirst: true });
  const last = part('last');
  const registry = new PersonalDataRegistry().register(first.p).register(opts.middle ?? slow.p).register(last.p);
  const pseudonyms = await Pseudonyms.open(tables, () => clock.now().getTime());
  const service = new PrivacyService({
    registry,
    pseudonyms,
    log: await ForgetLog.open(tables),
    roleOf: async () => 'staff',
    clock,
  } as unknown as PrivacyServiceDeps);
  const outbox = new CapturedOutbox();
  const instance = (holderId: string) =>
    ForgetJobs.open(tables, {
      registry,
      pseudonyms,
      conclude: async (subject, by, done, once) => {
        await opts.beforeConclude?.();
        return service.conclude(subject, by, done, once);
      },
      outbox,
      clock,
      holderId,
      log: quiet,
      claimMs: 60_000,
      progressEveryMs: 0,
    });
  const logRows = async () => collect((await tables.table('PrivacyLog')).listEntities());
  return { tables, clock, first, slow, last, outbox, a: await instance('instance-a'), b: await instance('instance-b'), logRows };
}

describe('forget jobs, when the instance running one dies', () => {
  it('resumes it elsewhere from the part it was in, and tells the lead 1:1 when their click never got an answer', async () => {
    const { clock, first, slow, last, outbox, a, b, logRows } = await setUp();
    const { job } = await a.begin(HANA, { by: LEAD, notify: LEAD });
    // The click's turn hands the job to the background at once; then instance A freezes inside the slow part.
    void a.runWithin(job.key, 0);
    await until('instance A is inside the slow part', () => slow.calls.n === 1);

    // While A's claim holds, nobody else touches the job.
    expect(await b.upkeep()).toBe(0);
    clock.advance(61_000);
    expect(await b.upkeep()).toBe(1);
    await b.idle();

    expect(first.calls.n).toBe(1); // done before the death: not run again
    expect(slow.calls.n).toBe(2);
    expect(last.calls.n).toBe(1);
    expect(await logRows()).toHaveLength(1);
    // The turn that waited died with A: the end goes to the lead 1:1, the done card as an inline forget shows it.
    const ends = outbox.messages.filter((m) => m.key.endsWith('|end'));
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ op: 'send', to: { kind: 'user', userKey: LEAD } });
    expect(JSON.stringify(ends[0])).toContain('Hana Ito is forgotten');
    // Nothing of hers is left in the job's row.
    expect(await b.get(job.key)).toBeUndefined();
    expect(await b.upkeep()).toBe(0);
  });

  it("a job handed to the lead's card is resumed onto the same card, ending as the done card", async () => {
    const { clock, slow, outbox, a, b, logRows } = await setUp();
    const { job } = await a.begin(HANA, { by: LEAD, notify: LEAD });
    void a.runWithin(job.key, 0);
    expect(await a.handOver(job.key)).toMatchObject({ kind: 'running' });
    await until('instance A is inside the slow part', () => slow.calls.n === 1);

    clock.advance(61_000);
    expect(await b.upkeep()).toBe(1);
    await b.idle();

    const updates = outbox.messages.filter((m) => m.op === 'update' && m.post.kind === FORGET_POST && m.post.id === job.run);
    expect(updates.length).toBeGreaterThan(1);
    expect(JSON.stringify(updates.at(-1))).toContain('Hana Ito is forgotten');
    expect(outbox.users()).toEqual([]); // no 1:1 message: the card says it
    expect(await logRows()).toHaveLength(1);
  });

  it('running it twice is harmless: a second confirm while it runs starts nothing, a later one finds nothing left', async () => {
    const { first, slow, a, logRows } = await setUp();
    slow.calls.n = 1; // no hang this time
    const started = await a.begin(HANA, { by: LEAD, notify: LEAD });
    const again = await a.begin(HANA, { by: LEAD, notify: LEAD });
    expect(again).toMatchObject({ fresh: false, job: { run: started.job.run } });
    const outcome = await a.runWithin(started.job.key, 60_000);
    expect(outcome).toMatchObject({ kind: 'done', name: 'Hana Ito' });
    await a.told(started.job.key, started.job.run);
    expect(first.calls.n).toBe(1);

    const later = await a.begin(HANA, { by: LEAD, notify: LEAD });
    expect(later.fresh).toBe(true);
    expect(await a.runWithin(later.job.key, 60_000)).toMatchObject({ kind: 'done' });
    expect(await logRows()).toHaveLength(2);
  });

  it('a forget that finishes just as the turn stops waiting is answered by the turn, and told nowhere else', async () => {
    const { slow, outbox, a } = await setUp();
    slow.calls.n = 1; // no hang
    const { job } = await a.begin(HANA, { by: LEAD, notify: LEAD });
    expect(await a.runWithin(job.key, 0)).toBe('running');
    await a.idle(); // it finished before the turn handed it over
    const handed = await a.handOver(job.key);
    expect(handed).toMatchObject({ kind: 'finished', outcome: { kind: 'done', name: 'Hana Ito' } });
    await a.told(job.key, job.run);
    expect(outbox.messages).toEqual([]);
    expect(await a.get(job.key)).toBeUndefined();
  });
});

/** The lead's Forget card, where the click's turn saves it before handing the job over. */
const leadCard = (activityId: string): Post => ({
  conversation: {
    conversationId: 'a:chat-lead',
    conversationType: 'personal',
    serviceUrl: 'https://smba.example/emea/',
    channelId: 'msteams',
    bot: { id: '28:bot' },
    user: { id: '29:lead', aadObjectId: LEAD, name: 'Lee Lead' },
    updatedAt: '2026-11-30T08:00:00.000Z',
  },
  activityId,
});

describe("forget jobs, the post of the lead's Forget card", () => {
  it('is dropped when the job had already ended at the click (the turn answers with the result)', async () => {
    const { tables, slow, a } = await setUp();
    slow.calls.n = 1; // no hang
    const posts = await PostStore.open(tables);
    const { job } = await a.begin(HANA, { by: LEAD, notify: LEAD });
    expect(await a.runWithin(job.key, 0)).toBe('running');
    await a.idle(); // it finished before the turn handed it over
    await posts.save(FORGET_POST, job.run, leadCard('card-1')); // what the turn does before handing over
    expect(await a.handOver(job.key)).toMatchObject({ kind: 'finished' });
    await a.told(job.key, job.run);
    expect(await posts.get(FORGET_POST, job.run)).toBeUndefined();
    expect(await posts.inChatOf([LEAD])).toEqual([]);
  });

  it('is dropped when the end goes to the lead 1:1 (their click never got an answer)', async () => {
    const { tables, clock, slow, outbox, a, b } = await setUp();
    const posts = await PostStore.open(tables);
    const { job } = await a.begin(HANA, { by: LEAD, notify: LEAD });
    void a.runWithin(job.key, 0);
    await posts.save(FORGET_POST, job.run, leadCard('card-2')); // the turn saved the card, then its instance froze
    await until('instance A is inside the slow part', () => slow.calls.n === 1);
    clock.advance(61_000);
    expect(await b.upkeep()).toBe(1);
    await b.idle();
    expect(outbox.users()).toEqual([LEAD]);
    expect(await posts.get(FORGET_POST, job.run)).toBeUndefined();
    // Nor does a later upkeep (the only other place that drops these posts) leave anything to find.
    expect(await posts.inChatOf([LEAD])).toEqual([]);
  });

  it('is dropped when a job that finished for a turn which never answered is told 1:1 by the upkeep', async () => {
    const { tables, clock, slow, outbox, a, b } = await setUp();
    slow.calls.n = 1; // no hang
    const posts = await PostStore.open(tables);
    const { job } = await a.begin(HANA, { by: LEAD, notify: LEAD });
    expect(await a.runWithin(job.key, 0)).toBe('running');
    await a.idle(); // finished, for the waiting turn
    await posts.save(FORGET_POST, job.run, leadCard('card-3')); // ...whose instance stopped before it answered
    clock.advance(61_000);
    expect(await b.upkeep()).toBe(1);
    expect(outbox.users()).toEqual([LEAD]);
    expect(await posts.get(FORGET_POST, job.run)).toBeUndefined();
  });
});

describe("forget jobs, the lead's progress card sent 1:1 (a click that named no card)", () => {
  const startKey = (run: string) => `${FORGET_POST}|${run}|start`;

  for (const [when, sendLanded] of [
    ['still queued', false],
    ['already shown', true],
  ] as const) {
    it(`ends as the result, not "Forgetting…" beside a second message, when the turn's instance stopped with the card ${when}`, async () => {
      const { tables, clock, slow, outbox, a, b } = await setUp();
      const posts = await PostStore.open(tables);
      const { job } = await a.begin(HANA, { by: LEAD, notify: LEAD });
      void a.runWithin(job.key, 0);
      // The turn enqueues the progress card 1:1 (the outbox marks its post pending), then its instance freezes.
      await posts.markPending(FORGET_POST, job.run, startKey(job.run));
      if (sendLanded) await posts.recordSent(FORGET_POST, job.run, leadCard('progress-1to1'), 0, startKey(job.run));
      await until('instance A is inside the slow part', () => slow.calls.n === 1);
      clock.advance(61_000);
      expect(await b.upkeep()).toBe(1);
      await b.idle();

      const ends = outbox.messages.filter((m) => m.key.endsWith('|end'));
      expect(ends).toHaveLength(1);
      expect(ends[0]).toMatchObject({ op: 'update', post: { kind: FORGET_POST, id: job.run } });
      expect(JSON.stringify(ends[0])).toContain('Hana Ito is forgotten');
      expect(outbox.users()).toEqual([]);
    });
  }
});

describe('forget jobs, when the lead who asked is forgotten meanwhile', () => {
  /** A part whose first call never answers (the dying instance's) and whose second fails once `fail()` is called. */
  function stoppingPart() {
    const calls = { n: 0 };
    let fail: () => void = () => {};
    const failed = new Promise<never>((_, reject) => (fail = () => reject(new Error('service unavailable'))));
    failed.catch(() => {});
    const p: PersonalData = {
      feature: 'stopping',
      describe: async () => ({ holdings: [] }),
      export: async () => ({}),
      forget: async (s) => {
        if (!s.ids.includes('aad-hana')) return { holdings: [] };
        calls.n++;
        if (calls.n === 1) await new Promise<never>(() => {});
        return failed;
      },
    };
    return { p, calls, fail: () => fail() };
  }

  it('a job that stops part-way sends the forgotten lead nothing', async () => {
    const stopping = stoppingPart();
    const { tables, clock, outbox, a, b } = await setUp({ middle: stopping.p });
    const { job } = await a.begin(HANA, { by: LEAD, notify: LEAD });
    void a.runWithin(job.key, 0);
    await until('instance A is inside the part', () => stopping.calls.n === 1);
    // A froze: B resumes it, and the end would go 1:1.
    clock.advance(61_000);
    expect(await b.upkeep()).toBe(1);
    await until('instance B is inside the part', () => stopping.calls.n === 2);

    // The lead leaves and is forgotten while B is inside the part; then the part fails.
    await (await ForgetJobsPersonalData.open(tables)).forget({ ids: [LEAD] }, { id: 'former:1ead', name: 'Former member 1ead' });
    stopping.fail();
    await b.idle();

    expect(outbox.users()).toEqual([]);
    expect(JSON.stringify(outbox.messages)).not.toContain(LEAD);
  });

  it('the log names them by their pseudonym even when they are forgotten after the job last read its row', async () => {
    const { tables, slow, a, logRows } = await setUp({
      // The lead's forget (its jobs part, then its log part) runs between the job's last read and its record.
      beforeConclude: async () => {
        const lead = { ids: [LEAD] };
        const pseudonym = { id: 'former:1ead', name: 'Former member 1ead' };
        await (await ForgetJobsPersonalData.open(tables)).forget(lead, pseudonym);
        await (await ForgetLogPersonalData.open(tables)).forget(lead, pseudonym);
      },
    });
    slow.calls.n = 1; // no hang
    const { job } = await a.begin(HANA, { by: LEAD, notify: LEAD });
    expect(await a.runWithin(job.key, 60_000)).toMatchObject({ kind: 'done' });
    const rows = await logRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.by).toBe('former:1ead');
    expect(JSON.stringify(rows)).not.toContain(LEAD);
  });
});

describe('forget jobs, the row', () => {
  /** The job table on the test Azurite, its point reads counted. */
  async function countedTables(): Promise<{ tables: Tables; reads: { n: number } }> {
    const real = testTables();
    const reads = { n: 0 };
    const tables = {
      table: async (name: string) => {
        const t = await real.table(name);
        if (name !== 'PrivacyForgetJobs') return t;
        return new Proxy(t, {
          get(target, prop, receiver) {
            if (prop !== 'getEntity') return Reflect.get(target, prop, receiver) as unknown;
            return (...args: Parameters<typeof t.getEntity>) => {
              reads.n++;
              return target.getEntity(...args);
            };
          },
        });
      },
    } as unknown as Tables;
    return { tables, reads };
  }

  it('is made with one call: the click does not read back what it just wrote', async () => {
    const { tables, reads } = await countedTables();
    const clock = new ManualClock('2026-11-30T08:00:00Z');
    const pseudonyms = await Pseudonyms.open(testTables(), () => clock.now().getTime());
    const registry = new PersonalDataRegistry().register(part('only').p);
    const conclude = async (subject: Subject) => ({ kind: 'done' as const, name: subject.name ?? '', pseudonym: pseudonyms.of(subject), holdings: [], notes: [] });
    const jobs = await ForgetJobs.open(tables, { registry, pseudonyms, conclude, outbox: new CapturedOutbox(), clock, holderId: 'a', log: quiet });

    const { job, fresh } = await jobs.begin(HANA, { by: LEAD, notify: LEAD });
    expect(reads.n).toBe(0);
    expect(fresh).toBe(true);
    expect(job).toMatchObject({ subject: HANA, by: LEAD, notify: LEAD, teller: 'turn', next: 0, total: 1, status: 'running', holder: 'a' });
    // What it returned is the row as stored: its ETag guards the next change.
    expect(await jobs.get(job.key)).toEqual(job);
    expect(await jobs.runWithin(job.key, 60_000)).toMatchObject({ kind: 'done', name: 'Hana Ito' });
  });

  it('names the lead who asked once, as the one to tell', async () => {
    const { tables, a } = await setUp();
    const { job } = await a.begin({ ids: ['aad-zed'], name: 'Zed' }, { by: LEAD, notify: LEAD });
    const raw = await (await tables.table('PrivacyForgetJobs')).getEntity<Record<string, unknown>>('job', job.key);
    expect(JSON.stringify(raw).split(LEAD).length - 1).toBe(1);
    // Read back, the log still gets who asked.
    expect((await a.get(job.key))?.by).toBe(LEAD);
  });
});
