import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { PostStore } from '../../src/conversations/posts.js';
import { MY_DATA_TABLE, MyDataJobs, type MyDataJobsDeps } from '../../src/privacy/my-data-jobs.js';
import type { Subject } from '../../src/privacy/personal-data.js';
import { CapturedOutbox } from '../support/outbox.js';
import { testTables } from '../support/storage.js';
import { until } from '../support/until.js';

/*
 * A `my data` whose instance stops after the turn answered (a restart, a deploy) is not lost: its row stays
 * claimed until the claim lapses, then another instance's upkeep makes the file and sends the link, once. An
 * instance shut down in order lets its claim go, so another takes the job up at its next upkeep.
 */

const KAI: Subject = { ids: ['aad-kai', '29:kai'], name: 'Kai Busy' };
const quiet = { info: () => {}, warn: () => {} };

/** The claim renewal's timer, fired by the test (count work, not time). */
class ManualTimer {
  private readonly fns = new Set<() => unknown>();
  readonly every = (_ms: number, fn: () => unknown) => {
    this.fns.add(fn);
    return () => void this.fns.delete(fn);
  };
  async fire(): Promise<void> {
    await Promise.all([...this.fns].map((fn) => fn()));
  }
}

/** Who was sent the link (the job's end; the progress card goes at `begin`). */
const linkedTo = (outbox: CapturedOutbox) => outbox.messages.flatMap((m) => (m.op === 'send' && m.key.startsWith('my-data|') && m.to.kind === 'user' ? [m.to.userKey] : []));

async function instance(
  tables: ReturnType<typeof testTables>,
  holderId: string,
  clock: ManualClock,
  outbox: CapturedOutbox,
  made: string[],
  opts: { gate?: Promise<void>; timer?: ManualTimer; make?: MyDataJobsDeps['make'] } = {},
) {
  return MyDataJobs.open(tables, {
    parts: () => 3,
    posts: await PostStore.open(tables),
    make:
      opts.make ??
      (async (subject, userKey) => {
        made.push(`${userKey}:${subject.name}`);
        const n = made.length;
        await opts.gate;
        return { token: `tok-${n}`, expiresAt: '2026-12-01T10:00:00.000Z' };
      }),
    message: (token) => `link /exports/${token}`,
    outbox,
    clock,
    holderId,
    log: quiet,
    claimMs: 60_000,
    ...(opts.timer ? { every: opts.timer.every } : {}),
  });
}

describe('my data jobs', () => {
  it('a job whose instance stopped is resumed by the upkeep once its claim lapses, and its link sent once', async () => {
    const tables = testTables();
    const clock = new ManualClock();
    clock.set('2026-12-01T08:00:00Z');
    const outbox = new CapturedOutbox();
    const made: string[] = [];
    const dying = await instance(tables, 'a', clock, outbox, made);
    const other = await instance(tables, 'b', clock, outbox, made);

    // The turn on instance a wrote the job and answered; a stopped before it ran it.
    expect((await dying.begin(KAI, '29:kai')).fresh).toBe(true);
    expect((await other.begin(KAI, '29:kai')).fresh).toBe(false);
    expect(await other.upkeep()).toBe(0); // still a's: not run twice
    await other.idle();
    expect(made).toEqual([]);

    clock.advance(61_000);
    expect(await other.upkeep()).toBe(1);
    await other.idle();
    expect(made).toEqual(['29:kai:Kai Busy']);
    expect(linkedTo(outbox)).toEqual(['29:kai']);
    expect(await other.upkeep()).toBe(0);
    // Done: the person may ask again.
    expect((await other.begin(KAI, '29:kai')).fresh).toBe(true);
  });

  it('two instances racing for one job: the one whose claim lapsed cannot renew it back, and only the holder sends the link', async () => {
    const tables = testTables();
    const clock = new ManualClock();
    clock.set('2026-12-01T08:00:00Z');
    const made: string[] = [];
    let openA: () => void = () => {};
    let openB: () => void = () => {};
    const timerA = new ManualTimer();
    const timerB = new ManualTimer();
    const outboxA = new CapturedOutbox();
    const outboxB = new CapturedOutbox();
    const a = await instance(tables, 'a', clock, outboxA, made, { gate: new Promise((r) => (openA = r)), timer: timerA });
    const b = await instance(tables, 'b', clock, outboxB, made, { gate: new Promise((r) => (openB = r)), timer: timerB });
    const holder = async () => String((await (await tables.table(MY_DATA_TABLE)).getEntity('job', '29:kai')).holder);

    // a takes the job and is slow making the file; its renewals did not land (storage was busy), so its claim lapses.
    const { key } = await a.begin(KAI, '29:kai');
    a.start(key);
    await until('a is making the file', () => made.length === 1);
    clock.advance(61_000);
    // b's upkeep takes the lapsed job over and starts making the file too.
    expect(await b.upkeep()).toBe(1);
    await until('b is making the file', () => made.length === 2);
    expect(await holder()).toBe('b');

    // a's next renewal finds the job taken: it must not write itself back as the holder.
    await timerA.fire();
    expect(await holder()).toBe('b');
    await timerB.fire();
    expect(await holder()).toBe('b');

    // a finishes first: it no longer holds the job, so it sends nothing; b, the holder, sends the one link.
    openA();
    await a.idle();
    expect(linkedTo(outboxA)).toEqual([]);
    openB();
    await b.idle();
    expect(linkedTo(outboxB)).toEqual(['29:kai']);
    expect(await b.upkeep()).toBe(0);
  });

  it('an instance shutting down while it makes the file lets the job go: another instance makes it at its next upkeep, not once the claim runs out', async () => {
    const tables = testTables();
    const clock = new ManualClock();
    clock.set('2026-12-01T08:00:00Z');
    const made: string[] = [];
    let openA: () => void = () => {};
    const outboxA = new CapturedOutbox();
    const outboxB = new CapturedOutbox();
    const a = await instance(tables, 'a', clock, outboxA, made, { gate: new Promise((r) => (openA = r)) });
    const b = await instance(tables, 'b', clock, outboxB, made);

    // Instance a is shut down while it reads a long history: its stop does not wait for the reads to end.
    const { key } = await a.begin(KAI, '29:kai');
    a.start(key);
    await until('a is making the file', () => made.length === 1);
    await a.stop();
    // No time has passed: the claim a took would hold for a minute more, were it not let go.
    expect(await b.upkeep()).toBe(1);
    await b.idle();
    expect(made).toEqual(['29:kai:Kai Busy', '29:kai:Kai Busy']);
    expect(linkedTo(outboxB)).toEqual(['29:kai']);
    // a's reads end after all, as the process exits: nothing more is sent from a.
    openA();
    await new Promise((r) => setTimeout(r, 100));
    expect(linkedTo(outboxA)).toEqual([]);
  });

  it('a job started on an instance shutting down is let go at once, its file not begun there', async () => {
    const tables = testTables();
    const clock = new ManualClock();
    clock.set('2026-12-01T08:00:00Z');
    const made: string[] = [];
    const outbox = new CapturedOutbox();
    const a = await instance(tables, 'a', clock, outbox, made);
    const b = await instance(tables, 'b', clock, outbox, made);

    // A turn finishing during a's shutdown wrote the job (claimed by a) and started it.
    const { key } = await a.begin(KAI, '29:kai');
    await a.stop();
    a.start(key);
    await a.idle();
    expect(made).toEqual([]);
    expect(await b.upkeep()).toBe(1);
    await b.idle();
    expect(linkedTo(outbox)).toEqual(['29:kai']);
  });
});

describe('a my data run given up', () => {
  /**
   * A long history (ten rows) that `make` reads as a feature's store does, a page (here one row) at a time, waiting
   * after the first page until the test lets it go on; each page read is counted.
   */
  async function longHistory(tables: ReturnType<typeof testTables>) {
    const history = await tables.table('LongHistory');
    for (let i = 0; i < 10; i++) await history.createEntity({ partitionKey: 'kai', rowKey: String(i).padStart(2, '0') });
    let goOn: () => void = () => {};
    const gate = new Promise<void>((r) => (goOn = r));
    const pages: number[] = [];
    let ended: () => void = () => {};
    const done = new Promise<void>((r) => (ended = r));
    const make: MyDataJobsDeps['make'] = async () => {
      try {
        for await (const page of history.listEntities({ queryOptions: { filter: "PartitionKey eq 'kai'" } }).byPage({ maxPageSize: 1 })) {
          pages.push(page.length);
          await gate;
        }
        return { token: 'tok', expiresAt: '2026-12-01T10:00:00.000Z' };
      } finally {
        ended();
      }
    };
    return { make, pages, goOn, done };
  }

  it('on a shutdown, reads no more pages of the person\'s data once the run has let the job go', async () => {
    const tables = testTables();
    const clock = new ManualClock();
    clock.set('2026-12-01T08:00:00Z');
    const outbox = new CapturedOutbox();
    const h = await longHistory(tables);
    const a = await instance(tables, 'a', clock, outbox, [], { make: h.make });
    const { key } = await a.begin(KAI, '29:kai');
    a.start(key);
    await until('the first page is read', () => h.pages.length === 1);
    await a.stop();
    h.goOn();
    await h.done;
    expect(h.pages).toEqual([1]);
    expect(linkedTo(outbox)).toEqual([]);
  });

  it('forgotten while its file is made (the job\'s row deleted), reads no more pages once a renewal finds the job gone', async () => {
    const tables = testTables();
    const clock = new ManualClock();
    clock.set('2026-12-01T08:00:00Z');
    const outbox = new CapturedOutbox();
    const timer = new ManualTimer();
    const h = await longHistory(tables);
    const a = await instance(tables, 'a', clock, outbox, [], { make: h.make, timer });
    const { key } = await a.begin(KAI, '29:kai');
    a.start(key);
    await until('the first page is read', () => h.pages.length === 1);
    await a.remove(key);
    await timer.fire();
    h.goOn();
    await h.done;
    await a.idle();
    expect(h.pages).toEqual([1]);
    expect(linkedTo(outbox)).toEqual([]);
    // Not told "something went wrong, ask again": the person asked to be forgotten.
    expect(outbox.messages.filter((m) => m.key.includes('|failed'))).toEqual([]);
  });
});
