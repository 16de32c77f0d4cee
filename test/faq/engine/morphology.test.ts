import { describe, expect, it } from 'vitest';
import { loadGuidanceDir } from '../../../src/faq/docs/load.js';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';
import { buildIndex, search } from '../../../src/faq/engine/index.js';
import { spellingVariants, withoutPrefix } from '../../../src/faq/engine/morphology.js';
import { analyzeQuery, containsSequence } from '../../../src/faq/engine/query.js';
import { stem, words } from '../../../src/faq/engine/text.js';

describe('word forms the docs do not use', () => {
  it('spells British forms the American way', () => {
    expect(spellingVariants('organisation')).toContain('organization');
    expect(spellingVariants('colour')).toContain('color');
    expect(spellingVariants('programme')).toContain('program');
    expect(spellingVariants('cancelled')).toContain('canceled');
    expect(spellingVariants('data')).toEqual([]);
  });

  it('reads a coined word without its prefix, and leaves short stems alone', () => {
    expect(withoutPrefix('resend')).toContain('send');
    expect(withoutPrefix('uninstall')).toContain('install');
    expect(withoutPrefix('autofill')).toContain('fill');
    expect(withoutPrefix('redo')).toEqual([]);
  });

  it('stems word families together that one Porter round leaves apart', () => {
    expect(stem('conditionally')).toBe(stem('conditional'));
    expect(stem('condition')).toBe(stem('conditions'));
  });

  it('keeps a mixed-case name whole as well as split ("OData" → odata, data)', () => {
    expect(words('OData and XLSForm')).toEqual(['odata', 'data', 'xlsform', 'xls', 'form']);
    expect(words('OutOfMemoryError')).toEqual(['outofmemoryerror', 'memory', 'error']);
    expect(words('Résumé list_name')).toEqual(['resume', 'list', 'name']);
  });

  it('reads an abbreviation\'s plural as one word, not as a case change ("FOs" has no stray "os")', () => {
    expect(words('the other FOs and their IDs')).toEqual(['fos', 'ids']);
  });

  it('keeps error codes whole ("FL-AUTH-423" → flauth423), however they are typed', () => {
    expect(words('Getting FL-AUTH-423 again')).toContain('flauth423');
    expect(words('fl-auth-423')).toContain('flauth423');
    expect(words('error E1102')).toContain('e1102');
    expect(words('40m accuracy, form 10')).not.toContain('m40');
  });

  it('matches a phrase with one word inside it, not two', () => {
    expect(containsSequence(['get', 'it', 'back'], ['get', 'back'], 1)).toBe(true);
    expect(containsSequence(['get', 'it', 'all', 'back'], ['get', 'back'], 1)).toBe(false);
    expect(containsSequence(['get', 'back'], ['get', 'back'], 1)).toBe(true);
    expect(containsSequence(['back', 'get'], ['get', 'back'], 1)).toBe(false);
  });
});

/** A guide written for this test, in the docs' American spelling. */
const GUIDE = `# Field app

## Sending finalized forms again

If a form was sent but the server lost it, open Sent and tap Send again.

## Changing the color of labels

Use the style column to pick a color for a label.

## Restoring a deleted project

A deleted project stays in the trash for 30 days; open the trash and press Restore.

## Conditionally showing questions

Use the relevant column so a question only shows when an earlier answer matches.

## Exporting data

Download everything as CSV from the Submissions page, or connect Excel to the OData feed.
`;

describe('questions in other word forms find the section', () => {
  const index = buildIndex(parseGuidanceDoc('app.md', GUIDE).sections);
  const top = (question: string) => search(index, question).results[0]?.section.heading;

  it('a prefixed word the docs never use ("resend")', () => {
    expect(top('can i resend it')).toBe('Sending finalized forms again');
  });

  it('British spelling ("colour") counts as the docs word itself, not as a typo', () => {
    expect(top('colour of the labels')).toBe('Changing the color of labels');
    const [colour] = analyzeQuery(index, 'colour');
    expect(colour!.alternatives).toContainEqual({ term: stem('color'), weight: 1, kind: 'variant' });
  });

  it('a phrasal verb split by its object ("get it back")', () => {
    // Nothing else in the question names restoring: only the phrase links it to the section.
    expect(top('i threw it away by mistake, can i get it back')).toBe('Restoring a deleted project');
  });

  it('a product name typed as one word ("odata")', () => {
    expect(top('odata')).toBe('Exporting data');
  });

  it('an error code alone finds the sections that mention it (sample guidance)', async () => {
    const { sections: sample } = await loadGuidanceDir('sample/guidance');
    const results = search(buildIndex(sample), 'FL-403').results.slice(0, 2);
    expect(results).toHaveLength(2);
    for (const hit of results) expect(hit.section.text).toContain('FL-403');
  });

  it('a derived form Porter stems differently ("conditional")', () => {
    expect(top('conditional question')).toBe('Conditionally showing questions');
  });
});
