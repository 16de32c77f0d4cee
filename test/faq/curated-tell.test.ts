import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { PostStore } from '../../src/conversations/posts.js';
import { ConversationStore } from '../../src/conversations/store.js';
import { CuratedAnswers } from '../../src/faq/curated-answers.js';
import { CuratedTellJobs, tellNote } from '../../src/faq/curated-tell.js';
import { type CuratedAnswer, CuratedStore } from '../../src/faq/curated.js';
import type { GuidanceLibrary } from '../../src/faq/docs/library.js';
import { type FaqIndex, openFaqLibrary } from '../../src/faq/engine/index.js';
import { curatedAnswerMessages } from '../../src/faq/notices.js';
import { FaqPersonalData } from '../../src/faq/privacy.js';
import { type AskedQuestion, QuestionPrivacy, QuestionStore } from '../../src/faq/questions.js';
import { FaqService } from '../../src/faq/service.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { ForgottenKeys } from '../../src/privacy/forgotten-keys.js';
import type { Subject } from '../../src/privacy/personal-data.js';
import { Pseudonyms } from '../../src/privacy/pseudonym.js';
import { CapturedOutbox } from '../support/outbox.js';
import { testTables } from '../support/storage.js';
import { SAMPLE_GLOSSARY, SAMPLE_GUIDANCE } from './engine/corpus.js';

/*
 * A champion's answer reaches everyone who asked the same question in the last 30 days, not only the askers among
 * the newest rows its turn reads: the rest are found off the turn, a page at a time, each told once, and a job whose
 * instance stops part-way is resumed elsewhere without anyone lost or told twice.
 */

const grace = { actor: { id: '29:grace', aadObjectId: 'aad-grace', name: 'Grace Mwansa' }, role: 'champion' as const };
const QUESTION = 'is there a dark mode in the app';
const quiet = { info: () => {}, warn: () => {} };
const libraries: GuidanceLibrary<FaqIndex>[] = [];
afterEach(() => {
  for (const library of libraries.splice(0)) library.close();
});

/** `retoldInTurn`: of those sent an earlier text, how many an edit's turn corrects (default 1,000). */
async function setup(opts: { retoldInTurn?: number } = {}) {
  const tables = testTables();
  const clock = new ManualClock('2027-01-02T09:00:00Z');
  /** One instance's FAQ stores and curated answers over the shared tables. */
  const instance = async () => {
    const questions = await QuestionStore.open(tables, clock);
    const store = await CuratedStore.open(tables, clock);
    const ref: { curated?: CuratedAnswers } = {};
    const library = await openFaqLibrary(SAMPLE_GUIDANCE, { glossaryFile: SAMPLE_GLOSSARY, pollMs: 0, extraSections: () => ref.curated?.engineSections() ?? [] });
    libraries.push(library);
    const curated = new CuratedAnswers(store, questions, () => library.current.sections, () => library.rebuild('curated answers'), { tellScanRows: NEWER, ...opts });
    ref.curated = curated;
    const faq = new FaqService(library, questions, { curated: { activeAnswer: (id) => curated.activeAnswer(id), showAuthor: false } });
    return { questions, store, curated, faq };
  };
  const first = await instance();
  const { questions, store, curated } = first;
  const posts = await PostStore.open(tables);
  const conversations = await ConversationStore.open(tables, clock);
  const pseudonyms = await Pseudonyms.open(tables, () => clock.now().getTime());
  const forgottenKeys = await ForgottenKeys.open(tables, pseudonyms);
  const faqData = new FaqPersonalData(await QuestionPrivacy.open(tables, clock), store);
  /** `forget` as its job runs it: the forgotten keys recorded first (the held-reports part), then the FAQ's part. */
  const forget = async (subject: Subject) => {
    const pseudonym = pseudonyms.of(subject);
    await forgottenKeys.record(subject, pseudonym, clock.now());
    await faqData.forget(subject, pseudonym);
  };
  /** Runs after the job reads each page, before it claims that page's askers. */
  const hooks: { afterPage?: (page: readonly AskedQuestion[]) => Promise<void>; corrections?: (holderId: string) => void } = {};
  /** One instance's job runner, sending through `outbox` (`on`: that instance's FAQ, by default the first's). */
  const jobs = (holderId: string, outbox: CapturedOutbox, pageRows = 500, on = first) =>
    CuratedTellJobs.open(tables, {
      answer: (id) => on.store.get(id),
      page: async (day, since, next, size) => {
        const page = await questions.dayPage(day, since, next, size);
        await hooks.afterPage?.(page.questions);
        return page;
      },
      askersIn: (answer, page, again) =>
        on.curated.askersIn(answer, page, again, (ids, kept) => forgottenKeys.since(ids, kept)),
      messages: (answer, tell, opts) => curatedAnswerMessages(answer, tell, (r) => on.faq.answerFromSection(`curated-answers#${answer.id}`, r.question, r.questionId), opts),
      corrections: (answer, size, next) => {
        hooks.corrections?.(holderId);
        return on.curated.correctionsOf(answer, size, next);
      },
      hasChat: async (userKey: string) => Boolean(await conversations.personalChat(userKey)),
      posts,
      outbox,
      clock,
      holderId,
      log: quiet,
      claimMs: 60_000,
      pageRows,
    });
  return { clock, questions, curated, store, jobs, forget, hooks, conversations, posts, instance };
}

/** `n` people asking the same question (the first `from` of a numbered series), asked a minute apart from now on. */
async function ask(questions: QuestionStore, clock: ManualClock, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, from + n - i) }, (_, j) =>
        questions.record(QUESTION, { id: `29:asker${i + j}`, aadObjectId: `aad-asker${i + j}`, name: `Asker ${i + j}` }, { answered: false }),
      ),
    );
    clock.advance(60_000);
  }
}

/** The champion's card the Save was pressed on in her 1:1 chat (redrawn with the count). */
const GRACE_POST = {
  conversation: { conversationId: 'a:chat-grace', serviceUrl: 'http://127.0.0.1:1', tenantId: 'tenant-1', conversationType: 'personal' as const, channelId: 'msteams', bot: { id: '28:bot' }, updatedAt: '2027-01-01T00:00:00Z' },
  activityId: 'card-1',
};
const GRACE_CARD = { post: GRACE_POST };
const OLDEST = 120;
/**
 * The turn's bound on the askers it reads (`tellScanRows`: 2,000 in production, 20 here, so a test seeds 140 questions,
 * not 2,120): the boundary checked is the same, the newest N told in the turn and the N+1st and older off it.
 */
const NEWER = 20;
/** The askers the turn's bounded read leaves out: the oldest, asked before the newest N. */
const oldest = Array.from({ length: OLDEST }, (_, i) => `aad-asker${i}`);

/** Who was sent the answer (1:1), with every key each was sent under. */
function sentTo(messages: readonly OutboundMessage[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of messages) if (m.op === 'send' && m.to.kind === 'user' && m.key.startsWith('faq-curated|')) out.set(m.to.userKey, [...(out.get(m.to.userKey) ?? []), m.key]);
  return out;
}

/** Seeds the month (N + 120 askers over three days) and saves the answer as the champion's turn does. */
async function answered(s: Awaited<ReturnType<typeof setup>>): Promise<{ answer: CuratedAnswer; told: string[] }> {
  await ask(s.questions, s.clock, 0, OLDEST);
  s.clock.advance(86_400_000);
  await ask(s.questions, s.clock, OLDEST, NEWER / 2);
  s.clock.advance(86_400_000);
  await ask(s.questions, s.clock, OLDEST + NEWER / 2, NEWER / 2);
  const outcome = await s.curated.answerFromChampion(grace, { question: QUESTION, answer: 'Yes: Settings, Display, Dark.' });
  if (!outcome.result.ok) throw new Error(outcome.result.message);
  return { answer: outcome.result.answer, told: outcome.tell.map((r) => r.asker.aadObjectId ?? r.asker.id) };
}

describe("a champion's answer to a question more than 2,000 people asked this month", () => {
  it('the turn tells the newest 2,000 askers; the job off the turn tells the 2,001st and every other older one, each once', async () => {
    const s = await setup();
    const { answer, told } = await answered(s);
    // The turn: bounded, the newest 2,000; more are there.
    expect(told).toHaveLength(NEWER);
    expect(told.filter((k) => oldest.includes(k))).toEqual([]);

    const outbox = new CapturedOutbox();
    const jobs = await s.jobs('a', outbox);
    expect(await jobs.begin(answer, told.length, GRACE_CARD)).toEqual({ where: 'chat', begun: true });
    // The Save pressed again while it runs begins nothing new.
    expect(await jobs.begin(answer, 0, GRACE_CARD)).toEqual({ where: 'chat', begun: false });
    await jobs.run(answer.id);
    const sent = sentTo(outbox.messages);
    expect([...sent.keys()].sort()).toEqual([...oldest].sort());
    for (const keys of sent.values()) expect(keys).toHaveLength(1);
    // Done: the job's row is gone, so the upkeep takes up nothing; the champion's card shows the count.
    expect(await jobs.upkeep()).toBe(0);
    const end = outbox.messages.filter((m) => m.op === 'update' && m.post.kind === 'faq-curated-tell').at(-1);
    // NEWER + OLDEST askers (a count over 999 is written with a comma: test/text/count.test.ts).
    expect(JSON.stringify(end)).toContain('140 people who asked in the last 30 days get your answer');
  }, 180_000);

  it('a job whose instance stopped part-way (askers claimed, their 1:1s not queued) is resumed by another instance: nobody lost, nobody twice', async () => {
    const s = await setup();
    const { answer, told } = await answered(s);
    const outboxA = new CapturedOutbox();
    const outboxB = new CapturedOutbox();
    // Instance a dies as it queues the 1:1s of the first page with askers the turn did not reach: that page's askers
    // are claimed, not sent.
    const enqueue = outboxA.enqueue.bind(outboxA);
    let died = false;
    outboxA.enqueue = async (messages) => {
      if (!died && messages.length > 0) {
        died = true;
        throw new Error('instance stopped');
      }
      return enqueue(messages);
    };
    const a = await s.jobs('a', outboxA, 40);
    const b = await s.jobs('b', outboxB, 40);
    await a.begin(answer, told.length);
    await expect(a.run(answer.id)).rejects.toThrow('instance stopped');
    // Still a's claim: b's upkeep leaves it be; once it lapses, b takes it up from where a stopped.
    expect(await b.upkeep()).toBe(0);
    s.clock.advance(61_000);
    expect(await b.upkeep()).toBe(1);
    await b.idle();
    const sent = sentTo([...outboxA.messages, ...outboxB.messages]);
    expect([...sent.keys()].filter((k) => oldest.includes(k)).sort()).toEqual([...oldest].sort());
    // Each asker once: one message each, under the key the turn would have sent it with (the outbox sends a key once),
    // and a page done again names those the turn told only under the turn's own key.
    for (const [k, keys] of sent) {
      expect(keys, k).toHaveLength(1);
      expect(keys[0]).toBe(`faq-curated|${answer.id}|${k}`);
    }
  }, 180_000);

  it('an asker forgotten between the job reading a page and claiming its askers is sent nothing, and no record of the answer names them', async () => {
    const s = await setup();
    const { answer, told } = await answered(s);
    const target = { id: '29:asker7', aadObjectId: 'aad-asker7', name: 'Asker 7' };
    // The forget lands once the job has read the page holding their question, before it claims that page's askers.
    s.hooks.afterPage = async (page) => {
      if (!page.some((q) => q.asker.aadObjectId === target.aadObjectId)) return;
      s.hooks.afterPage = undefined;
      await s.forget({ ids: [target.id, target.aadObjectId], name: target.name });
    };
    const outbox = new CapturedOutbox();
    const jobs = await s.jobs('a', outbox);
    await jobs.begin(answer, told.length);
    await jobs.run(answer.id);
    expect(s.hooks.afterPage, 'the forget ran').toBeUndefined();
    const sent = sentTo(outbox.messages);
    expect(sent.has(target.aadObjectId)).toBe(false);
    // Everyone else the turn did not reach still gets it.
    expect([...sent.keys()].sort()).toEqual(oldest.filter((k) => k !== target.aadObjectId).sort());
    const naming = (await s.store.toldOf(answer.id, 10_000)).filter(
      (r) => [target.id, target.aadObjectId].includes(r.userKey) || (r.told && [r.told.asker.id, r.told.asker.aadObjectId, r.told.asker.name].some((v) => v !== undefined && [target.id, target.aadObjectId, target.name].includes(v))),
    );
    expect(naming).toEqual([]);
  }, 180_000);

  it('an instance shutting down lets its job go: another instance resumes it at its next upkeep, not once the claim runs out', async () => {
    const s = await setup();
    const { answer, told } = await answered(s);
    const outboxA = new CapturedOutbox();
    const outboxB = new CapturedOutbox();
    const a = await s.jobs('a', outboxA, 40);
    const b = await s.jobs('b', outboxB, 40);
    // Instance a is shut down while it works on its second page: it finishes that page, and stops.
    let pages = 0;
    s.hooks.afterPage = async () => {
      if (++pages === 2) void a.stop();
    };
    await a.begin(answer, told.length);
    await a.run(answer.id);
    s.hooks.afterPage = undefined;
    expect(pages).toBe(2);
    // No time has passed: the claim a took would hold for a minute more, were it not let go.
    expect(await b.upkeep()).toBe(1);
    await b.idle();
    const sent = sentTo([...outboxA.messages, ...outboxB.messages]);
    expect([...sent.keys()].filter((k) => oldest.includes(k)).sort()).toEqual([...oldest].sort());
    for (const [k, keys] of sent) expect(keys, k).toHaveLength(1);
  }, 180_000);
});

describe("a curated answer's Save pressed again after its job finished, its first turn never having recorded the answer as sent", () => {
  it('the press is given the finished job\'s total: its card shows the count, not "more are being found", and nobody is sent it again', async () => {
    const s = await setup();
    const { answer, told } = await answered(s);
    const outbox = new CapturedOutbox();
    const jobs = await s.jobs('a', outbox);
    await jobs.begin(answer, told.length, GRACE_CARD);
    await jobs.run(answer.id);
    const sentBefore = outbox.messages.length;
    // The later press (the first turn stopped before recording the answer as sent, so it is no repeat): the card it
    // returns replaces the one pressed, which the job had already redrawn with the count.
    const later = await jobs.begin(answer, told.length, GRACE_CARD);
    expect(later.begun).toBe(false);
    const note = tellNote(later, told.length);
    expect(note).toContain('140 people who asked in the last 30 days get your answer');
    expect(note).not.toContain('being found');
    // Its start finds the job done: no page is walked again, nothing more is queued.
    jobs.start(answer.id);
    await jobs.idle();
    expect(outbox.messages.slice(sentBefore)).toEqual([]);
    // The finished job's row is no work for the upkeep, and goes once the month it walked is over.
    expect(await jobs.upkeep()).toBe(0);
    s.clock.advance(31 * 86_400_000);
    expect(await jobs.upkeep()).toBe(0);
    const afterwards = await jobs.begin(answer, 0);
    expect(afterwards.begun, 'its row gone, a press begins afresh').toBe(true);
  }, 180_000);
});

describe("a curated answer's Save retried by Teams on another instance after the first stopped before starting the job", () => {
  it("the retry's start takes the job up within a turn's time, not once a running job's claim would lapse", async () => {
    const s = await setup();
    const { answer, told } = await answered(s);
    const outboxB = new CapturedOutbox();
    const a = await s.jobs('a', new CapturedOutbox(), 40);
    const b = await s.jobs('b', outboxB, 40);
    // Instance a's turn begins the job and stops there (killed, or Teams gave up on it): it never starts it.
    await a.begin(answer, told.length, GRACE_CARD);
    // Teams retries the Save on instance b half a minute later: its start runs the job (a's hold, never renewed, is over).
    s.clock.advance(31_000);
    b.start(answer.id);
    await b.idle();
    expect([...sentTo(outboxB.messages).keys()].filter((k) => oldest.includes(k)).sort()).toEqual([...oldest].sort());
  }, 180_000);
});

/** Grace, the champion, has a 1:1 chat with the bot. */
async function withGracesChat(s: Awaited<ReturnType<typeof setup>>): Promise<void> {
  await s.conversations.remember({ ...GRACE_POST.conversation, user: { id: grace.actor.id, aadObjectId: grace.actor.aadObjectId, name: grace.actor.name } });
}

/** Three askers, and the champion's answer to them. */
async function answeredFew(s: Awaited<ReturnType<typeof setup>>) {
  await ask(s.questions, s.clock, 0, 3);
  const outcome = await s.curated.answerFromChampion(grace, { question: QUESTION, answer: 'Yes: Settings, Display, Dark.' });
  if (!outcome.result.ok) throw new Error(outcome.result.message);
  return { answer: outcome.result.answer, told: outcome.tell.length };
}

/** An outbox whose first enqueue fails on a storage fault. */
function faultyOnce(): CapturedOutbox {
  const outbox = new CapturedOutbox();
  const enqueue = outbox.enqueue.bind(outbox);
  let faults = 1;
  outbox.enqueue = async (messages) => {
    if (faults-- > 0) throw Object.assign(new Error('storage unavailable'), { statusCode: 503 });
    return enqueue(messages);
  };
  return outbox;
}

describe("a curated answer's Save retried by Teams after its champion's card could not be queued", () => {
  it('still sends her the card that follows the count', async () => {
    const s = await setup();
    await withGracesChat(s);
    const { answer, told } = await answeredFew(s);
    const outbox = faultyOnce();
    const jobs = await s.jobs('a', outbox);
    await expect(jobs.begin(answer, told, { userKey: grace.actor.aadObjectId })).rejects.toThrow('storage unavailable');
    // The retry finds the job begun: nothing new is begun, and her card is queued now.
    expect(await jobs.begin(answer, told, { userKey: grace.actor.aadObjectId })).toEqual({ where: 'chat', begun: false });
    expect(outbox.messages.filter((m) => m.op === 'send' && m.post?.kind === 'faq-curated-tell')).toMatchObject([{ to: { kind: 'user', userKey: 'aad-grace' } }]);
  }, 60_000);
});

describe('a curated answer saved on an instance already shutting down', () => {
  it('lets the claim its staging wrote go: another instance takes the job up at its next upkeep, not once the claim runs out', async () => {
    const s = await setup();
    const { answer, told } = await answeredFew(s);
    const a = await s.jobs('a', new CapturedOutbox());
    const b = await s.jobs('b', new CapturedOutbox());
    await a.stop();
    // The turn's side writes the row claimed by a; its run starts nothing, shutdown having begun.
    expect(await a.begin(answer, told, GRACE_CARD)).toEqual({ where: 'chat', begun: true });
    a.start(answer.id);
    await a.idle();
    // No time has passed: a's claim would hold a minute more, were it not let go.
    expect(await b.upkeep()).toBe(1);
    await b.idle();
    expect(await b.upkeep(), 'done: its row is gone').toBe(0);
  }, 60_000);
});

describe("a curated answer's correction sent off the turn to those sent the earlier text", () => {
  /** Five askers sent the answer; the champion edits it, and her turn corrects the first page (two) of them. */
  async function edited(s: Awaited<ReturnType<typeof setup>>) {
    await ask(s.questions, s.clock, 0, 5);
    const outcome = await s.curated.answerFromChampion(grace, { question: QUESTION, answer: 'No dark mode yet.' });
    if (!outcome.result.ok) throw new Error(outcome.result.message);
    expect(outcome.tell).toHaveLength(5);
    const edit = await s.curated.edit(grace, outcome.result.answer.id, 1, { answer: 'Yes: Settings, Display, Dark.' });
    if (!edit.result.ok) throw new Error(edit.result.message);
    const first = await s.curated.correctionsOf(edit.result.answer, 2);
    expect(first.tell).toHaveLength(2);
    return { answer: edit.result.answer, from: first.correctFrom ?? '' };
  }
  /** What the champion is shown by the job, in order: the sends and updates of its `faq-curated-tell` post. */
  const shown = (outbox: CapturedOutbox) =>
    outbox.messages.filter((m) => (m.op === 'update' && m.post.kind === 'faq-curated-tell') || (m.op === 'send' && m.post?.kind === 'faq-curated-tell'));
  /** As `edited`, Grace having a 1:1 chat with the bot. */
  async function editedWithChat(s: Awaited<ReturnType<typeof setup>>) {
    await withGracesChat(s);
    return edited(s);
  }
  /** Runs the job to its end: a message in her 1:1 chat at once, then that message says the count. */
  async function runToCount(s: Awaited<ReturnType<typeof setup>>, jobs: CuratedTellJobs, key: string, outbox: CapturedOutbox) {
    // The outbox (captured here) records the card's post as the real one does when it queues the send.
    await s.posts.markPending('faq-curated-tell', key, 'faq-curated-tell|sent');
    await jobs.run(key);
    const messages = shown(outbox);
    expect(messages[0]).toMatchObject({ op: 'send', to: { kind: 'user', userKey: 'aad-grace' } });
    const end = messages.at(-1);
    expect(end?.op).toBe('update');
    expect(JSON.stringify(end)).toContain('Correction sent to 5 people');
  }

  it('tells the champion in her private chat when every correction is queued: how many people in all', async () => {
    const s = await setup();
    const { answer, from } = await editedWithChat(s);
    const outbox = new CapturedOutbox();
    const jobs = await s.jobs('a', outbox, 2);
    const begun = await jobs.beginCorrections(answer, 2, from, { userKey: grace.actor.aadObjectId });
    expect(begun.where).toBe('chat');
    await runToCount(s, jobs, begun.key, outbox);
    expect(await jobs.upkeep()).toBe(0);
  });

  it('still sends the champion her card when its queueing failed on a storage fault and Teams retried the Save', async () => {
    const s = await setup();
    const { answer, from } = await editedWithChat(s);
    const outbox = faultyOnce();
    const jobs = await s.jobs('a', outbox, 2);
    await expect(jobs.beginCorrections(answer, 2, from, { userKey: grace.actor.aadObjectId })).rejects.toThrow('storage unavailable');
    // Teams retries the Save: the job is there already, and her card is queued now.
    const again = await jobs.beginCorrections(answer, 2, from, { userKey: grace.actor.aadObjectId });
    expect(again.where).toBe('chat');
    await runToCount(s, jobs, again.key, outbox);
  });

  /**
   * The same edit saved at once on two instances over one Azurite account, each turn correcting the first two itself
   * and leaving the other three to the job (two a page): what each instance's `corrections` read, and what was queued.
   * `bAfterA`: instance b's turn is held between its edit and beginning the job until a's turn and job have ended.
   */
  async function savedOnTwo(bAfterA = false) {
    const s = await setup({ retoldInTurn: 2 });
    await withGracesChat(s);
    await ask(s.questions, s.clock, 0, 5);
    const outcome = await s.curated.answerFromChampion(grace, { question: QUESTION, answer: 'No dark mode yet.' });
    if (!outcome.result.ok) throw new Error(outcome.result.message);
    const id = outcome.result.answer.id;
    // The outbox (captured here) records the champion's card's post as the real one does when it queues the send.
    await s.posts.markPending('faq-curated-tell', `${id}.v2`, 'faq-curated-tell|sent');
    const first = { curated: s.curated, faq: (await s.instance()).faq };
    const other = await s.instance();
    await other.curated.refresh();
    const pages = new Map<string, number>();
    s.hooks.corrections = (holder) => pages.set(holder, (pages.get(holder) ?? 0) + 1);
    const outboxA = new CapturedOutbox();
    const outboxB = new CapturedOutbox();
    const a = await s.jobs('a', outboxA, 2);
    const b = await s.jobs('b', outboxB, 2, other);
    /** The edit's Save as `src/teams/faq.ts` runs it on one instance. */
    const save = async (on: typeof first, jobs: CuratedTellJobs, outbox: CapturedOutbox, held?: Promise<void>) => {
      const edit = await on.curated.edit(grace, id, 1, { answer: 'Yes: Settings, Display, Dark.' });
      if (!edit.result.ok) throw new Error(edit.result.message);
      const answer = edit.result.answer;
      await outbox.enqueue(curatedAnswerMessages(answer, edit.tell, (r) => on.faq.answerFromSection(`curated-answers#${answer.id}`, r.question, r.questionId), { edited: true }));
      await held;
      const rest = edit.correctFrom ? await jobs.beginCorrections(answer, edit.tell.length, edit.correctFrom, { userKey: grace.actor.aadObjectId }) : undefined;
      if (rest) jobs.start(rest.key);
      await on.curated.correctionsQueued(answer);
      return rest?.key;
    };
    const aTurn = save(first, a, outboxA);
    const keys = await Promise.all([aTurn, save(other, b, outboxB, bAfterA ? aTurn.then(() => a.idle()) : undefined)]);
    await Promise.all([a.idle(), b.idle()]);
    return { s, a, b, keys, pages, messages: [...outboxA.messages, ...outboxB.messages] };
  }
  /** Who was sent a correction, with the keys (the outbox sends a key once). */
  function correctedIn(messages: readonly OutboundMessage[]): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const m of messages) {
      if (m.op !== 'send' || m.to.kind !== 'user' || !m.key.startsWith('faq-curated|')) continue;
      out.set(m.to.userKey, new Set([...(out.get(m.to.userKey) ?? []), m.key]));
    }
    return out;
  }
  async function expectOneJobEachOnce({ s, a, b, keys, pages, messages }: Awaited<ReturnType<typeof savedOnTwo>>) {
    expect(keys[0], 'both turns left the rest to the job').toBeDefined();
    expect(keys[1]).toBe(keys[0]);
    // One job walked the records: the three past the turns' page, two a page.
    expect([...pages.values()].reduce((n, p) => n + p, 0)).toBe(2);
    expect(pages.size).toBe(1);
    // Everyone sent the earlier text is corrected, each under one key.
    const corrected = correctedIn(messages);
    expect([...corrected.keys()].sort()).toEqual(Array.from({ length: 5 }, (_, i) => `aad-asker${i}`).sort());
    for (const [k, sent] of corrected) expect(sent.size, k).toBe(1);
    // The champion's card says the count once, and no upkeep on either instance starts it again.
    const counts = messages.filter((m) => m.op === 'update' && m.post.kind === 'faq-curated-tell' && JSON.stringify(m).includes('Correction sent to 5 people'));
    expect(counts).toHaveLength(1);
    s.clock.advance(5 * 60_000);
    expect((await a.upkeep()) + (await b.upkeep())).toBe(0);
  }

  it('the same edit saved at once on two instances (one Azurite account): one correction job runs, each person is corrected once', async () => {
    await expectOneJobEachOnce(await savedOnTwo());
  });

  it("the same edit saved on two instances, the second turn beginning the job only once the first's has ended: no second job", async () => {
    // Instance a's turn and its job run to the end while b's turn is held (slow storage, a busy instance): b's edit
    // found the corrections not yet recorded as queued, so it owes them too.
    await expectOneJobEachOnce(await savedOnTwo(true));
  });

  it('tells her the corrections stopped when the answer was edited again before they were all sent (the newer edit sends its own)', async () => {
    const s = await setup();
    const { answer, from } = await edited(s);
    const outbox = new CapturedOutbox();
    const jobs = await s.jobs('a', outbox, 2);
    const begun = await jobs.beginCorrections(answer, 2, from, { userKey: grace.actor.aadObjectId });
    await s.posts.markPending('faq-curated-tell', begun.key, 'faq-curated-tell|sent');
    await s.curated.edit(grace, answer.id, answer.version, { answer: 'Yes: Settings, Display, Dark (from version 2.1).' });
    await jobs.run(begun.key);
    expect(JSON.stringify(shown(outbox).at(-1))).toContain('edited again');
  });
});
