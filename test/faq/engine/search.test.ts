import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';
import { buildIndex, openFaqLibrary, search } from '../../../src/faq/engine/index.js';

/** A small rollout guide, written for this test. */
const DOCS: Record<string, string> = {
  'access.md': `# Getting access

## First login

Open the portal in your browser and sign in with your work account. The first time, you will be asked to set up two-step verification on your phone.

## Resetting your password

If you forgot your password, use the "Forgot password" link on the sign-in page. A reset link is emailed to you and stays valid for one hour.

## Roles and permissions

District officers can see the data of their own district only. Ask your regional champion to change your role if you cannot see your district.
`,
  'reporting.md': `# Monthly report

## Submitting the monthly report

Fill in every indicator, then press Submit. The Submit button stays disabled until all required indicators have a value.

## Correcting a submitted report

A submitted report can be edited until the 10th of the following month. Open it from the History tab and press Edit.
`,
  'offline.md': `# Working offline

## Entering data without internet

The app saves everything on the device while you have no connection. When the connection comes back, press Sync to send your records.

## Sync errors

If sync fails repeatedly, check the storage space on the device and restart the app.
`,
};

const sections = Object.entries(DOCS).flatMap(
  ([path, markdown]) => parseGuidanceDoc(path, markdown).sections,
);
const index = buildIndex(sections);
const top = (question: string) => search(index, question).results[0]?.section.heading;

describe('search on a small synthetic guide', () => {
  it('answers a question with the section that covers it', () => {
    const result = search(index, 'I forgot my password, how do I reset it?');
    expect(result.answered).toBe(true);
    expect(result.results[0]!.section.id).toBe('access.md#resetting-your-password');
    expect(result.confidence).toBeGreaterThan(index.tuning.answerThreshold);
  });

  it('bridges informal words to the words the docs use', () => {
    expect(top('the submit button is grey')).toBe('Submitting the monthly report');
    expect(top('i cant see my district')).toBe('Roles and permissions');
    expect(top('no signal, how do i enter data')).toBe('Entering data without internet');
    expect(top('how to fix a mistake in a report i already sent')).toBe('Correcting a submitted report');
  });

  it('repairs typos against the docs vocabulary', () => {
    expect(top('pasword resett')).toBe('Resetting your password');
    expect(top('the sycn failes every time')).toBe('Sync errors');
  });

  it('refuses an off-topic question but still lists the closest sections', () => {
    const result = search(index, 'what is on the canteen menu on friday');
    expect(result.answered).toBe(false);
    const other = search(index, 'how many days of annual leave do I have left');
    expect(other.answered).toBe(false);
    expect(Array.isArray(other.results)).toBe(true);
  });

  it('returns at most `limit` results, best first, from more than one page when unsure', () => {
    const result = search(index, 'report', { limit: 2 });
    expect(result.results).toHaveLength(2);
    expect(result.results[0]!.score).toBeGreaterThanOrEqual(result.results[1]!.score);
  });

  it('returns no results and no answer when nothing matches at all', () => {
    expect(search(index, 'zzzz qqqq')).toEqual({ answered: false, confidence: 0, results: [], offTopic: [], uncovered: [] });
    expect(search(buildIndex([]), 'anything')).toEqual({ answered: false, confidence: 0, results: [], offTopic: [], uncovered: [] });
  });
});

describe('openFaqLibrary', () => {
  it('serves a live engine index for a folder', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'faq-open-'));
    try {
      writeFileSync(path.join(dir, 'access.md'), DOCS['access.md']!);
      const library = await openFaqLibrary(dir, { pollMs: 0 });
      try {
        expect(search(library.index, 'forgot my password').results[0]!.section.heading).toBe(
          'Resetting your password',
        );
      } finally {
        library.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a question that opens with who, when, where, why or which', () => {
  const guide = parseGuidanceDoc(
    'approval.md',
    `# Monthly report

## Approving the monthly report

To approve the monthly report, open the monthly report from the review list and press Approve. Approving the monthly report locks it.

## Who approves my report?

Your district supervisor does, after reading it.
`,
  ).sections;
  const index = buildIndex(guide);

  it('prefers the section whose heading asks the same kind of question', () => {
    expect(search(index, 'who approves the monthly report').results[0]!.section.heading).toBe('Who approves my report?');
    // The same words asked as a how-to, or with "who" further in, keep the how-to section first.
    expect(search(index, 'how do i approve the monthly report').results[0]!.section.heading).toBe(
      'Approving the monthly report',
    );
    expect(search(index, 'the monthly report, who approves it').results[0]!.section.heading).toBe(
      'Approving the monthly report',
    );
  });

  it('without the bonus, the section with more of the words comes first', () => {
    const plain = buildIndex(guide, { askedLikeBonus: 0 });
    expect(search(plain, 'who approves the monthly report').results[0]!.section.heading).toBe(
      'Approving the monthly report',
    );
  });
});

describe('a question told with its context first', () => {
  const guide = parseGuidanceDoc(
    'field.md',
    `# Field work

## Battery and charging

Charge the tablet every night: a full battery lasts a day of visits. Carry the power bank on long visits.

## Is my data lost?

Records are saved as you type. Nothing you entered is lost when the app closes; open the record again to carry on.
`,
  ).sections;

  it('ranks by what is asked: "my battery died on a long visit, is the data lost" gets the data section', () => {
    const question = 'my battery died on a long visit, is the data lost';
    expect(search(buildIndex(guide), question).results[0]!.section.heading).toBe('Is my data lost?');
    // Read as one bag of words, the context's words win.
    expect(search(buildIndex(guide, { askingPartBonus: 0 }), question).results[0]!.section.heading).toBe(
      'Battery and charging',
    );
  });
});
