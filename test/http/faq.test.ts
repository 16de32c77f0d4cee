import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { activity, execute, invokeText, post, readable, say, startTestApp, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

let app: App;
let connector: RecordingConnector;
let guidanceDir: string;

beforeAll(async () => {
  guidanceDir = mkdtempSync(path.join(tmpdir(), 'rd-guidance-'));
  cpSync('sample/guidance', guidanceDir, { recursive: true });
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp({
    GUIDANCE_DIR: guidanceDir,
    GUIDANCE_BASE_URL: 'https://guide.example.org/fl',
  }));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

function answerCardOf(replies: Awaited<ReturnType<typeof say>>) {
  const card = replies.find((r) => r.attachments?.length)?.attachments?.[0]?.content as Record<
    string,
    unknown
  >;
  return card;
}

function questionIdOf(card: Record<string, unknown>): string {
  const m = /"questionId":"([^"]+)"/.exec(JSON.stringify(card));
  return m?.[1] ?? '';
}

describe('asking the bot in personal chat', () => {
  it('answers a staff question from the sample guidance, citing the section with a link', async () => {
    const replies = await say(app, USERS.staff, 'the submit button on my monthly report is grey');
    const text = readable(replies);
    expect(text).toContain('Source:');
    expect(text).toMatch(/Submitting the monthly report › [^\n]*(grey|Submit)/i);
    expect(JSON.stringify(replies)).toContain('https://guide.example.org/fl/submitting-the-monthly-report#');
  });

  it('sends a typing indicator before the answer', async () => {
    const res = await post(app, activity(USERS.staff, { text: 'how do I sync when offline' }));
    const types = (res.json.activities as { type: string }[]).map((a) => a.type);
    expect(types[0]).toBe('typing');
    expect(types).toContain('message');
  });

  it('says plainly when the guidance does not cover a question, and offers to log it', async () => {
    const replies = await say(app, USERS.staff, 'what is the canteen menu on friday');
    const text = readable(replies);
    expect(text).toContain("doesn't cover this");
    expect(text).toContain('Log this as an issue');
  });

  it('says a question in another language is answered in English only, offers to log it, and notes no gap', async () => {
    for (const question of ['Comment puis-je synchroniser ma tablette hors ligne ?', 'Ninawezaje kusawazisha kompyuta kibao bila mtandao?', '如何在离线时同步平板电脑？']) {
      const text = readable(await say(app, USERS.staff, question));
      expect(text, question).toContain('I can only answer questions in English; the guidance is written in English.');
      expect(text, question).toContain('Log this as an issue');
      expect(text, question).not.toContain("doesn't cover this");
    }
    const gaps = readable(await say(app, USERS.champion, 'gaps'));
    expect(gaps).not.toMatch(/tablette|kusawazisha|平板/);
    // An English question the guidance lacks is still a gap, said as before.
    expect(readable(await say(app, USERS.staff, 'what is the canteen menu on monday'))).toContain("doesn't cover this");
  });

  it('escapes markdown and mentions in the question shown back', async () => {
    const replies = await say(app, USERS.staff, '<at>Boss</at> **urgent** canteen menu?');
    const text = readable(replies);
    expect(text).not.toContain('<at>Boss</at>');
    expect(text).not.toContain('**urgent**');
    expect(text).toContain('∗∗urgent∗∗');
  });

  it('a thank-you, a greeting or an emoji is not logged as an unanswered question for the champions', async () => {
    const chat = ['thanks', 'Thank you so much!', 'ok 👍', 'hi', '🙏🙏', '???'];
    for (const text of chat) {
      const reply = readable(await say(app, USERS.staff, text));
      expect(reply).not.toContain("doesn't cover");
      expect(reply).toMatch(/ask .*in your own words/i);
    }
    const gaps = (await app.faq.gaps(1)).flatMap((g) => g.questions);
    expect(gaps.filter((q) => chat.includes(q))).toEqual([]);
    // A one-word question is still a question.
    expect(readable(await say(app, USERS.staff, 'sync'))).toContain('Source:');
  });

  it('a question Teams sends as HTML (formatted text) is read and shown as the words typed, without tags', async () => {
    const replies = await say(app, USERS.staff, '<p>the submit button is <strong>greyed out</strong> &amp; I can&#39;t send</p>', {
      textFormat: 'xml',
    });
    const text = readable(replies);
    expect(text).toContain("You asked: the submit button is greyed out & I can't send");
    expect(text).toMatch(/Submitting the monthly report › /);
  });

  it('a formatted question or command keeps none of the controls its numeric entities name (logged, and in the report form, without them)', async () => {
    const replies = await say(app, USERS.staff, '<p>the submit button on my &#8238;monthly report&#8236; is grey &#55357; &#1;x</p>', {
      textFormat: 'xml',
    });
    const q = await app.faq.getQuestion(questionIdOf(answerCardOf(replies)));
    expect(q?.question).toBeDefined();
    // Each named code point as hex: a direction override, a lone surrogate or a control is not text anyone typed.
    const codes = [...(q?.question ?? '')].map((c) => c.codePointAt(0)!.toString(16));
    expect(codes.filter((c) => ['202e', '202c', 'd83d', '1'].includes(c))).toEqual([]);
    expect(q?.question).toBe('the submit button on my monthly report is grey \uFFFD x');

    // A command's words too: the report form is filled in with the description as cleaned.
    const form = JSON.stringify(await say(app, USERS.staff, '<p>report printer &#8238;jams&#8236; &#55357; &#1;x</p>', { textFormat: 'xml' }));
    expect(form).toContain('issue.submit');
    expect(form).toContain('printer jams \uFFFD x');
    // As JSON escapes them: a control character, half a surrogate pair; and the direction override itself.
    expect(form.match(/\\u0001|\\ud83d|\u202e|\u202c/gi)).toBeNull();
  });

  it('a guidance card sent back to the bot without words gets no reply (not the help card, not an answer)', async () => {
    const card = { contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.5', body: [] } };
    const res = await post(app, activity(USERS.staff, { attachments: [card] }));
    expect(res.status).toBe(200);
    expect(((res.json.activities as { type: string }[] | undefined) ?? []).filter((a) => a.type === 'message')).toEqual([]);
  });

  it('a half-covered answer still says what the guidance does not cover after the asker gives feedback', async () => {
    const replies = await say(app, USERS.staff, 'how do I sync my tablet and what is the canteen menu on friday');
    expect(readable(replies)).toContain("The guidance doesn't cover: “what is the canteen menu on friday”");
    const res = await execute(app, USERS.staff, 'faq.notHelpful', { questionId: questionIdOf(answerCardOf(replies)) });
    expect(invokeText(res.body)).toContain('Thanks for telling us');
    expect(invokeText(res.body)).toContain("The guidance doesn't cover: “what is the canteen menu on friday”");
  });

  it('thanks the user for Helpful and records it', async () => {
    const replies = await say(app, USERS.staff, 'my tablet storage is full what do I delete');
    const qid = questionIdOf(answerCardOf(replies));
    expect(qid).not.toBe('');
    const res = await execute(app, USERS.staff, 'faq.helpful', { questionId: qid });
    expect(res.status).toBe(200);
    expect(invokeText(res.body)).toContain('glad it helped');
    const q = await app.faq.getQuestion(qid);
    expect(q?.helpful).toBe(1);
  });

  it('points to office hours from the live schedule, in a new message', async () => {
    const res = await execute(app, USERS.staff, 'faq.officeHours', { questionId: 'x' }, { serviceUrl: connector.url });
    expect(invokeText(res.body)).toMatch(/next office hours are below/);
    await connector.waitFor((calls) => calls.some((c) => JSON.stringify(c.body).includes('Next office hours')));
  });
});

describe('what the asker typed, shown back', () => {
  /** Direction embeddings, overrides and isolates: left open, they reverse the rest of the bot's line. */
  const DIRECTION = /[\u202A-\u202E\u2066-\u2069]/;

  it('a direction override or isolate in a question is neither shown back on the answer card nor stored', async () => {
    // "grey" written backwards under a right-to-left override, and an isolate left open at the end.
    const replies = await say(app, USERS.staff, 'the submit button on my monthly report is \u202Eyerg\u202C\u2028today \u2067really');
    const card = answerCardOf(replies);
    expect(readable(replies)).toMatch(/Submitting the monthly report › /);
    expect(JSON.stringify(card)).not.toMatch(DIRECTION);
    // A line separator would start a line of its own inside the bot's "You asked:" line.
    expect(readable(replies)).toContain('You asked: the submit button on my monthly report is yerg today really');
    const stored = await app.faq.getQuestion(questionIdOf(card));
    expect(stored?.question).toBe('the submit button on my monthly report is yerg today really');
  });

  it('a question over 500 characters is answered from its first 500, and the asker is told so', async () => {
    const long = `the submit button on my monthly report is grey ${'and I have tried everything I can think of '.repeat(12)}`;
    expect(long.length).toBeGreaterThan(500);
    const text = readable(await say(app, USERS.staff, long));
    expect(text).toMatch(/Submitting the monthly report › /);
    expect(text).toContain('Your question was long; I read its first 500 characters.');
    // One the guidance does not cover is told too.
    const uncovered = readable(await say(app, USERS.staff, `what is the canteen menu on friday ${'with the soup and the bread '.repeat(20)}`));
    expect(uncovered).toContain("doesn't cover this");
    expect(uncovered).toContain('Your question was long; I read its first 500 characters.');
    // A question of 500 characters exactly is read whole: no such line.
    const exact = `the submit button on my monthly report is grey ${'x'.repeat(500)}`.slice(0, 500);
    expect(readable(await say(app, USERS.staff, exact))).not.toContain('Your question was long');
  });

  it('a long question is cut between characters, not inside an emoji (no half character is stored)', async () => {
    const question = `the submit button on my monthly report is grey ${'y'.repeat(452)}😀 more words after it`;
    const card = answerCardOf(await say(app, USERS.staff, question));
    const stored = await app.faq.getQuestion(questionIdOf(card));
    expect(stored?.question).toBeDefined();
    expect(stored!.question).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect([...stored!.question]).toHaveLength(500);
    expect(stored!.question.endsWith('😀')).toBe(true);
  });
});

describe("someone else's question id on a card (forged card data)", () => {
  const other = { id: '29:other', aadObjectId: 'aad-other', name: 'Olive Other' };
  const privateQuestion = 'my supervisor account shows the wrong district codes for kiambu';

  it('a vote on another person\'s 1:1 question is not counted and does not show their question', async () => {
    const qid = questionIdOf(answerCardOf(await say(app, USERS.staff, `${privateQuestion} and the tablet storage is full`)));
    expect(qid).not.toBe('');
    for (const verb of ['faq.helpful', 'faq.notHelpful']) {
      const res = await execute(app, other, verb, { questionId: qid });
      expect(JSON.stringify(res.body)).not.toContain('kiambu');
      expect(invokeText(res.body)).toMatch(/could not find that question/);
    }
    const q = await app.faq.getQuestion(qid);
    expect([q?.helpful, q?.notHelpful]).toEqual([0, 0]);
  });

  it('"Log this as an issue" with another person\'s question id opens an empty form, not their question', async () => {
    const qid = questionIdOf(answerCardOf(await say(app, USERS.staff, `${privateQuestion} and the tablet storage is full`)));
    const chat = { serviceUrl: connector.url, conversation: { id: 'a:olive-chat', conversationType: 'personal', tenantId: 'tenant-1' } };
    const res = await execute(app, other, 'issue.form', { questionId: qid }, chat);
    expect(invokeText(res.body)).toMatch(/Fill in the form/);
    await connector.waitFor((calls) => calls.some((c) => c.conversationId === 'a:olive-chat'));
    expect(JSON.stringify(connector.sentTo('a:olive-chat'))).not.toContain('kiambu');
  });

  it('in a channel, a colleague\'s vote on the answer in that thread counts', async () => {
    const thread = '19:support@thread.tacv2;messageid=1700000000999';
    const inThread = {
      conversation: { id: thread, conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: '19:support@thread.tacv2' } },
    };
    const qid = questionIdOf(answerCardOf(await say(app, USERS.staff, 'my tablet storage is full, what can I delete?', inThread)));
    const res = await execute(app, other, 'faq.helpful', { questionId: qid }, inThread);
    expect(invokeText(res.body)).toContain('glad it helped');
    // Someone in the channel's root (Teams may name the conversation without the thread) counts too.
    const root = { ...inThread, conversation: { ...inThread.conversation, id: '19:support@thread.tacv2' } };
    await execute(app, USERS.lead, 'faq.helpful', { questionId: qid }, root);
    expect((await app.faq.getQuestion(qid))?.helpful).toBe(2);
    // From another channel the id is refused like any unknown one.
    const elsewhere = { ...inThread, conversation: { ...inThread.conversation, id: '19:other@thread.tacv2;messageid=1' } };
    const refused = await execute(app, USERS.champion, 'faq.notHelpful', { questionId: qid }, elsewhere);
    expect(invokeText(refused.body)).toMatch(/could not find that question/);
    expect((await app.faq.getQuestion(qid))?.notHelpful).toBe(0);
  });
});

describe('asking in a channel', () => {
  it('answers an @mention in the thread it was asked in', async () => {
    const thread = '19:support@thread.tacv2;messageid=1700000000000';
    const res = await post(
      app,
      activity(USERS.staff, {
        text: '<at>Rollout Desk</at> my tablet storage is full, what can I delete?',
        entities: [{ type: 'mention', text: '<at>Rollout Desk</at>', mentioned: { id: '28:bot', name: 'Rollout Desk' } }],
        conversation: { id: thread, conversationType: 'channel', tenantId: 'tenant-1' },
        channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: '19:support@thread.tacv2' } },
      }),
    );
    const replies = (res.json.activities as { type: string; conversation: { id: string } }[]).filter((a) => a.type === 'message');
    expect(replies).toHaveLength(1);
    expect(replies[0]?.conversation.id).toBe(thread);
    expect(readable(replies as never)).toMatch(/Source: .*storage/i);
    expect(readable(replies as never)).not.toContain('<at>');
  });
});

describe('gaps', () => {
  it('is refused to staff, on the command and on a forged card action', async () => {
    expect(readable(await say(app, USERS.staff, 'gaps'))).toMatch(/champions/);
    const forged = await execute(app, USERS.staff, 'faq.gaps', { days: 7, page: 1 });
    expect(invokeText(forged.body)).toMatch(/champions/);
    expect(invokeText(forged.body)).not.toContain('Guidance gaps');
  });

  it('shows champions the unanswered questions grouped with counts', async () => {
    await say(app, USERS.staff, 'what is on the canteen menu this friday');
    await say(app, USERS.lead, 'canteen menu for friday?');
    const text = readable(await say(app, USERS.champion, 'gaps 7'));
    expect(text).toContain('Guidance gaps — last 7 days');
    // Earlier tests asked about the canteen too: all of them are one group, from two people.
    expect(text).toMatch(/canteen menu[^\n]*\nAsked [2-9] times by 2 people/);
  });

  it('explains the usage on a bad argument', async () => {
    expect(readable(await say(app, USERS.champion, 'gaps lots'))).toMatch(/Usage/);
  });
});

describe('guidance search (message extension)', () => {
  const query = (user: (typeof USERS)[keyof typeof USERS], text: string) =>
    post(
      app,
      activity(user, {
        type: 'invoke',
        name: 'composeExtension/query',
        value: { commandId: 'searchGuidance', parameters: [{ name: 'query', value: text }] },
        deliveryMode: undefined,
      }),
    );

  it('finds guidance sections for a champion', async () => {
    const res = await query(USERS.champion, 'pending upload sync');
    const attachments = (res.json.composeExtension as { attachments: unknown[] }).attachments;
    expect(attachments.length).toBeGreaterThan(0);
    expect(JSON.stringify(attachments[0])).toMatch(/sync|upload/i);
  });

  const titles = async (text: string, queryOptions?: unknown) => {
    const res = await post(
      app,
      activity(USERS.champion, {
        type: 'invoke',
        name: 'composeExtension/query',
        value: { commandId: 'searchGuidance', parameters: [{ name: 'query', value: text }], queryOptions },
        deliveryMode: undefined,
      }),
    );
    expect(res.status).toBe(200);
    const attachments = (res.json.composeExtension as { attachments: { preview: { content: { title: string } } }[] }).attachments;
    return attachments.map((a) => a.preview.content.title);
  };

  it('gives cards that, sent into someone\'s chat, show the passage and its source, not "You asked: <the search words>"', async () => {
    const res = await query(USERS.champion, 'pending upload sync');
    const cards = (res.json.composeExtension as { attachments: { content: unknown }[] }).attachments.map((a) => a.content);
    expect(cards.length).toBeGreaterThan(0);
    for (const card of cards) {
      const text = readable([{ type: 'message', attachments: [{ contentType: 'card', content: card as Record<string, unknown> }] }]);
      expect(text).not.toContain('You asked');
      expect(text).toContain('Source:');
    }
  });

  it('pages with skip and count: scrolling on never repeats a result, odd paging values read as the first page', async () => {
    const first = await titles('sync tablet upload photos', { skip: 0, count: 3 });
    expect(first).toHaveLength(3);
    const second = await titles('sync tablet upload photos', { skip: 3, count: 3 });
    expect(second.length).toBeGreaterThan(0);
    expect(second.filter((t) => first.includes(t))).toEqual([]);
    expect(await titles('sync tablet upload photos', { skip: 1e12, count: 25 })).toEqual([]);
    expect(await titles('sync tablet upload photos', { skip: 25, count: 25 })).toEqual([]);
    for (const odd of [{ skip: -5, count: -1 }, { skip: 'x', count: {} }, undefined]) {
      expect((await titles('sync tablet upload photos', odd))[0]).toBe(first[0]);
    }
  });

  it('a huge query gets results small enough for Teams to show', async () => {
    const res = await query(USERS.champion, 'how do I sync my tablet '.repeat(20_000));
    expect(res.status).toBe(200);
    const attachments = (res.json.composeExtension as { attachments: unknown[] }).attachments;
    expect(attachments.length).toBeGreaterThan(0);
    for (const a of attachments) expect(JSON.stringify(a).length).toBeLessThan(20_000);
  });

  it('a parameter list with entries that are not objects is refused as sent (400), not failed', async () => {
    const res = await post(
      app,
      activity(USERS.champion, {
        type: 'invoke',
        name: 'composeExtension/query',
        value: { commandId: 'searchGuidance', parameters: [null, 5, 'query'] },
        deliveryMode: undefined,
      }),
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toMatch(/parameters/);
  });

  it('returns no guidance to staff, and tells them it is for champions rather than showing "no results"', async () => {
    const res = await query(USERS.staff, 'pending upload sync');
    expect(res.status).toBe(200);
    const ext = res.json.composeExtension as { type: string; text?: string; attachments?: unknown[] };
    expect(ext.attachments ?? []).toHaveLength(0);
    expect(ext.type).toBe('message');
    expect(ext.text).toMatch(/champions and the rollout team/);
  });
});

describe('when the docs change', () => {
  it('tells the asker of a question that is now answered, in a 1:1 message, once', async () => {
    const personal = {
      serviceUrl: connector.url,
      conversation: { id: 'a:adele-chat', conversationType: 'personal', tenantId: 't' },
    };
    const before = readable(
      await say(app, USERS.staff, 'how do I book the minibus for the staff retreat', personal),
    );
    expect(before).toContain("doesn't cover this");
    writeFileSync(
      path.join(guidanceDir, 'projector.md'),
      '# Transport\n\n## Booking the minibus for a staff retreat\n\nBook the programme minibus for a retreat in the transport calendar at least a week ahead; the driver collects staff from the district office.\n',
    );
    await connector.waitFor((calls) => calls.some((c) => c.conversationId === 'a:adele-chat'), 10_000);
    const sent = connector.sentTo('a:adele-chat');
    expect(JSON.stringify(sent[0]?.body)).toContain('Booking the minibus');
    expect(JSON.stringify(sent[0]?.body)).toContain('now answers a question you asked');
    await app.library.reload();
    await new Promise((r) => setTimeout(r, 300));
    expect(connector.sentTo('a:adele-chat')).toHaveLength(1);
  });
});
