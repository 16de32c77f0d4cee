import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { activity, buttonData, execute, invokeText, post, readable, type Reply, say, startTestApp, type TestUser, USERS } from '../support/app.js';

/** A question's message deleted or edited in Teams: the question log follows what the asker now says. */

let app: App;
beforeAll(async () => {
  ({ app } = await startTestApp());
});
afterAll(async () => {
  await app?.stop();
});

/** The champions' list of unanswered questions, as the text they read. */
const gaps = async () => readable(await say(app, USERS.champion, 'gaps'));

/** A message with its own id, as Teams sends it; the replies. */
const ask = async (user: TestUser, id: string, text: string) => {
  const res = await post(app, activity(user, { id, text }));
  expect(res.status).toBe(200);
  return ((res.json.activities as Reply[] | undefined) ?? []).filter((a) => a.type === 'message');
};

/**
 * What Teams sends when `user` edits (`messageUpdate`, editMessage), deletes (`messageDelete`, softDeleteMessage) or
 * undeletes (`messageUpdate`, undeleteMessage: no text in Microsoft's example of it) message `id`.
 */
const change = async (user: TestUser, id: string, kind: 'edit' | 'delete' | 'undelete', text = '', chatOf: TestUser = user) => {
  const res = await post(
    app,
    activity(user, {
      id,
      type: kind === 'delete' ? 'messageDelete' : 'messageUpdate',
      ...(kind === 'edit' ? { text } : {}),
      conversation: { id: `a:personal-${chatOf.id}`, conversationType: 'personal', tenantId: 'tenant-1' },
      channelData: { tenant: { id: 'tenant-1' }, eventType: { edit: 'editMessage', delete: 'softDeleteMessage', undelete: 'undeleteMessage' }[kind] },
    }),
  );
  expect(res.status).toBe(200);
  return ((res.json.activities as Reply[] | undefined) ?? []).filter((a) => a.type === 'message');
};

describe('a question whose message the asker deletes', () => {
  it('leaves the gaps; someone else\'s delete of that message id changes nothing', async () => {
    expect(readable(await ask(USERS.staff, 'msg-del-1', 'what is the canteen menu on wednesday'))).toContain("doesn't cover this");
    expect(await gaps()).toContain('canteen menu on wednesday');
    // The ids come from the client: a delete sent as another person (even naming the asker's chat) is no delete.
    await change(USERS.champion, 'msg-del-1', 'delete', '', USERS.staff);
    expect(await gaps()).toContain('canteen menu on wednesday');
    await change(USERS.staff, 'msg-del-1', 'delete');
    expect(await gaps()).not.toContain('canteen menu on wednesday');
  });

  it('takes an answered question marked Not helpful out of the gaps too, and its card\'s buttons find it no more', async () => {
    const card = await ask(USERS.staff, 'msg-del-2', 'how do I sync when offline at the depot');
    expect(readable(card)).toContain('You asked');
    await execute(app, USERS.staff, 'faq.notHelpful', buttonData(card, 'faq.notHelpful'));
    expect(await gaps()).toContain('sync when offline at the depot');
    await change(USERS.staff, 'msg-del-2', 'delete');
    expect(await gaps()).not.toContain('sync when offline at the depot');
    const vote = await execute(app, USERS.staff, 'faq.notHelpful', buttonData(card, 'faq.notHelpful'));
    expect(invokeText(vote.body)).toContain('could not find that question');
    expect(await gaps()).not.toContain('sync when offline at the depot');
  });
});

describe('a question whose message the asker deletes, then undeletes', () => {
  it('is back in the gaps, once, when the asker undoes the delete; someone else\'s undelete of that message id brings nothing back', async () => {
    await ask(USERS.staff, 'msg-undel-1', 'what is the canteen menu on friday');
    await change(USERS.staff, 'msg-undel-1', 'delete');
    expect(await gaps()).not.toContain('canteen menu on friday');
    // The ids come from the client: an undelete sent as another person (naming the asker's chat) is no undelete.
    expect(await change(USERS.champion, 'msg-undel-1', 'undelete', '', USERS.staff)).toHaveLength(0);
    expect(await gaps()).not.toContain('canteen menu on friday');
    await change(USERS.staff, 'msg-undel-1', 'undelete');
    expect(await gaps()).toContain('canteen menu on friday');
    // Teams' retry of the undelete (or a second one) logs nothing more: asked once.
    await change(USERS.staff, 'msg-undel-1', 'undelete');
    expect((await gaps()).match(/canteen menu on friday/g)).toHaveLength(1);
    // Deleted again: out again.
    await change(USERS.staff, 'msg-undel-1', 'delete');
    expect(await gaps()).not.toContain('canteen menu on friday');
  });

  it('brings back an answered question with its Not helpful vote, and its answer card\'s buttons find it again', async () => {
    const card = await ask(USERS.staff, 'msg-undel-2', 'how do I sync when offline at the harbour');
    await execute(app, USERS.staff, 'faq.notHelpful', buttonData(card, 'faq.notHelpful'));
    await change(USERS.staff, 'msg-undel-2', 'delete');
    expect(await gaps()).not.toContain('sync when offline at the harbour');
    await change(USERS.staff, 'msg-undel-2', 'undelete');
    expect(await gaps()).toContain('sync when offline at the harbour');
    const vote = await execute(app, USERS.staff, 'faq.helpful', buttonData(card, 'faq.helpful'));
    expect(invokeText(vote.body)).not.toContain('could not find that question');
  });
});

describe('a question whose message the asker edits', () => {
  it('answers the edited words as the question, saying so, in place of the question logged', async () => {
    await ask(USERS.staff, 'msg-edit-1', 'what is the canteen menu on thursday');
    expect(await gaps()).toContain('canteen menu on thursday');
    const replies = await change(USERS.staff, 'msg-edit-1', 'edit', 'how do I sync when offline');
    const text = readable(replies);
    expect(text).toContain('You edited your question');
    expect(text).toContain('You asked: how do I sync when offline');
    expect(text).toMatch(/Source:/);
    // The old wording is no gap any more: the edit replaced it.
    expect(await gaps()).not.toContain('canteen menu on thursday');
    // Teams' retry of the same edit is not answered twice.
    expect(await change(USERS.staff, 'msg-edit-1', 'edit', 'how do I sync when offline')).toHaveLength(0);
  });

  it('runs no command from an edit, and answers nothing for an edit of a command or of another\'s question', async () => {
    await ask(USERS.staff, 'msg-edit-2', 'what is the canteen menu on saturday');
    // Edited into a command: not run (no form), the question as logged stays.
    expect(await change(USERS.staff, 'msg-edit-2', 'edit', 'report printer jam')).toHaveLength(0);
    expect(await gaps()).toContain('canteen menu on saturday');
    // Someone else's edit of that message id: nothing answered, nothing replaced.
    expect(await change(USERS.champion, 'msg-edit-2', 'edit', 'how do I sync when offline', USERS.staff)).toHaveLength(0);
    expect(await gaps()).toContain('canteen menu on saturday');
    // A command's message edited: it logged no question, so nothing is answered or run.
    expect(readable(await ask(USERS.staff, 'msg-edit-3', 'my issues'))).toContain('Your issues');
    expect(await change(USERS.staff, 'msg-edit-3', 'edit', 'what is the canteen menu on sunday')).toHaveLength(0);
    expect(await gaps()).not.toContain('canteen menu on sunday');
  });
});
