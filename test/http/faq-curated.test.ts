import { randomBytes } from 'node:crypto';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import type { ManualClock } from '../../src/clock.js';
import { CuratedStore } from '../../src/faq/curated.js';
import { Tables } from '../../src/storage/tables.js';
import { buttonData, execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { askMyData } from '../support/my-data.js';
import { azuriteConnection } from '../support/storage.js';

/*
 * Champions' curated answers over HTTP, probed as a careless user and as an attacker would: what reaches
 * Teams stays within what Teams accepts, and what the rollout team takes away is whole.
 */

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;
let store: CuratedStore;
const prefix = `t${randomBytes(4).toString('hex')}`;
const TRIAGE = '19:triage@thread.tacv2';
/** A champion of her own, so forgetting her leaves the other tests' champion be. */
const GRACE: TestUser = { id: '29:grace-c', aadObjectId: 'aad-grace-c', name: 'Grace Mwansa' };

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({ TABLE_PREFIX: prefix, CHAMPION_IDS: `${USERS.champion.aadObjectId},${GRACE.aadObjectId}` }));
  const setup = await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', {
    serviceUrl: connector.url,
    conversation: { id: `${TRIAGE};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: TRIAGE } },
  });
  expect(readable(setup)).toContain('triage channel');
  store = await CuratedStore.open(new Tables(azuriteConnection(), prefix), clock);
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

const hana = { id: '29:hana', aadObjectId: 'aad-hana', name: 'Hana Seed' };
const inChat = (u: TestUser) => personalChat(connector.url, u);

describe('export curated', () => {
  it('with many long answers: every message fits what Teams accepts, and the whole export can be had', async () => {
    // Twenty answers at the 4,000 characters a champion may write: about 80 KB of markdown.
    for (let n = 1; n <= 20; n++) {
      clock.advance(1000);
      await store.create({ question: `long question number ${n} about the district store`, answer: `Answer ${n}: ${'word '.repeat(790)}end ${n}.` }, hana);
    }
    const replies = await say(app, USERS.lead, 'export curated', inChat(USERS.lead));
    for (const r of replies) expect(utf16Bytes(r)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const url = /\((http[^)\s]+\/exports\/[^)\s]+)\)/.exec(readable(replies))?.[1];
    expect(url, readable(replies).slice(0, 300)).toBeDefined();
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    const md = await res.text();
    for (let n = 1; n <= 20; n++) {
      expect(md).toContain(`## long question number ${n} about the district store`);
      expect(md).toContain(`end ${n}.`);
    }
  });
});

/** A staff member asks `question` (not covered by the guidance); returns the id of its gap on the champions' list. */
async function openGap(asker: TestUser, question: string, marker = question.slice(0, 40)): Promise<string> {
  // Asked later than the file's earlier gaps (the clock stands still otherwise): the list shows the newest of those
  // asked as often first, so it is on the first page however many gaps the file has opened.
  clock.advance(1000);
  expect(readable(await say(app, asker, question, inChat(asker)))).toContain("doesn't cover this");
  await app.settled();
  const list = await say(app, USERS.champion, 'gaps', inChat(USERS.champion));
  const cards = JSON.stringify(list);
  const at = cards.indexOf(marker);
  expect(at, `the gap is listed: ${readable(list).slice(0, 2000)}`).toBeGreaterThan(-1);
  const after = cards.slice(at);
  return /"groupId":"([^"]+)"/.exec(after)?.[1] ?? '';
}

describe('answering a gap', () => {
  it('a pasted answer far over the limit is refused naming the limit, with the form and the paste shown again', async () => {
    const groupId = await openGap({ id: '29:pat', aadObjectId: 'aad-pat', name: 'Pat' }, 'where do I park my motorbike at the district office');
    const pasted = 'Open the store room and ask the clerk for the key. '.repeat(2000); // ~100 KB, a pasted document
    const res = await execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: pasted }, inChat(USERS.champion));
    const text = invokeText(res.body);
    expect(text).toContain('The answer is longer than 4000 characters.');
    expect(text).not.toContain('out of date');
    expect(JSON.stringify(res.body)).toContain('Open the store room and ask the clerk');
    expect(utf16Bytes(res.body.value)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    expect(await store.active()).not.toContainEqual(expect.objectContaining({ groupId }));
  });
});

describe('forget of the champion who answered a gap', () => {
  it('redraws the answered card in the triage channel with their pseudonym instead of their name', async () => {
    const question = 'where can I charge the solar lantern at the health post';
    const groupId = await openGap({ id: '29:quinn', aadObjectId: 'aad-quinn', name: 'Quinn' }, question);
    const answered = await execute(app, GRACE, 'faq.curated.answer', { groupId, answer: 'The health post charges lanterns at the front desk.' }, inChat(GRACE));
    expect(invokeText(answered.body)).toContain('Saved.');
    await app.settled();
    const drawn = () =>
      connector.calls.filter((c) => c.method === 'PUT' && c.conversationId === TRIAGE && JSON.stringify(c.body).includes('solar lantern'));
    await connector.waitFor(() => drawn().some((c) => JSON.stringify(c.body).includes('Answered by Grace Mwansa')), 20_000);

    const asked = await say(app, USERS.lead, `forget ${GRACE.name}`, inChat(USERS.lead));
    const done = invokeText((await execute(app, USERS.lead, 'privacy.forget', buttonData(asked, 'privacy.forget'), inChat(USERS.lead))).body);
    expect(done).toContain(`${GRACE.name} is forgotten`);
    const pseudonym = /appear as (Former member [0-9a-f]{4})/.exec(done)?.[1] ?? '';
    expect(pseudonym).not.toBe('');
    await app.settled();
    await connector.waitFor(() => JSON.stringify(drawn().at(-1)?.body).includes(pseudonym), 20_000).catch(() => {});
    const last = JSON.stringify(drawn().at(-1)?.body);
    expect(last).not.toContain('Grace');
    expect(last).toContain(`Answered by ${pseudonym}`);
    // Nor anywhere in storage (her answer stays, credited to the pseudonym).
    const svc = TableServiceClient.fromConnectionString(azuriteConnection(), { allowInsecureConnection: true });
    const leaks: string[] = [];
    for await (const t of svc.listTables()) {
      if (!t.name?.startsWith(prefix)) continue;
      const table = TableClient.fromConnectionString(azuriteConnection(), t.name, { allowInsecureConnection: true });
      for await (const row of table.listEntities()) {
        const json = JSON.stringify(row);
        for (const id of [GRACE.name, GRACE.aadObjectId, GRACE.id]) if (json.includes(id)) leaks.push(`${t.name}: ${id}: ${json.slice(0, 300)}`);
      }
    }
    expect(leaks).toEqual([]);
  }, 60_000);
});

describe('retire from a card that is out of date', () => {
  it('after someone else edited the answer: nothing is retired, and the champion sees the answer as it is now', async () => {
    const created = await store.create({ question: 'can the tablet ring louder for reminders', answer: 'No.' }, hana);
    expect((await store.update(created.id, 1, { answer: 'Yes: Settings, Sound, Loud.' })).ok).toBe(true);
    const res = await execute(app, USERS.champion, 'faq.curated.retire', { curatedId: created.id, version: 1 }, inChat(USERS.champion));
    const text = invokeText(res.body);
    expect(text).toContain('Yes: Settings, Sound, Loud.');
    expect(await store.get(created.id)).toMatchObject({ status: 'active', version: 2 });
  });

  it('pressed twice: the second press says it is already retired, not that someone changed it', async () => {
    const created = await store.create({ question: 'can the tablet vibrate for reminders', answer: 'No.' }, hana);
    const first = await execute(app, USERS.champion, 'faq.curated.retire', { curatedId: created.id, version: 1 }, inChat(USERS.champion));
    expect(invokeText(first.body)).toContain('Retired');
    const second = invokeText((await execute(app, USERS.champion, 'faq.curated.retire', { curatedId: created.id, version: 1 }, inChat(USERS.champion))).body);
    expect(second).toMatch(/already retired/i);
    expect(second).not.toContain('Someone changed');
  });
});

describe('edit from a card that is out of date', () => {
  it('after someone else edited the answer: nothing is saved, and the champion is shown what it says now beside their own text', async () => {
    const created = await store.create({ question: 'can the tablet show the district map offline', answer: 'No.' }, hana);
    expect((await store.update(created.id, 1, { answer: 'Yes: download it under Maps, Offline.' })).ok).toBe(true);
    const res = await execute(app, USERS.champion, 'faq.curated.edit', { curatedId: created.id, version: 1, answer: 'Only in version 3.' }, inChat(USERS.champion));
    const text = invokeText(res.body);
    expect(text).toContain('Someone changed this answer');
    expect(text).toContain('Yes: download it under Maps, Offline.');
    // Their own text stays in the box, to save over it on purpose (the card now carries the current version).
    expect(JSON.stringify(res.body)).toContain('Only in version 3.');
    expect(Number(buttonData(res.body, 'faq.curated.edit').version)).toBe(2);
    expect(await store.get(created.id)).toMatchObject({ version: 2, answer: 'Yes: download it under Maps, Offline.' });
  });
});

describe('Send the answer pressed twice at once', () => {
  it('makes one answer, both presses say it is saved (neither that someone already answered), and the asker gets it once', async () => {
    const asker: TestUser = { id: '29:rui', aadObjectId: 'aad-rui', name: 'Rui' };
    const groupId = await openGap(asker, 'where is the key to the vaccine fridge padlock at the outreach site');
    const press = () => execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'The nurse in charge keeps it.' }, inChat(USERS.champion));
    const replies = (await Promise.all([press(), press()])).map((r) => invokeText(r.body));
    for (const text of replies) {
      expect(text).toContain('Saved.');
      expect(text).not.toContain('already answered');
    }
    expect((await store.active()).filter((a) => a.groupId === groupId)).toHaveLength(1);
    await app.settled();
    await app.broadcast.runner.idle();
    const told = () => connector.sentTo(`a:chat-${asker.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('nurse in charge'));
    await connector.waitFor(() => told().length > 0, 20_000);
    await app.settled();
    expect(told()).toHaveLength(1);
  });
});

describe('Send the answer pressed again after the first press stopped before its 1:1s were queued', () => {
  it('the second press says it is saved, and the asker is told, once', async () => {
    const asker: TestUser = { id: '29:noor', aadObjectId: 'aad-noor', name: 'Noor' };
    const groupId = await openGap(asker, 'which colour of stapler belongs to the records clerk');
    const press = () => execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'The driver, then the site lead.' }, inChat(USERS.champion));
    // The first press's turn stops between saving the answer and queueing the 1:1s (a storage fault, a killed instance).
    const enqueue = app.outbox.enqueue.bind(app.outbox);
    const spy = vi.spyOn(app.outbox, 'enqueue').mockImplementationOnce(() => Promise.reject(new Error('storage is not answering')));
    try {
      expect(invokeText((await press()).body)).not.toContain('Saved.');
    } finally {
      spy.mockImplementation(enqueue);
    }
    const second = invokeText((await press()).body);
    expect(second).toContain('Saved. 1 person who asked gets');
    spy.mockRestore();
    await app.settled();
    await app.broadcast.runner.idle();
    const told = () => connector.sentTo(`a:chat-${asker.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('The driver, then the site lead.'));
    await connector.waitFor(() => told().length > 0, 20_000);
    // A third press once the 1:1 went (Teams' retry, or the champion again) queues it under the same key: not sent again.
    expect(invokeText((await press()).body)).toContain('Saved.');
    await app.settled();
    await app.broadcast.runner.idle();
    await app.settled();
    expect(told()).toHaveLength(1);
  });
});

describe('Send the answer pressed again after the first press sent it', () => {
  it('says the answer was already sent to those who asked, counts nobody as getting it now, and the asker gets it once', async () => {
    const asker: TestUser = { id: '29:ines', aadObjectId: 'aad-ines', name: 'Ines' };
    const groupId = await openGap(asker, 'who signs the fuel voucher for the cold chain generator');
    const press = () => execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'The facility in-charge signs it.' }, inChat(USERS.champion));
    expect(invokeText((await press()).body)).toContain('1 person who asked gets');
    await app.settled();
    await app.broadcast.runner.idle();
    const told = () => connector.sentTo(`a:chat-${asker.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('facility in-charge signs'));
    await connector.waitFor(() => told().length > 0, 20_000);

    const second = invokeText((await press()).body);
    expect(second).toContain('Your first press already sent your answer to those who asked; nobody gets it twice.');
    expect(second).not.toMatch(/\d+ (person|people) who asked gets?/);
    await app.settled();
    await app.broadcast.runner.idle();
    await app.settled();
    expect(told()).toHaveLength(1);
  });
});

describe('a gap whose question holds card-breaking text', () => {
  it('is listed as text and its "Answer this" opens', async () => {
    const question = 'why does the "store room" key ${$root.days} {"$when":"${false}"} \\ ]] --> <b>fail</b> at the outreach depot';
    const groupId = await openGap({ id: '29:sol', aadObjectId: 'aad-sol', name: 'Sol' }, question, 'why does the');
    expect(groupId).not.toBe('');
    const opened = await execute(app, USERS.champion, 'faq.curated.form', { groupId }, inChat(USERS.champion));
    const text = invokeText(opened.body);
    expect(text).toContain('store room');
    expect(text).toContain('outreach depot');
    expect(JSON.stringify(opened.body)).toContain('faq.curated.answer');
    expect(JSON.stringify(opened.body)).not.toContain('<b>');
  });
});

/** `my data` as `u`, in their chat: the file behind the link sent there, parsed. */
async function myData(u: TestUser): Promise<{ faq: Record<string, unknown[]> }> {
  return JSON.parse((await askMyData(app, connector, u)).file) as { faq: Record<string, unknown[]> };
}

describe('my data and curated answers', () => {
  it("the champion's file has the answers they wrote; the asker's has their question and that they were sent an answer, naming no champion", async () => {
    const ivo: TestUser = { id: '29:ivo', aadObjectId: 'aad-ivo', name: 'Ivo Petrov' };
    const question = 'who refills the first aid box in the district office';
    const groupId = await openGap(ivo, question);
    const answered = await execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'The office manager, monthly.' }, inChat(USERS.champion));
    expect(invokeText(answered.body)).toContain('Saved.');
    await app.settled();

    const champion = await myData(USERS.champion);
    expect(JSON.stringify(champion.faq.answersWritten)).toContain('The office manager, monthly.');
    const asker = await myData(ivo);
    expect(JSON.stringify(asker.faq.questionsAsked)).toContain(question);
    expect(asker.faq.answersSentToYou).toHaveLength(1);
    expect(JSON.stringify(asker)).not.toContain(USERS.champion.name);
  });
});

describe('Save the change pressed twice at once', () => {
  it('saves once, and neither press tells the champion that someone else changed the answer', async () => {
    const created = await store.create({ question: 'can the tablet print receipts over bluetooth', answer: 'No.' }, hana);
    const press = () =>
      execute(app, USERS.champion, 'faq.curated.edit', { curatedId: created.id, version: 1, answer: 'Yes: pair the printer under Settings, Devices.' }, inChat(USERS.champion));
    const replies = (await Promise.all([press(), press()])).map((r) => invokeText(r.body));
    for (const text of replies) {
      expect(text).not.toContain('Someone changed');
      expect(text).toContain('Saved');
    }
    expect(await store.get(created.id)).toMatchObject({ version: 2, answer: 'Yes: pair the printer under Settings, Devices.' });
  });
});

describe('Save the change pressed again after the first press stopped before its corrections were queued', () => {
  it('the second press queues them: the asker sent the earlier answer gets the corrected one, once', async () => {
    const asker: TestUser = { id: '29:lena', aadObjectId: 'aad-lena', name: 'Lena' };
    const groupId = await openGap(asker, 'which drawer holds the spare tablet chargers at the depot');
    const answered = await execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'The top drawer.' }, inChat(USERS.champion));
    expect(invokeText(answered.body)).toContain('Saved. 1 person who asked gets');
    const answer = (await store.active()).find((a) => a.groupId === groupId)!;
    const press = () =>
      execute(app, USERS.champion, 'faq.curated.edit', { curatedId: answer.id, version: answer.version, answer: 'The bottom drawer, left side.' }, inChat(USERS.champion));
    // The first press's turn stops between saving the change and queueing the corrections.
    const enqueue = app.outbox.enqueue.bind(app.outbox);
    const spy = vi.spyOn(app.outbox, 'enqueue').mockImplementationOnce(() => Promise.reject(new Error('storage is not answering')));
    try {
      expect(invokeText((await press()).body)).not.toContain('Saved');
    } finally {
      spy.mockImplementation(enqueue);
    }
    spy.mockRestore();
    expect(await store.get(answer.id)).toMatchObject({ version: answer.version + 1, answer: 'The bottom drawer, left side.' });
    // Pressed again on the same card: saved, and the one sent the earlier answer is counted.
    expect(invokeText((await press()).body)).toContain('1 person who was sent the earlier answer gets the new one');
    await app.settled();
    await app.broadcast.runner.idle();
    const corrected = () => connector.sentTo(`a:chat-${asker.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('bottom drawer, left side'));
    await connector.waitFor(() => corrected().length > 0, 20_000);
    // Once more (Teams' retry, or the champion again): saved, and this press is not said to send anyone anything.
    const third = invokeText((await press()).body);
    expect(third).toContain('Saved');
    expect(third).not.toContain('gets the new one');
    await app.settled();
    await app.broadcast.runner.idle();
    await app.settled();
    expect(corrected()).toHaveLength(1);
  });
});

describe('Save the change pressed on a card drawn since, with the text left as it is', () => {
  it('says nothing changed, and nobody is sent a "corrected" answer — not even who was first sent this text', async () => {
    const asker: TestUser = { id: '29:noor', aadObjectId: 'aad-noor', name: 'Noor' };
    const groupId = await openGap(asker, 'where do we return the loaned badge printers after the depot audit');
    const answered = await execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'To the front desk.' }, inChat(USERS.champion));
    expect(invokeText(answered.body)).toContain('Saved. 1 person who asked gets');
    const answer = (await store.active()).find((a) => a.groupId === groupId)!;
    const edit = (version: number) =>
      execute(app, USERS.champion, 'faq.curated.edit', { curatedId: answer.id, version, answer: 'To the loans office, room 4.' }, inChat(USERS.champion));
    expect(invokeText((await edit(answer.version)).body)).toContain('1 person who was sent the earlier answer gets the new one');
    await app.settled();
    await app.broadcast.runner.idle();
    const corrected = () => connector.sentTo(`a:chat-${asker.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('loans office, room 4'));
    await connector.waitFor(() => corrected().length > 0, 20_000);
    // The champion opens Edit again (a card at the new version) and presses Save without changing anything.
    const unchanged = invokeText((await edit(answer.version + 1)).body);
    expect(unchanged).toContain('Nothing changed');
    expect(unchanged).not.toContain('gets the new one');
    await app.settled();
    await app.broadcast.runner.idle();
    await app.settled();
    expect(corrected()).toHaveLength(1);
    expect(await store.get(answer.id)).toMatchObject({ version: answer.version + 1 });
  });
});

describe('Save the change pressed on a card drawn since, after the first press stopped before its corrections were queued', () => {
  it('queues them: the asker sent the earlier answer gets the corrected one, once, and a Save after that says nothing changed', async () => {
    const asker: TestUser = { id: '29:oda', aadObjectId: 'aad-oda', name: 'Oda' };
    const groupId = await openGap(asker, 'which cupboard keeps the spare cool boxes at the clinic store');
    const answered = await execute(app, USERS.champion, 'faq.curated.answer', { groupId, answer: 'The blue cupboard.' }, inChat(USERS.champion));
    expect(invokeText(answered.body)).toContain('Saved. 1 person who asked gets');
    const answer = (await store.active()).find((a) => a.groupId === groupId)!;
    const edit = (version: number) =>
      execute(app, USERS.champion, 'faq.curated.edit', { curatedId: answer.id, version, answer: 'The grey cupboard behind the door.' }, inChat(USERS.champion));
    // The first press's turn stops between saving the change and queueing the corrections.
    const spy = vi.spyOn(app.outbox, 'enqueue').mockImplementationOnce(() => Promise.reject(new Error('storage is not answering')));
    try {
      expect(invokeText((await edit(answer.version)).body)).not.toContain('Saved');
    } finally {
      spy.mockRestore();
    }
    // The champion opens Edit again (a card at the new version, showing the new text) and presses Save as it is.
    const fresh = invokeText((await edit(answer.version + 1)).body);
    expect(fresh).toContain('1 person who was sent the earlier answer gets the new one');
    await app.settled();
    await app.broadcast.runner.idle();
    const corrected = () => connector.sentTo(`a:chat-${asker.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('grey cupboard behind the door'));
    await connector.waitFor(() => corrected().length > 0, 20_000);
    // Once they are queued, the same Save from either card sends nobody anything, and says so.
    expect(invokeText((await edit(answer.version + 1)).body)).toContain('Nothing changed');
    const old = invokeText((await edit(answer.version)).body);
    expect(old).toContain('Saved');
    expect(old).not.toContain('gets the new one');
    await app.settled();
    await app.broadcast.runner.idle();
    await app.settled();
    expect(corrected()).toHaveLength(1);
  });
});
