import { describe, expect, it } from 'vitest';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';
import { githubSlug } from '../../../src/faq/docs/slug.js';

const DOC = `---
title: Submitting the monthly report
audience: field staff
updated: 2026-03-01
owner: M&E team
---

Read this before your first report.

# Monthly report

The report is due on the **5th** of each month. See [the timeline](timeline.md).

## Finalizing drafts

Open the draft and press *Finalize*.

Then check the \`status\` column.

### Bulk finalizing drafts

- Select several drafts
- Press **Finalize all**
  - nested step

1. first
2. second

## Goals

One.

## Goals

Two & three.

# Second top heading

> **Note:** a quoted note.

| column | meaning |
| --- | --- |
| id | the row |
`;

describe('parseGuidanceDoc', () => {
  const doc = parseGuidanceDoc('reports\\monthly.md', DOC);

  it('reads front matter and normalises the path', () => {
    expect(doc.path).toBe('reports/monthly.md');
    expect(doc.title).toBe('Submitting the monthly report');
    expect(doc.meta).toEqual({ audience: 'field staff', updated: '2026-03-01', owner: 'M&E team' });
  });

  it('keeps text before the first heading as a section named after the doc', () => {
    const first = doc.sections[0]!;
    expect(first.heading).toBe('Submitting the monthly report');
    expect(first.level).toBe(0);
    expect(first.headingPath).toEqual(['Submitting the monthly report']);
    expect(first.text).toBe('Read this before your first report.');
  });

  it('keeps the heading hierarchy', () => {
    const bulk = doc.sections.find((s) => s.heading === 'Bulk finalizing drafts')!;
    expect(bulk.headingPath).toEqual(['Monthly report', 'Finalizing drafts', 'Bulk finalizing drafts']);
    expect(bulk.level).toBe(3);
    const second = doc.sections.find((s) => s.heading === 'Second top heading')!;
    expect(second.headingPath).toEqual(['Second top heading']);
    const goals = doc.sections.filter((s) => s.heading === 'Goals');
    expect(goals.map((s) => s.headingPath)).toEqual([
      ['Monthly report', 'Goals'],
      ['Monthly report', 'Goals'],
    ]);
  });

  it('gives GitHub-style anchors, deduped within the doc, and ids built from them', () => {
    const anchors = doc.sections.map((s) => s.anchor);
    expect(anchors).toEqual([
      'submitting-the-monthly-report',
      'monthly-report',
      'finalizing-drafts',
      'bulk-finalizing-drafts',
      'goals',
      'goals-1',
      'second-top-heading',
    ]);
    expect(doc.sections[2]!.id).toBe('reports/monthly.md#finalizing-drafts');
    expect(githubSlug('Step 2: fill in translations')).toBe('step-2-fill-in-translations');
    expect(githubSlug("I filled out a form and don't see it, why?")).toBe(
      'i-filled-out-a-form-and-dont-see-it-why',
    );
  });

  it('turns markdown into readable plain text', () => {
    const text = (heading: string) => doc.sections.find((s) => s.heading === heading)!.text;
    expect(text('Monthly report')).toBe('The report is due on the 5th of each month. See the timeline.');
    expect(text('Finalizing drafts')).toBe(
      'Open the draft and press Finalize.\n\nThen check the status column.',
    );
    expect(text('Bulk finalizing drafts')).toBe(
      '- Select several drafts\n- Press Finalize all\n  - nested step\n\n1. first\n2. second',
    );
    expect(text('Second top heading')).toBe('Note: a quoted note.\n\ncolumn | meaning\nid | the row');
    expect(doc.sections.filter((s) => s.heading === 'Goals')[1]!.text).toBe('Two & three.');
  });

  it('strips inline markdown from headings', () => {
    const parsed = parseGuidanceDoc('x.md', '# The `status` **column** and [links](a.md)\n\ntext');
    expect(parsed.sections[0]!.heading).toBe('The status column and links');
  });

  it('falls back to the first H1, then the file name, for the title', () => {
    expect(parseGuidanceDoc('a/b.md', 'intro\n\n## Sub\n\n# Real title\n').title).toBe('Real title');
    const untitled = parseGuidanceDoc('a/office-hours.md', 'Just text, no headings.');
    expect(untitled.title).toBe('office-hours');
    expect(untitled.sections).toHaveLength(1);
    expect(untitled.sections[0]!.heading).toBe('office-hours');
  });

  it('ignores # lines inside code blocks', () => {
    const parsed = parseGuidanceDoc('c.md', '# Title\n\n```\n# not a heading\n```\n');
    expect(parsed.sections.map((s) => s.heading)).toEqual(['Title']);
    expect(parsed.sections[0]!.text).toBe('# not a heading');
  });

  it('throws on invalid front matter so the loader can skip the file', () => {
    expect(() => parseGuidanceDoc('bad.md', '---\ntitle: [unclosed\n---\n# x\n')).toThrow();
  });
});
