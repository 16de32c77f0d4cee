import { describe, expect, it } from 'vitest';
import { loadGuidanceDir } from '../../../src/faq/docs/load.js';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';
import { buildIndex, type FaqIndex, search } from '../../../src/faq/engine/index.js';
import { rawWords, uncoveredTopics } from '../../../src/faq/engine/scope.js';
import { HAS_ODK, ODK_DOCS } from './corpus.js';

/** A guide that uses the generic words off-topic questions share with it: form, submit, field, report, month. */
const sections = [
  parseGuidanceDoc(
    'reporting.md',
    `# Monthly report

## Submitting the monthly report form

Fill in every field of the monthly report form, then press Submit. Field officers submit by the 5th of the month.

## Working offline in the field

The app keeps your records on the phone while you are in the field. At the office, press Sync.

## Per diem days

Field officers who claim a per diem list the days in the Remarks box of the monthly report form.
`,
  ).sections,
].flat();
const index = buildIndex(sections);

describe('questions about everyday workplace topics', () => {
  it('are refused even when they share the docs’ generic words', () => {
    for (const question of [
      'how do i submit my travel claim form for the field trip this month',
      'who do i ask about the vpn on the field laptop',
      'my payslip for last month is wrong, which form do i fill',
    ]) {
      const result = search(index, question);
      expect(result.answered, question).toBe(false);
      expect(result.offTopic.length, question).toBeGreaterThan(0);
    }
  });

  it('are refused across HR, IT, facilities, travel and other programmes’ figures, each naming its topic', () => {
    // Everyday support-channel requests that share the guide's words (month, field, office, form, report, phone).
    const asked: [string, string][] = [
      ['how do i apply for parental leave next month', 'parental leave'],
      ['the air conditioning in the field office is broken', 'air conditioning'],
      ['can i get a fuel advance before the field trip', 'fuel advance'],
      ['the photocopier at the office jams on every report form', 'photocopier'],
      ['my email password expired, which form do i fill', 'email password'],
      ['where is the quarterly report for the ministry of health', 'quarterly report'],
      ['who approves my overtime pay for the month', 'overtime pay'],
    ];
    for (const [question, topic] of asked) {
      const result = search(index, question);
      expect(result.answered, question).toBe(false);
      expect(result.offTopic, question).toContain(topic);
    }
  });

  it('says which topic the best section does not speak of', () => {
    expect(search(index, 'how do i submit my travel claim form').offTopic).toEqual(['travel claim']);
  });

  it('are answered when the guidance speaks of the topic itself', () => {
    const result = search(index, 'where do i put my per diem days');
    expect(result.answered).toBe(true);
    expect(result.offTopic).toEqual([]);
    expect(result.results[0]!.section.heading).toBe('Per diem days');
  });

  it('are refused when the best section lacks the word that carries the question, used elsewhere in the docs', () => {
    // "phone" meets the offline section; "claim", half the question, is only in another section.
    const result = search(index, 'claim for the phone');
    expect(result.results[0]!.section.heading).toBe('Working offline in the field');
    expect(result.answered).toBe(false);
    expect(search(buildIndex(sections, { missingWordShare: 0 }), 'claim for the phone').answered).toBe(true);
    expect(search(index, 'how do i sync the phone at the office').answered).toBe(true);
  });

  it('leave an on-topic question alone', () => {
    const result = search(index, 'how do i submit the monthly report form');
    expect(result.answered).toBe(true);
    expect(result.offTopic).toEqual([]);
  });
});

describe('uncoveredTopics', () => {
  it('matches words as written, not stems: "allowances" is not "allow"', () => {
    expect(uncoveredTopics(rawWords('allow up to 5 photos'), () => [])).toEqual([]);
    expect(uncoveredTopics(rawWords('when are the allowances paid'), () => [])).toEqual(['allowances']);
  });

  it('reads a plural in a phrase as its singular; a single word stays as written', () => {
    expect(uncoveredTopics(rawWords('can I get a new office chair'), () => [])).toEqual(['office chairs']);
    expect(uncoveredTopics(rawWords('what is my annual leave allowance'), () => [])).toEqual(['annual leave']);
    expect(uncoveredTopics(rawWords('new office chair'), () => rawWords('Office chairs are ordered by the admin team'))).toEqual([]);
  });

  it('raises the workplace phrase of a survey topic, not the topic alone', () => {
    expect(uncoveredTopics(rawWords('how do i make an airtime claim'), () => [])).toEqual(['airtime claim']);
    expect(uncoveredTopics(rawWords('where do i send receipts for my per diem'), () => [])).toContain('receipts for my per diem');
    expect(uncoveredTopics(rawWords('add a question on airtime and taxi fares'), () => [])).toEqual([]);
  });

  it('matches a phrase in order only', () => {
    expect(uncoveredTopics(rawWords('leave the form annual'), () => [])).toEqual([]);
    expect(uncoveredTopics(rawWords('how much annual leave is left'), () => [])).toEqual(['annual leave']);
  });
});

describe.skipIf(!HAS_ODK)('answerable questions about a survey topic, or told with a scene-setting word, on the ODK docs', () => {
  let built: Promise<FaqIndex> | undefined;
  const odkIndex = () => (built ??= loadGuidanceDir(ODK_DOCS).then((loaded) => buildIndex(loaded.sections)));

  it('are not refused as off-topic', async () => {
    const index = await odkIndex();
    // Words a household survey asks about or a data collector's real question mentions: not workplace topics.
    const answered = [
      'how do i convert my google forms to odk',
      'the tablet has no mobile network, can i still fill forms',
      'how do i ask households about mobile money in a form',
      'can enumerators photograph receipts in a form',
      'induction training for data collectors on odk collect',
      'sign in to central with my gmail',
      'how do i install briefcase on a windows computer',
      'can i zoom in on the map to place the household location myself',
      'only show the toilet questions if the household has a toilet',
      'can we share the survey link on facebook so anyone can fill it',
      'the enumerator wears headphones, can the form record the interview audio in the background',
      'how do i monitor submissions coming in from the field',
      'can the data collector take a photo of the building',
    ];
    for (const question of answered) {
      const result = search(index, question);
      expect(result.offTopic, question).toEqual([]);
      expect(result.answered, question).toBe(true);
    }
    // The docs lack these questions' other words ("spending", "ate"), so they may still go unanswered, but not for their topic.
    for (const question of [
      'how do i add a question about airtime spending to my survey',
      'we ask households what they ate for dinner and breakfast, how do i make a repeat for each meal',
    ]) {
      expect(search(index, question).offTopic, question).toEqual([]);
    }
  });
});

describe('a question that is half covered', () => {
  const guide = buildIndex(
    parseGuidanceDoc(
      'data.md',
      `# Data

## Exporting data to Excel

Open the dashboard, choose Export and pick the Excel format. The file downloads to your computer.

## Printing the dashboard

Choose Print from the dashboard menu.
`,
    ).sections,
  );

  it('answers the covered half and says which part is not covered', () => {
    const result = search(guide, 'how do I export to Excel and make a pivot table');
    expect(result.answered).toBe(true);
    expect(result.results[0]!.section.heading).toBe('Exporting data to Excel');
    expect(result.uncovered).toEqual(['make a pivot table']);
  });

  it('still refuses when no part of it is covered', () => {
    const result = search(guide, 'how do i claim my per diem and book a hotel');
    expect(result.answered).toBe(false);
  });

  it('reports nothing uncovered for a question covered whole', () => {
    const result = search(guide, 'export the dashboard to excel');
    expect(result.answered).toBe(true);
    expect(result.uncovered).toEqual([]);
  });
});
