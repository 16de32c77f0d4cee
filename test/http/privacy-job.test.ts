import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import type { PersonalData, Subject } from '../../src/privacy/personal-data.js';
import { buttonData, execute, invokeText, personalChat, readable, type Reply, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { collect } from '../../src/storage/tables.js';
import { RecordingConnector } from '../support/connector.js';
import { askMyData } from '../support/my-data.js';
import { until } from '../support/until.js';

/*
 * `forget` with more to do than fits in Teams' turn: the confirm click answers at once with a progress card,
 * the work goes on in the background, and the card is updated in place as parts finish, ending as the done
 * card (or the honest "stopped part-way" message). Work is counted, never timed: a store whose `forget` is
 * held (a slow storage call) until the test lets it go.
 */

const person = (name: string): TestUser => {
  const key = name.toLowerCase().replace(/\W+/g, '-');
  return { id: `29:${key}`, aadObjectId: `aad-${key}`, name };
};
const HANA = person('Hana Ito');
const IVAN = person('Ivan Petrov');
const JUN = person('Jun Park');
const KIM = person('Kim Novak');
/** A second rollout team member, who asks for a forget and is then forgotten herself. */
const LENA = person('Lena Ostrova');

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;

const where = (u: TestUser) => personalChat(connector.url, u);
let cardSeq = 0;
const click = (u: TestUser, verb: string, data: Record<string, unknown>, replyToId = `card-${++cardSeq}`) =>
  execute(app, u, verb, data, { ...where(u), replyToId });
const tell = (u: TestUser, text: string) => say(app, u, text, where(u));


/** The text of what the connector was asked to show in place of the lead's card (`activityId`), in order. */
const updatesOf = (activityId: string) =>
  connector.calls.filter((c) => c.method === 'PUT' && c.activityId === activityId).map((c) => readable([c.body as unknown as Reply]));

const formOf = (title: string) => ({
  title,
  description: `${title}: every evening the tablet loses the visits recorded that day.`,
  location: 'Sync screen',
  category: 'Sync / offline',
  severity: 'minor',
  site: `Site ${title.length}`,
});

/** `my data` as `u`: the file behind the link sent to their chat, parsed. */
async function myData(u: TestUser): Promise<Record<string, unknown>> {
  return JSON.parse((await askMyData(app, connector, u)).file) as Record<string, unknown>;
}

async function view(ref: string): Promise<string> {
  return readable(await tell(USERS.lead, `issue ${ref}`));
}

/**
 * A store whose `forget` for one person is held until `release()` (or `fail()`): the slow part of a big
 * forget. `entered` counts the calls that reached it; `finished` those that got through.
 */
function heldStore(feature: string, who: TestUser) {
  let open: (ok: boolean) => void = () => {};
  const gate = new Promise<boolean>((r) => (open = r));
  const state = { entered: 0, finished: 0, released: false, recovered: false };
  const mine = (s: Subject) => s.ids.includes(who.aadObjectId);
  const part: PersonalData = {
    feature,
    describe: async (s) => ({ holdings: mine(s) && !state.finished ? [{ kind: `${feature}.rows`, label: `rows in ${feature}`, count: 300, action: 'delete' }] : [] }),
    export: async () => ({}),
    forget: async (s) => {
      if (!mine(s)) return { holdings: [] };
      state.entered++;
      if (!state.recovered && !(await gate)) throw Object.assign(new Error('service unavailable'), { statusCode: 503 });
      state.finished++;
      return { holdings: [{ kind: `${feature}.rows`, label: `rows in ${feature}`, count: 300, action: 'delete' }] };
    },
  };
  // Never held longer than this, so old code (which answers only when all is done) fails the test instead of hanging.
  const failsafe = setTimeout(() => {
    state.released = true;
    open(true);
  }, 10_000);
  return {
    part,
    state,
    release: () => {
      clearTimeout(failsafe);
      state.released = true;
      open(true);
    },
    fail: () => {
      clearTimeout(failsafe);
      state.released = true;
      open(false);
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await app.forgetJobs.idle();
    await app.settled();
  }
}

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({
    ROLLOUT_FILE: 'sample/rollout.yaml',
    OFFICE_HOURS_FILE: 'sample/office-hours.yaml',
    GUIDANCE_DIR: 'sample/guidance',
    BROADCAST_WORKING_HOURS: 'off',
    SCHEDULER_INTERVAL_SECONDS: '86400',
    // Hand every forget to the background at once: what a forget too big for the turn does.
    FORGET_INLINE_SECONDS: '0',
    ROLLOUT_TEAM_IDS: `${USERS.lead.aadObjectId},${LENA.aadObjectId}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  }));
  clock.set('2026-11-30T08:00:00Z');
  for (const u of [...Object.values(USERS), HANA, IVAN, JUN, KIM, LENA]) await tell(u, 'whoami');
});

afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('forget too big for the turn', () => {
  it('answers the click at once with a progress card, updates it as parts finish, and ends with the done card', async () => {
    const logged = await click(HANA, 'issue.logAnyway', { form: formOf('Hana cannot sync at depot Holm') });
    const ref = /R-\d{4}/.exec(invokeText(logged.body))?.[0] ?? '';
    expect(ref).not.toBe('');
    const held = heldStore('heldStore', HANA);
    app.personalData.register(held.part);

    const asked = await tell(USERS.lead, `forget ${HANA.name}`);
    expect(readable(asked)).toContain('rows in heldStore');
    const answer = await click(USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), 'card-hana');
    // The answer came while the slow part was still held: the click did not wait for the work.
    const answeredWhileHeld = !held.state.released;
    const shown = invokeText(answer.body);
    held.release();
    expect(answeredWhileHeld).toBe(true);
    expect(shown).toContain(`Forgetting ${HANA.name}`);
    expect(shown).toMatch(/\d+ of \d+ parts done/);
    expect(shown).not.toContain('is forgotten');

    await settle();
    expect(held.state.finished).toBe(1);
    // The lead's card was updated in place: progress, then the done card (the same content as an inline forget).
    const updates = updatesOf('card-hana');
    expect(updates.some((u) => /\d+ of \d+ parts done/.test(u))).toBe(true);
    const last = updates.at(-1) ?? '';
    expect(last).toContain(`${HANA.name} is forgotten`);
    expect(last).toMatch(/appear as Former member [0-9a-f]{4}/);
    expect(last).toContain('rows in heldStore');
    expect(last).toContain('issues they logged');
    // The work itself was done, and the job kept nothing of her once the lead was told.
    expect(await view(ref)).not.toContain(HANA.name);
    const jobRows = await collect((await app.tables.table('PrivacyForgetJobs')).listEntities());
    expect(JSON.stringify(jobRows)).not.toContain(HANA.aadObjectId);
    expect(JSON.stringify(jobRows)).not.toContain(HANA.name);

    // Once the card shows the end, the bot no longer keeps where it is (the lead's chat), as an inline forget never did.
    const cardPosts = async () => JSON.stringify(await collect((await app.tables.table('Posts')).listEntities({ queryOptions: { filter: "PartitionKey eq 'privacy-forget'" } })));
    expect(await cardPosts()).toContain('card-hana');
    await app.forgetJobs.upkeep();
    expect(await cardPosts()).not.toContain('card-hana');
  }, 60_000);

  it('a fault in the background ends the card with what was done and "press Forget again"; pressing it finishes', async () => {
    const logged = await click(IVAN, 'issue.logAnyway', { form: formOf('Ivan cannot print at depot Iris') });
    const ref = /R-\d{4}/.exec(invokeText(logged.body))?.[0] ?? '';
    const held = heldStore('faultyStore', IVAN);
    app.personalData.register(held.part);

    const asked = await tell(USERS.lead, `forget ${IVAN.name}`);
    const data = buttonData(asked, 'privacy.forget');
    const answer = await click(USERS.lead, 'privacy.forget', data, 'card-ivan');
    held.fail();
    expect(invokeText(answer.body)).toContain(`Forgetting ${IVAN.name}`);
    await settle();

    const last = updatesOf('card-ivan').at(-1) ?? '';
    expect(last).toContain(`Forgetting ${IVAN.name} stopped part-way`);
    expect(last).toContain('at faultyStore');
    expect(last).toMatch(/Done so far: 1 issues they logged/);
    expect(last).toContain('Press Forget again to finish it');
    expect(await view(ref)).not.toContain(IVAN.name); // what was done stays done

    // Pressing Forget again (the store answers now) finishes it; its card ends as the done card.
    held.state.recovered = true;
    const again = await click(USERS.lead, 'privacy.forget', data, 'card-ivan-2');
    expect(invokeText(again.body)).toContain(`Forgetting ${IVAN.name}`);
    await settle();
    expect(updatesOf('card-ivan-2').at(-1)).toContain(`${IVAN.name} is forgotten`);
  }, 60_000);

  it('a staff member replaying the confirm click starts nothing', async () => {
    const held = heldStore('staffHeld', JUN);
    app.personalData.register(held.part);
    const asked = await tell(USERS.lead, `forget ${JUN.name}`);
    const refused = await click(USERS.staff, 'privacy.forget', buttonData(asked, 'privacy.forget'));
    held.release();
    expect(invokeText(refused.body)).toContain('rollout team');
    await settle();
    expect(held.state.entered).toBe(0);
  }, 60_000);

  it("a forget under way shows in the asker's `my data`; forgetting the asker takes them off it, and the job still ends", async () => {
    const held = heldStore('kimHeld', KIM);
    app.personalData.register(held.part);
    const asked = await tell(LENA, `forget ${KIM.name}`);
    expect(invokeText((await click(LENA, 'privacy.forget', buttonData(asked, 'privacy.forget'), 'card-kim')).body)).toContain(`Forgetting ${KIM.name}`);

    // While it runs, Lena's own data shows the forget she asked for (not whom it is about: that is Kim's).
    const mine = await myData(LENA);
    const underWay = JSON.stringify(mine.privacyJobs ?? null);
    expect(underWay).toMatch(/"forgetsYouAskedForUnderWay":\[\{/);
    expect(underWay).not.toContain(KIM.name);
    expect(underWay).not.toContain(KIM.aadObjectId);

    // Lena leaves and is forgotten while Kim's forget is still held: its row no longer names her.
    const jobRows = async () => JSON.stringify(await collect((await app.tables.table('PrivacyForgetJobs')).listEntities()));
    expect(await jobRows()).toContain(LENA.aadObjectId);
    const askedLena = await tell(USERS.lead, `forget ${LENA.name}`);
    expect(readable(askedLena)).toContain('forgets they asked for that are under way');
    await click(USERS.lead, 'privacy.forget', buttonData(askedLena, 'privacy.forget'), 'card-lena');
    await until('Lena is forgotten', async () => (updatesOf('card-lena').at(-1) ?? '').includes(`${LENA.name} is forgotten`));
    expect(held.state.finished).toBe(0);
    const rows = await jobRows();
    for (const id of [LENA.id, LENA.aadObjectId, LENA.name]) expect(rows).not.toContain(id);

    // Kim's forget finishes; the log names whoever asked by a pseudonym, and nothing new goes to Lena's chat.
    const toLena = () => connector.calls.filter((c) => c.conversationId === `a:chat-${LENA.aadObjectId}`).length;
    const before = toLena();
    held.release();
    await settle();
    expect(held.state.finished).toBe(1);
    const log = JSON.stringify(await collect((await app.tables.table('PrivacyLog')).listEntities()));
    for (const id of [LENA.id, LENA.aadObjectId]) expect(log).not.toContain(id);
    expect(toLena()).toBe(before);
    expect(JSON.parse(await jobRows())).toEqual([]);
  }, 60_000);
});

describe('forget that ends before the click hands it over', () => {
  const MIA = person('Mia Sol');
  const NOA = person('Noa Berg');

  /** The confirm click's turn hands the job over only once it has ended: a forget just too big for the inline wait. */
  function endBeforeHandOver(): () => void {
    const jobs = app.forgetJobs;
    const original = jobs.handOver.bind(jobs);
    jobs.handOver = async (key) => {
      await jobs.idle();
      return original(key);
    };
    return () => {
      jobs.handOver = original;
    };
  }
  const forgetPosts = async () => JSON.stringify(await collect((await app.tables.table('Posts')).listEntities({ queryOptions: { filter: "PartitionKey eq 'privacy-forget'" } })));

  it("the click answers with the result, and where the lead's card is is not kept", async () => {
    await tell(MIA, 'whoami');
    const asked = await tell(USERS.lead, `forget ${MIA.name}`);
    const restore = endBeforeHandOver();
    try {
      const answer = await click(USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), 'card-mia');
      expect(invokeText(answer.body)).toContain(`${MIA.name} is forgotten`);
    } finally {
      restore();
    }
    await settle();
    await app.forgetJobs.upkeep();
    expect(await forgetPosts()).not.toContain('card-mia');
  }, 60_000);

  it('a click that names no card: the progress card sent 1:1 ends as the result too, and is then not kept', async () => {
    await tell(NOA, 'whoami');
    const asked = await tell(USERS.lead, `forget ${NOA.name}`);
    const before = connector.calls.length;
    const restore = endBeforeHandOver();
    try {
      const answer = await execute(app, USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), { ...where(USERS.lead), replyToId: undefined });
      expect(invokeText(answer.body)).toContain(`${NOA.name} is forgotten`);
    } finally {
      restore();
    }
    await settle();
    const calls = connector.calls.slice(before);
    expect(calls.some((c) => c.method === 'POST' && JSON.stringify(c.body).includes(`Forgetting ${NOA.name}`))).toBe(true);
    const redraw = calls.filter((c) => c.method === 'PUT' && c.conversationId === `a:chat-${USERS.lead.aadObjectId}`).at(-1);
    expect(redraw, 'the progress card sent 1:1 is redrawn').toBeDefined();
    expect(readable([redraw!.body as unknown as Reply])).toContain(`${NOA.name} is forgotten`);
    // Once it shows the end, the bot no longer keeps where it is.
    await app.forgetJobs.upkeep();
    expect(await forgetPosts()).not.toContain(String(redraw!.activityId));
  }, 60_000);
});
