import { TableClient } from '@azure/data-tables';
import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { CuratedStore } from '../../src/faq/curated.js';
import { FaqPersonalData } from '../../src/faq/privacy.js';
import { QuestionPrivacy, QuestionStore, UNDELETE_DAYS } from '../../src/faq/questions.js';
import { collect, type Tables } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';
import { reads } from '../support/table-reads.js';

const DAY = 86_400_000;
const amina = { id: '29:amina', aadObjectId: 'aad-amina', name: 'Amina' };
const ben = { id: '29:ben', aadObjectId: 'aad-ben', name: 'Ben' };

/** Questions asked over three weeks, a few per day on some days, by two people (so index rows exist too). */
async function history() {
  const clock = new ManualClock('2026-11-01T09:00:00Z');
  const store = await QuestionStore.open(testTables(), clock);
  const asked: { question: string; at: string; answered: boolean }[] = [];
  for (const [day, hour, answered] of [
    [0, 9, false],
    [5, 23, true],
    [12, 8, false],
    [12, 16, true],
    [19, 1, false],
    [19, 22, false],
    [20, 10, true],
  ] as const) {
    clock.set(new Date(Date.parse('2026-11-01T00:00:00Z') + day * DAY + hour * 3_600_000));
    const question = `question on day ${day} at ${hour}h`;
    await store.record(question, day % 2 ? ben : amina, { answered });
    asked.push({ question, at: clock.now().toISOString(), answered });
  }
  return { clock, store, asked };
}

describe('QuestionStore.recent', () => {
  it('returns the questions of the last N × 24 hours across day partitions, newest first, and no index rows', async () => {
    const { clock, store, asked } = await history();
    clock.set(new Date('2026-11-21T12:00:00Z'));
    const newestFirst = [...asked].reverse();

    // 8 days back from 21 Nov 12:00 is 13 Nov 12:00: the 13 Nov 08:00 question is outside, 16:00 inside.
    const week = await store.recent(8);
    expect(week.map((q) => q.question)).toEqual(
      newestFirst.filter((q) => q.at >= '2026-11-13T12:00:00.000Z').map((q) => q.question),
    );
    expect(week.map((q) => q.question)).toContain('question on day 12 at 16h');
    expect(week.map((q) => q.question)).not.toContain('question on day 12 at 8h');
    expect(week.every((q) => q.asker.name === 'Amina' || q.asker.name === 'Ben')).toBe(true);

    expect((await store.recent(30)).map((q) => q.question)).toEqual(newestFirst.map((q) => q.question));
    expect((await store.recent(1)).map((q) => q.question)).toEqual(['question on day 20 at 10h', 'question on day 19 at 22h']);
  });

  it('keeps only unanswered questions when asked to, and reads a vote as it stands', async () => {
    const { clock, store, asked } = await history();
    clock.set(new Date('2026-11-21T12:00:00Z'));
    const open = await store.recent(30, { answered: false });
    expect(open.map((q) => q.question)).toEqual(
      [...asked].reverse().filter((q) => !q.answered).map((q) => q.question),
    );
    await store.vote(open[0]!.id, ben, false);
    const again = await store.recent(30, { answered: false });
    expect(again[0]).toMatchObject({ id: open[0]!.id, notHelpful: 1 });
  });
});

describe('QuestionStore.vote', () => {
  it('reads only the question for the first vote on it, and still counts each person once however often they press', async () => {
    const clock = new ManualClock('2026-11-01T09:00:00Z');
    const store = await QuestionStore.open(testTables(), clock);
    const q = await store.record('how do I sync the tablet', amina, { answered: true });
    // No vote on it yet: nobody's vote rows to read.
    const first = await reads(() => store.vote(q.id, amina, false));
    expect(first.calls).toBe(1);
    expect(first.value).toMatchObject({ helpful: 0, notHelpful: 1 });
    // The same press again (Teams' retry past the retry guard, a second card) and the other button: one vote each time.
    expect(await store.vote(q.id, amina, false)).toMatchObject({ helpful: 0, notHelpful: 1 });
    expect(await store.vote(q.id, amina, true)).toMatchObject({ helpful: 1, notHelpful: 0 });
    // Another person's first vote on a question already voted on reads their vote rows: one vote more, not a change.
    expect(await store.vote(q.id, ben, true)).toMatchObject({ helpful: 2, notHelpful: 0 });
    expect(await store.vote(q.id, ben, true)).toMatchObject({ helpful: 2, notHelpful: 0 });
    // Two first votes by one person at once (a double click) on a fresh question: counted once.
    const fresh = await store.record('where is the weekly report', ben, { answered: true });
    await Promise.all([1, 2, 3].map(() => store.vote(fresh.id, amina, true)));
    expect(await store.get(fresh.id)).toMatchObject({ helpful: 1, notHelpful: 0 });
  });
});

describe("a vote's rows", () => {
  const carla = { id: '29:carla', aadObjectId: 'aad-carla', name: 'Carla' };
  const dayRows = async (tables: Tables, day: string) =>
    (await collect((await tables.table('FaqQuestions')).listEntities({ queryOptions: { filter: `PartitionKey eq '${day}'` } }))).map((r) => String(r.rowKey));
  /** A store, its privacy side, and a question Amina asked. */
  const asked = async () => {
    const clock = new ManualClock('2026-11-01T09:00:00Z');
    const tables = testTables();
    const store = await QuestionStore.open(tables, clock);
    const privacy = await QuestionPrivacy.open(tables, clock);
    return { clock, tables, store, privacy, q: await store.record('how do I sync the tablet', amina, { answered: true }) };
  };
  const feedbackRows = async (tables: Tables, id: string) =>
    (await collect((await tables.table('FaqFeedback')).listEntities({ queryOptions: { filter: `PartitionKey eq '${id}'` } }))).length;

  it('a first vote is one read and one transaction: nothing written beside it in another table', async () => {
    const clock = new ManualClock('2026-11-01T09:00:00Z');
    const { tables, calls } = countedTables();
    const store = await QuestionStore.open(tables, clock);
    const q = await store.record('how do I sync the tablet', amina, { answered: true });
    calls.length = 0;
    expect(await store.vote(q.id, ben, false)).toMatchObject({ helpful: 0, notHelpful: 1 });
    expect(calls).toEqual(['FaqQuestions.getEntity', 'FaqQuestions.submitTransaction']);
  });

  it('all go with their question, votes from before the rows beside it included; a voter forgotten takes theirs', async () => {
    const { clock, tables, store, privacy, q } = await asked();
    const kept = await store.record('where is the weekly report', amina, { answered: true });
    await store.vote(q.id, ben, true);
    await store.vote(kept.id, ben, false);
    // Carla voted under an earlier version: her vote is her index row and a FaqFeedback row, nothing beside it.
    const day = q.id.slice(0, 10);
    const rk = q.id.slice(11);
    await (await tables.table('FaqQuestions')).createEntity({ partitionKey: day, rowKey: `v|aad-carla|${rk}`, helpful: false, at: clock.now().toISOString() });
    await (await tables.table('FaqFeedback')).createEntity({ partitionKey: q.id, rowKey: 'aad-carla', helpful: false, at: clock.now().toISOString() });
    expect(await store.remove(q.id)).toBe(true);
    expect((await dayRows(tables, day)).filter((k) => k.includes(rk))).toEqual([]);
    expect(await feedbackRows(tables, q.id)).toBe(0);
    // Ben forgotten: his vote on the question that stays goes, with every row of his; its count stays.
    for (const row of (await privacy.rowsOf(['aad-ben'])).votes) await privacy.dropVote(row);
    expect((await dayRows(tables, day)).filter((k) => k.includes('aad-ben'))).toEqual([]);
    expect(await store.get(kept.id)).toMatchObject({ notHelpful: 1 });
    expect((await store.vote(kept.id, carla, true))?.helpful).toBe(1);
  });

  it('a question delete cut short leaves no row naming a voter that forgetting them misses', async () => {
    const { tables, store, privacy, q } = await asked();
    const voters = [ben, carla, { id: '29:dev', aadObjectId: 'aad-dev', name: 'Dev' }];
    for (const v of voters) await store.vote(q.id, v, true);
    const day = q.id.slice(0, 10);
    // Storage fails once on the first delete of a row beside the question (a 503; or the instance stopped there).
    const real = TableClient.prototype.deleteEntity;
    let failed = false;
    const spy = vi.spyOn(TableClient.prototype, 'deleteEntity').mockImplementation(function (this: TableClient, ...args: Parameters<TableClient['deleteEntity']>) {
      if (!failed && args[1].startsWith('f|')) {
        failed = true;
        return Promise.reject(Object.assign(new Error('server busy'), { statusCode: 503 }));
      }
      return real.apply(this, args);
    });
    try {
      await expect(store.remove(q.id)).rejects.toThrow('server busy');
    } finally {
      spy.mockRestore();
    }
    // Nothing retries it (the question has gone); each voter forgotten takes every row naming them.
    expect(await store.remove(q.id)).toBe(false);
    for (const v of voters) for (const row of (await privacy.rowsOf([v.aadObjectId])).votes) await privacy.dropVote(row);
    expect((await dayRows(tables, day)).filter((k) => voters.some((v) => k.includes(v.aadObjectId)))).toEqual([]);
  });
});

describe('gap cards and retention', () => {
  it('a gap card\'s redraw counter goes once the card was last drawn before the retention period; a newer one stays', async () => {
    const clock = new ManualClock('2026-11-01T09:00:00Z');
    const tables = testTables();
    const store = await QuestionStore.open(tables, clock);
    const drawAt = (key: string) =>
      store.drawGapCard(key, (shown) => {
        const v = (shown?.v ?? 0) + 1;
        return { version: v, next: { v, n: v, h: `h${v}`, at: clock.now().toISOString() } };
      });
    expect(await drawAt('g-old')).toBe(1);
    clock.advance(20 * DAY);
    expect(await drawAt('g-new')).toBe(1);
    const privacy = await QuestionPrivacy.open(tables, clock);

    // 40 days after the old card's last redraw, 20 after the new one's: a 30-day period takes the old one only.
    clock.advance(20 * DAY);
    await privacy.expireBefore(new Date(clock.now().getTime() - 30 * DAY), 500);
    const rows = await collect((await tables.table('FaqGapCards')).listEntities());
    expect(rows.map((r) => r.rowKey)).toEqual(['g-new']);
    // The newer card still counts on from where it was.
    expect(await drawAt('g-new')).toBe(2);
  });
});

describe('questions found from their Teams message', () => {
  it('finds a question from the message it was asked in until it is removed or expires, leaving no row behind', async () => {
    const clock = new ManualClock('2026-11-01T09:00:00Z');
    const tables = testTables();
    const store = await QuestionStore.open(tables, clock);
    const privacy = await QuestionPrivacy.open(tables, clock);
    // The rows that find a question from its message, in its day partition.
    const messages = async () => (await collect((await tables.table('FaqQuestions')).listEntities())).filter((r) => String(r.rowKey).startsWith('m|')).length;
    const old = await store.record('how do I sync', amina, { answered: false, message: 'a:chat|m-1' });
    clock.advance(1 * DAY);
    const kept = await store.record('how do I log in', amina, { answered: true, message: 'a:chat|m-2' });
    clock.advance(10 * DAY);
    const gone = await store.record('where is the manual', ben, { answered: false, message: 'a:chat|m-3' });
    expect((await store.fromMessage('a:chat|m-1')).map((q) => q.id)).toEqual([old.id]);
    expect(await store.fromMessage('a:chat|m-9')).toEqual([]);

    // Removed (its message deleted): not found, not listed, its lookup row gone.
    expect(await store.remove(gone.id)).toBe(true);
    expect(await store.fromMessage('a:chat|m-3')).toEqual([]);
    expect((await store.recent(30)).map((q) => q.id)).not.toContain(gone.id);
    expect(await messages()).toBe(2);

    // Retention takes the old day's question with its lookup row; the newer one is still found.
    await privacy.expireBefore(new Date(Date.parse('2026-11-02T00:00:00Z')), 500);
    expect(await store.fromMessage('a:chat|m-1')).toEqual([]);
    expect((await store.fromMessage('a:chat|m-2')).map((q) => q.id)).toEqual([kept.id]);
    expect(await messages()).toBe(1);
  });

  it('forgets which message a forgotten asker asked in: the question stays, under the pseudonym, found from no message', async () => {
    const clock = new ManualClock('2026-11-01T09:00:00Z');
    const tables = testTables();
    const store = await QuestionStore.open(tables, clock);
    const privacy = await QuestionPrivacy.open(tables, clock);
    const asked = await store.record('how do I sync', amina, { answered: false, message: 'a:chat-amina|m-1' });
    const others = await store.record('how do I log in', ben, { answered: false, message: 'a:chat-ben|m-2' });

    const rows = await privacy.rowsOf(['aad-amina']);
    for (const row of rows.asked) await privacy.anonymiseAsker(row, { id: 'pseudo-1', name: 'Former member 1a2b' });

    // The digest of Amina's chat and message would still tie the pseudonymised question to her chat.
    expect(await store.fromMessage('a:chat-amina|m-1')).toEqual([]);
    const row = await (await tables.table('FaqQuestions')).getEntity<{ msg?: string; asker: string }>(asked.id.slice(0, 10), asked.id.slice(11));
    expect(row.msg ?? '').toBe('');
    expect(JSON.parse(row.asker).name).toBe('Former member 1a2b');
    expect((await store.recent(30)).map((q) => q.id).sort()).toEqual([asked.id, others.id].sort());
    // Someone else's question is still found from its message.
    expect((await store.fromMessage('a:chat-ben|m-2')).map((q) => q.id)).toEqual([others.id]);
  });
});

describe('a question withdrawn (its message deleted) and restored (the delete undone)', () => {
  it('is out of every read of questions until restored, then back under its id with its vote; a forgotten asker\'s withdrawn one goes', async () => {
    const clock = new ManualClock('2026-11-01T09:00:00Z');
    const tables = testTables();
    const store = await QuestionStore.open(tables, clock);
    const privacy = await QuestionPrivacy.open(tables, clock);
    const asked = await store.record('how do I sync', amina, { answered: true, message: 'a:chat|m-1' });
    await store.vote(asked.id, amina, false);
    const [read] = await store.fromMessage('a:chat|m-1');

    expect(await store.withdraw(read!, 'a:chat|m-1')).toBe(true);
    expect(await store.get(asked.id)).toBeUndefined();
    expect(await store.fromMessage('a:chat|m-1')).toEqual([]);
    expect((await store.recent(30)).map((q) => q.id)).toEqual([]);
    expect((await store.recentGaps(30, { limit: 10 })).questions).toEqual([]);
    expect([...(await store.askedBetween('2026-11-01', '2026-11-01')).values()].flat()).toEqual([]);
    // Another message, or the withdrawn one again: nothing.
    expect((await store.withdrawnFrom('a:chat|m-2')).withdrawn).toEqual([]);
    expect(await store.withdraw(read!, 'a:chat|m-1')).toBe(false);

    const [withdrawn] = (await store.withdrawnFrom('a:chat|m-1')).withdrawn;
    expect(withdrawn).toEqual(read);
    expect(await store.restore(withdrawn!, 'a:chat|m-1')).toBe(true);
    expect(await store.get(asked.id)).toEqual(read);
    expect((await store.fromMessage('a:chat|m-1')).map((q) => q.id)).toEqual([asked.id]);
    expect((await store.withdrawnFrom('a:chat|m-1')).withdrawn).toEqual([]);
    // Restored twice (a retry): nothing more.
    expect(await store.restore(withdrawn!, 'a:chat|m-1')).toBe(false);
    // The vote counted before is the one there: voting the same again changes nothing.
    expect((await store.vote(asked.id, amina, false))?.notHelpful).toBe(1);

    // Withdrawn again, it is still theirs to see (kept for an undelete): their data lists it.
    await store.withdraw(read!, 'a:chat|m-1');
    expect((await privacy.question(asked.id))?.question).toBe('how do I sync');
    // Their asker forgotten: nothing of theirs is kept for an undelete.
    const rows = await privacy.rowsOf(['aad-amina']);
    for (const row of rows.asked) await privacy.anonymiseAsker(row, { id: 'pseudo-1', name: 'Former member 1a2b' });
    expect((await store.withdrawnFrom('a:chat|m-1')).withdrawn).toEqual([]);
    const left = (await collect((await tables.table('FaqQuestions')).listEntities())).map((r) => String(r.rowKey));
    expect(left.filter((k) => k.startsWith('w|') || k.startsWith('m|') || k.startsWith('a|'))).toEqual([]);
  });
});

describe('a withdrawn question: its undelete window, votes landing meanwhile, and its asker\'s data', () => {
  async function setup() {
    const clock = new ManualClock('2026-11-01T09:00:00Z');
    const tables = testTables();
    const store = await QuestionStore.open(tables, clock);
    const privacy = await QuestionPrivacy.open(tables, clock);
    const rowsOfDay = async (day: string) =>
      (await collect((await tables.table('FaqQuestions')).listEntities({ queryOptions: { filter: `PartitionKey eq '${day}'` } }))).map((r) =>
        String(r.rowKey),
      );
    const votesOn = async (id: string) =>
      (await collect((await tables.table('FaqFeedback')).listEntities({ queryOptions: { filter: `PartitionKey eq '${id}'` } }))).map((r) => String(r.rowKey));
    /** Rewrites withdrawn question `id`'s copy as an earlier version wrote it: without its deletion time. */
    const keptAsBefore = async (id: string) => {
      const faq = await tables.table('FaqQuestions');
      const [day, rk] = id.split('_') as [string, string];
      const { withdrawnAt: _w, changedAt: _c, etag: _e, timestamp: _t, ...legacy } = await faq.getEntity<Record<string, unknown>>(day, `w|${rk}`);
      await faq.upsertEntity({ ...legacy, partitionKey: day, rowKey: `w|${rk}` }, 'Replace');
    };
    return { clock, tables, store, privacy, rowsOfDay, votesOn, keptAsBefore };
  }

  /**
   * Three questions asked on 1 November and withdrawn on the 10th, their copies as an earlier version kept them; once
   * their window is over, runs of the sweep (at most `limit` deleted a run) delete as many as `expected` says, each in
   * turn, and none is left.
   */
  async function sweepsOfThreeKeptAsBefore(opts: { legacyRowsPerRun: number; limit: number }, expected: number[]) {
    const { clock, tables, store, keptAsBefore } = await setup();
    const privacy = await QuestionPrivacy.open(tables, clock, { legacyRowsPerRun: opts.legacyRowsPerRun });
    const asked = [];
    for (const n of [1, 2, 3]) asked.push(await store.record(`printer jams on tray ${n}`, amina, { answered: false, message: `a:chat|m-${n}` }));
    clock.set(new Date('2026-11-10T09:00:00Z'));
    for (const q of asked) {
      const m = `a:chat|m-${q.question.slice(-1)}`;
      expect(await store.withdraw((await store.fromMessage(m))[0]!, m)).toBe(true);
      await keptAsBefore(q.id);
    }
    clock.set(new Date('2026-12-02T10:00:00Z'));
    const runs = [];
    for (let i = 0; i < expected.length; i++) runs.push(await privacy.sweepExpired(clock.now(), opts.limit));
    expect(runs).toEqual(expected);
    for (const q of asked) expect(await privacy.question(q.id)).toBeUndefined();
  }

  it('keeps a vote that lands between the question\'s read and its withdrawal: the undeleted question has it', async () => {
    const { store } = await setup();
    const asked = await store.record('how do I sync', amina, { answered: true, thread: 'team-chat', message: 'a:chat|m-1' });
    const [read] = await store.fromMessage('a:chat|m-1');
    // Someone in the chat votes on its answer card while the delete is being handled.
    await store.vote(asked.id, ben, true);
    expect(await store.withdraw(read!, 'a:chat|m-1')).toBe(true);
    const [kept] = (await store.withdrawnFrom('a:chat|m-1')).withdrawn;
    expect(kept?.helpful).toBe(1);
    expect(await store.restore(kept!, 'a:chat|m-1')).toBe(true);
    expect((await store.get(asked.id))?.helpful).toBe(1);
    // Ben's vote is counted once: voting the same again changes nothing.
    expect((await store.vote(asked.id, ben, true))?.helpful).toBe(1);
  });

  it('keeps a vote that lands between the copy being written and the question row going', async () => {
    const { clock, tables } = await setup();
    const voter = await QuestionStore.open(tables, clock);
    let asked = '';
    let voted = false;
    // The store's own FaqQuestions table: once the withdrawal's copy is written, Ben's vote lands before the delete.
    const racing = {
      table: async (name: string) => {
        const real = await tables.table(name);
        if (name !== 'FaqQuestions') return real;
        return new Proxy(real, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (prop !== 'submitTransaction' || typeof value !== 'function') return value;
            return async (...args: unknown[]) => {
              const out = (await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
              const rows = (args[0] as [string, { rowKey: string }][]).map(([, e]) => e.rowKey);
              if (!voted && rows.some((k) => k.startsWith('w|'))) {
                voted = true;
                await voter.vote(asked, ben, true);
              }
              return out;
            };
          },
        }) as TableClient;
      },
    } as unknown as Tables;
    const store = await QuestionStore.open(racing, clock);
    asked = (await store.record('how do I sync', amina, { answered: true, thread: 'team-chat', message: 'a:chat|m-1' })).id;
    const [read] = await store.fromMessage('a:chat|m-1');
    expect(await store.withdraw(read!, 'a:chat|m-1')).toBe(true);
    expect(voted).toBe(true);
    const [kept] = (await store.withdrawnFrom('a:chat|m-1')).withdrawn;
    expect(kept?.helpful).toBe(1);
    expect(await store.get(asked)).toBeUndefined();
  });

  it(`is deleted ${UNDELETE_DAYS} days after it was withdrawn (here the day it was asked), with its lookup, asker's and vote rows, whatever retention is; a newer one can be undeleted`, async () => {
    const { clock, store, privacy, rowsOfDay, votesOn } = await setup();
    const old = await store.record('printer jams on tray 2', amina, { answered: false, thread: 'team-chat', message: 'a:chat|m-1' });
    await store.vote(old.id, ben, false);
    const [oldRead] = await store.fromMessage('a:chat|m-1');
    expect(await store.withdraw(oldRead!, 'a:chat|m-1')).toBe(true);
    clock.set(new Date('2026-11-21T09:00:00Z'));
    const newer = await store.record('printer offline', amina, { answered: false, message: 'a:chat|m-2' });
    const [newerRead] = await store.fromMessage('a:chat|m-2');
    expect(await store.withdraw(newerRead!, 'a:chat|m-2')).toBe(true);

    // 29 days on, the sweep leaves both.
    clock.set(new Date('2026-11-30T09:00:00Z'));
    expect(await privacy.sweepExpired(clock.now(), 100)).toBe(0);
    // 31 days after the first was asked: it goes, with everything that pointed at it.
    clock.set(new Date('2026-12-02T10:00:00Z'));
    expect(await privacy.sweepExpired(clock.now(), 100)).toBe(1);
    expect(await rowsOfDay('2026-11-01')).toEqual([]);
    expect(await votesOn(old.id)).toEqual([]);
    expect((await store.withdrawnFrom('a:chat|m-1')).withdrawn).toEqual([]);
    expect(await privacy.question(old.id)).toBeUndefined();
    expect((await privacy.rowsOf(['aad-amina', 'aad-ben'])).votes).toEqual([]);
    // The newer one is undeleted as it was.
    const [back] = (await store.withdrawnFrom('a:chat|m-2')).withdrawn;
    expect(await store.restore(back!, 'a:chat|m-2')).toBe(true);
    expect((await store.get(newer.id))?.question).toBe('printer offline');

  });

  it(`is kept for an undelete ${UNDELETE_DAYS} days from when its message was deleted, not from when it was asked`, async () => {
    const { clock, store, privacy, rowsOfDay, votesOn } = await setup();
    // Teams' message ids are their send time (epoch ms): the lookup reads the day they name.
    const [m1, m2] = [1, 2].map((n) => `a:chat|${Date.parse('2026-11-01T09:00:00Z') + n}`) as [string, string];
    const undone = await store.record('printer jams on tray 2', amina, { answered: false, message: m1 });
    const swept = await store.record('printer offline', amina, { answered: false, message: m2 });
    await store.vote(swept.id, ben, false);
    // Both deleted on day 29 of the month they were asked in.
    clock.set(new Date('2026-11-30T09:00:00Z'));
    for (const m of [m1, m2]) expect(await store.withdraw((await store.fromMessage(m))[0]!, m)).toBe(true);
    // A month after they were asked (2 days after the delete), then on day 40: the sweep keeps both, and an undelete
    // brings one back.
    for (const day of ['2026-12-02T10:00:00Z', '2026-12-11T09:00:00Z']) {
      clock.set(new Date(day));
      expect(await privacy.sweepExpired(clock.now(), 100)).toBe(0);
    }
    const [back] = (await store.withdrawnFrom(m1)).withdrawn;
    expect(await store.restore(back!, m1)).toBe(true);
    expect((await store.get(undone.id))?.question).toBe('printer jams on tray 2');
    // 29 days after the delete: still kept.
    clock.set(new Date('2026-12-29T08:00:00Z'));
    expect(await privacy.sweepExpired(clock.now(), 100)).toBe(0);
    expect((await store.withdrawnFrom(m2)).withdrawn).toHaveLength(1);
    // 31 days after the delete: the sweep deletes it with everything that pointed at it; no undelete brings it back.
    clock.set(new Date('2026-12-31T10:00:00Z'));
    expect(await privacy.sweepExpired(clock.now(), 100)).toBe(1);
    expect((await store.withdrawnFrom(m2)).withdrawn).toEqual([]);
    expect(await privacy.question(swept.id)).toBeUndefined();
    expect(await votesOn(swept.id)).toEqual([]);
    expect((await rowsOfDay('2026-11-01')).filter((k) => k.includes(swept.id.slice(11)))).toEqual([]);
    expect(await rowsOfDay('2026-11-30')).toEqual([]);
    // The undeleted one stays.
    expect((await store.get(undone.id))?.question).toBe('printer jams on tray 2');
  });

  it('is found for an undelete within its window whatever its message id, even past the days the lookup reads back', async () => {
    const { clock, store, privacy, rowsOfDay } = await setup();
    // Ids that are no time (another client than Teams): a question is found back only a month from today.
    const asked = await store.record('printer jams on tray 2', amina, { answered: false, message: 'a:chat|m-1' });
    const swept = await store.record('printer offline', amina, { answered: false, message: 'a:chat|m-2' });
    clock.set(new Date('2026-11-26T09:00:00Z'));
    for (const m of ['a:chat|m-1', 'a:chat|m-2']) expect(await store.withdraw((await store.fromMessage(m))[0]!, m)).toBe(true);
    // 45 days after it was asked, 20 after the delete: undeleted.
    clock.set(new Date('2026-12-16T09:00:00Z'));
    const [back] = (await store.withdrawnFrom('a:chat|m-1')).withdrawn;
    expect(back?.id).toBe(asked.id);
    expect(await store.restore(back!, 'a:chat|m-1')).toBe(true);
    expect((await store.get(asked.id))?.question).toBe('printer jams on tray 2');
    // The other, swept at the end of its window: nothing of either is left on the day they were deleted.
    expect((await store.withdrawnFrom('a:chat|m-2')).withdrawn[0]?.id).toBe(swept.id);
    clock.set(new Date('2026-12-27T10:00:00Z'));
    expect(await privacy.sweepExpired(clock.now(), 100)).toBe(1);
    expect((await store.withdrawnFrom('a:chat|m-2')).withdrawn).toEqual([]);
    expect(await rowsOfDay('2026-11-26')).toEqual([]);
    expect((await rowsOfDay('2026-11-01')).filter((k) => k.includes(swept.id.slice(11)))).toEqual([]);
  });

  it('keeps a copy withdrawn before its deletion time was recorded to the window from when it was asked', async () => {
    const { clock, store, privacy, keptAsBefore } = await setup();
    const asked = await store.record('printer jams on tray 2', amina, { answered: false, message: 'a:chat|m-1' });
    clock.set(new Date('2026-11-10T09:00:00Z'));
    expect(await store.withdraw((await store.fromMessage('a:chat|m-1'))[0]!, 'a:chat|m-1')).toBe(true);
    // As an earlier version wrote it: the copy without its deletion time.
    await keptAsBefore(asked.id);
    clock.set(new Date('2026-11-30T09:00:00Z'));
    expect((await store.withdrawnFrom('a:chat|m-1')).withdrawn).toHaveLength(1);
    clock.set(new Date('2026-12-02T10:00:00Z'));
    expect((await store.withdrawnFrom('a:chat|m-1')).withdrawn).toEqual([]);
    expect(await privacy.sweepExpired(clock.now(), 100)).toBe(1);
    expect(await privacy.question(asked.id)).toBeUndefined();
  });

  it('reads a bounded number of copies kept by an earlier version each run, and deletes the rest on the next runs', async () => {
    await sweepsOfThreeKeptAsBefore({ legacyRowsPerRun: 2, limit: 100 }, [2, 1, 0]);
  });

  it('reads at most its bound of withdrawn copies a run however many current ones a swept day holds, and a later run still reaches the copy an earlier version kept behind them', async () => {
    const { clock, tables, store, keptAsBefore } = await setup();
    const privacy = await QuestionPrivacy.open(tables, clock, { legacyRowsPerRun: 2 });
    // Asked the same day, and withdrawn: five copies as written now (their windows not over yet: withdrawn late)
    // sort ahead of the one an earlier version kept, which the sweep must still find and delete.
    const asked = [];
    for (let n = 1; n <= 6; n++) asked.push(await store.record(`printer jams on tray ${n}`, amina, { answered: false, message: `a:chat|m-${n}` }));
    const sorted = [...asked].sort((a, b) => (a.id < b.id ? -1 : 1));
    const old = sorted[sorted.length - 1]!;
    clock.set(new Date('2026-11-10T09:00:00Z'));
    const m = (q: { question: string }) => `a:chat|m-${q.question.slice(-1)}`;
    expect(await store.withdraw((await store.fromMessage(m(old)))[0]!, m(old))).toBe(true);
    await keptAsBefore(old.id);
    clock.set(new Date('2026-12-01T09:00:00Z'));
    for (const q of sorted.slice(0, -1)) expect(await store.withdraw((await store.fromMessage(m(q)))[0]!, m(q))).toBe(true);
    clock.set(new Date('2026-12-02T10:00:00Z'));
    // Each run reads at most two of the day's withdrawn copies (nothing else is due on the swept days), going on
    // where the last one stopped: the kept copy, sixth, is deleted by the third run.
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await reads(() => privacy.sweepExpired(clock.now(), 100), { table: 'FaqQuestions' }));
    for (const run of runs.slice(0, 2)) expect(run.rows).toBeLessThanOrEqual(2);
    expect(runs.map((r) => r.value)).toEqual([0, 0, 1]);
    expect(await privacy.question(old.id)).toBeUndefined();
    // The copies still in their undelete window stay, and later runs find nothing more to delete.
    expect(await privacy.sweepExpired(clock.now(), 100)).toBe(0);
    for (const q of sorted.slice(0, -1)) expect(await privacy.question(q.id)).toBeDefined();
  });

  it('reads the rest of a swept day its deletion limit stopped in on the next run', async () => {
    await sweepsOfThreeKeptAsBefore({ legacyRowsPerRun: 10, limit: 1 }, [1, 1, 1, 0]);
  });

  it('leaves nothing on the day of a withdrawal that found its question gone (an edit replaced it) once the window ends', async () => {
    const { clock, store, privacy, rowsOfDay } = await setup();
    await store.record('printer jams on tray 2', amina, { answered: false, message: 'a:chat|m-1' });
    clock.set(new Date('2026-11-10T09:00:00Z'));
    const [read] = await store.fromMessage('a:chat|m-1');
    // An edit of the message replaces the question between the delete's read and its withdrawal.
    expect(await store.remove(read!.id)).toBe(true);
    expect(await store.withdraw(read!, 'a:chat|m-1')).toBe(false);
    clock.set(new Date('2026-12-11T09:00:00Z'));
    expect(await privacy.sweepExpired(clock.now(), 100)).toBe(0);
    expect(await rowsOfDay('2026-11-10')).toEqual([]);
  });

  it('takes an undelete older than the last delete (a late Teams retry) as stale, and a delete older than the last undelete too', async () => {
    const { clock, store } = await setup();
    const asked = await store.record('printer jams on tray 2', amina, { answered: false, message: 'a:chat|m-1' });
    const at = (min: number) => new Date(Date.parse('2026-11-01T09:00:00Z') + min * 60_000);
    clock.set(at(10));
    expect(await store.withdraw((await store.fromMessage('a:chat|m-1'))[0]!, 'a:chat|m-1', at(1))).toBe(true);
    expect(await store.restore((await store.withdrawnFrom('a:chat|m-1')).withdrawn[0]!, 'a:chat|m-1', at(2))).toBe(true);
    expect(await store.withdraw((await store.fromMessage('a:chat|m-1'))[0]!, 'a:chat|m-1', at(3))).toBe(true);
    // The undelete of 09:02 again, as Teams retries it, after the delete of 09:03: the question stays withdrawn.
    expect(await store.restore((await store.withdrawnFrom('a:chat|m-1')).withdrawn[0]!, 'a:chat|m-1', at(2))).toBe(false);
    expect(await store.get(asked.id)).toBeUndefined();
    expect((await store.withdrawnFrom('a:chat|m-1')).withdrawn).toHaveLength(1);
    // Undeleted at 09:04; the delete of 09:03 retried after it leaves the question where it is.
    expect(await store.restore((await store.withdrawnFrom('a:chat|m-1')).withdrawn[0]!, 'a:chat|m-1', at(4))).toBe(true);
    expect(await store.withdraw((await store.fromMessage('a:chat|m-1'))[0]!, 'a:chat|m-1', at(3))).toBe(false);
    expect((await store.get(asked.id))?.question).toBe('printer jams on tray 2');
    expect((await store.withdrawnFrom('a:chat|m-1')).withdrawn).toEqual([]);
  });

  /** Amina asked two questions and deleted the message of one, which Ben had voted on. */
  async function withdrawnByAmina() {
    const { clock, tables, store, privacy, rowsOfDay, votesOn } = await setup();
    const faq = new FaqPersonalData(privacy, await CuratedStore.open(tables, clock));
    const kept = await store.record('how do I sync', amina, { answered: true, thread: 'team-chat', message: 'a:chat|m-1' });
    await store.record('printer offline', amina, { answered: false });
    await store.vote(kept.id, ben, false);
    const [read] = await store.fromMessage('a:chat|m-1');
    await store.withdraw(read!, 'a:chat|m-1');
    return { faq, kept, privacy, rowsOfDay, votesOn };
  }
  const amy = { ids: ['aad-amina', '29:amina'] };

  it('is listed as withdrawn in its asker\'s data (my data)', async () => {
    const { faq } = await withdrawnByAmina();
    const mine = (await faq.export(amy)) as { questionsAsked: { question: string; withdrawn: boolean }[] };
    expect(mine.questionsAsked.map((q) => [q.question, q.withdrawn]).sort()).toEqual([
      ['how do I sync', true],
      ['printer offline', false],
    ]);
  });

  it('is deleted by a forget with other people\'s votes on it, and counted as deleted, not as kept anonymised', async () => {
    const { faq, kept, privacy, rowsOfDay, votesOn } = await withdrawnByAmina();
    const before = await faq.describe(amy);
    expect(before.holdings.map((h) => [h.kind, h.count, h.action])).toEqual([
      ['faq.questions', 1, 'anonymise'],
      ['faq.withdrawn', 1, 'delete'],
    ]);

    await faq.forget(amy, { id: 'pseudo-1', name: 'Former member 1a2b' });
    // Ben's vote on the deleted question points at nothing any more: it went with it.
    expect(await votesOn(kept.id)).toEqual([]);
    expect((await rowsOfDay('2026-11-01')).filter((k) => !/^\d/.test(k))).toEqual([]);
    expect((await privacy.rowsOf(['aad-ben'])).votes).toEqual([]);
    expect((await faq.describe(amy)).holdings).toEqual([]);
  });
});

/** The real tables on the test Azurite, with every storage call made on them listed (`<table>.<call>`). */
function countedTables(): { tables: Tables; calls: string[] } {
  const real = testTables();
  const calls: string[] = [];
  const storageCalls = new Set(['getEntity', 'listEntities', 'createEntity', 'upsertEntity', 'updateEntity', 'deleteEntity', 'submitTransaction']);
  const table = async (name: string) =>
    new Proxy(await real.table(name), {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || !storageCalls.has(String(prop))) return value;
        return (...args: unknown[]) => {
          calls.push(`${name}.${String(prop)}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as TableClient;
  return { tables: new Proxy(real, { get: (t, p, r) => (p === 'table' ? table : (Reflect.get(t, p, r) as unknown)) }), calls };
}

describe('a question logged with its Teams message', () => {
  it('costs one storage call, and is found from its message the day it names, the days around it, or back from today', async () => {
    // Teams' message ids in chats are their creation time in epoch ms: this one was sent 2026-11-01T08:59:58Z.
    const sent = Date.parse('2026-11-01T08:59:58Z');
    const clock = new ManualClock('2026-11-01T09:00:00Z');
    const { tables, calls } = countedTables();
    const store = await QuestionStore.open(tables, clock);

    // A question is the commonest turn: logging one is one transaction, the message's lookup row inside it.
    calls.length = 0;
    const asked = await store.record('how do I sync', amina, { answered: false, message: `a:chat|${sent}` });
    expect(calls).toEqual(['FaqQuestions.submitTransaction']);

    // Found a week later from the day the message's id names (and the days either side): one round of reads.
    clock.advance(7 * DAY);
    calls.length = 0;
    expect((await store.fromMessage(`a:chat|${sent}`)).map((q) => q.id)).toEqual([asked.id]);
    expect(calls.filter((c) => c.endsWith('listEntities'))).toHaveLength(3);

    // An id that names no time (or the wrong day): found going back day by day from today.
    const other = await store.record('where is the manual', ben, { answered: false, message: 'a:chat|m-2' });
    clock.advance(3 * DAY);
    const late = await store.record('who approves access', ben, { answered: false, message: `a:chat|${sent - 20 * DAY}` });
    expect((await store.fromMessage('a:chat|m-2')).map((q) => q.id)).toEqual([other.id]);
    expect((await store.fromMessage(`a:chat|${sent - 20 * DAY}`)).map((q) => q.id)).toEqual([late.id]);
    expect(await store.fromMessage(`a:chat|${sent + 1}`)).toEqual([]);

    // The lookup rows are no questions: not listed, not counted.
    expect((await store.recent(30)).map((q) => q.id).sort()).toEqual([asked.id, other.id, late.id].sort());
  });
});
