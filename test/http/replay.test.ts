import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { activity, execute, invokeText, post, startTestApp, USERS } from '../support/app.js';

/*
 * The reliability issue's fault list: "every activity replayed 3 times (one effect)". Teams retries a turn it thinks was
 * slow with the same activity id; whatever arrives three times must act once.
 */

let app: App;
beforeAll(async () => {
  ({ app } = await startTestApp());
});
afterAll(async () => {
  await app?.stop();
});

describe('an activity sent three times (Teams retrying with the same id)', () => {
  it('logs one issue from a report sent three times, and each attempt is told the same reference', async () => {
    const title = `Replayed report ${Date.now()}`;
    const form = {
      title,
      description: 'The tablet shows a blank screen after login.',
      location: 'Login',
      category: 'Sync / offline',
      severity: 'slows',
      site: `Replay site ${Date.now()}`,
    };
    const id = `replay-report-${Date.now()}`;
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await execute(app, USERS.staff, 'issue.logAnyway', { form }, { id }));
    const refs = answers.map((a) => /R-\d{4}/.exec(invokeText(a.body))?.[0]);
    expect(refs[0]).toMatch(/^R-\d{4}$/);
    expect(refs).toEqual([refs[0], refs[0], refs[0]]);
    const mine = await app.queries.triageQueue({});
    expect(mine.items.filter((i) => i.title === title)).toHaveLength(1);
  });

  it('records one question from a question sent three times', async () => {
    const question = `how do i sync my tablet after the replay test ${Date.now()}`;
    const a = activity(USERS.staff, { text: question, id: `replay-question-${Date.now()}` });
    for (let i = 0; i < 3; i++) expect((await post(app, a)).status).toBe(200);
    const asked = (await app.questions.recent(1)).filter((q) => q.question === question);
    expect(asked).toHaveLength(1);
  });
});
