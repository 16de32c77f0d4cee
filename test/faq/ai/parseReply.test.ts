import { describe, expect, it } from 'vitest';
import { parseModelReply } from '../../../src/faq/ai/parseReply.js';
import { buildMessages, MAX_QUESTION_CHARS, neutralise } from '../../../src/faq/ai/prompt.js';
import type { AnswerCandidate } from '../../../src/faq/ai/types.js';
import { candidates, validIds } from './fixtures.js';

const parse = (value: unknown) => parseModelReply(JSON.stringify(value), candidates);

describe('parseModelReply', () => {
  it('accepts an answer citing real ids, trimming text and citations', () => {
    expect(parse({ answer: '  Ask your champion. ', citations: [` ${validIds[2]} `] })).toEqual({
      kind: 'answer',
      text: 'Ask your champion.',
      citations: [validIds[2]],
    });
  });

  it('reads JSON wrapped in a code fence (some compatible servers do that)', () => {
    const content = `\`\`\`json\n${JSON.stringify({ notCovered: true })}\n\`\`\``;
    expect(parseModelReply(content, candidates)).toEqual({ kind: 'not-covered' });
  });

  it('treats a wrong shape as an error and bad citations as invalid-citation', () => {
    expect(parse([1, 2])).toMatchObject({ kind: 'fallback', reason: 'error' });
    expect(parse({ text: 'hi', citations: [validIds[0]] })).toMatchObject({
      kind: 'fallback',
      reason: 'error',
    });
    expect(parse({ answer: 'hi', citations: validIds[0] })).toMatchObject({
      kind: 'fallback',
      reason: 'invalid-citation',
    });
    expect(parse({ answer: 'hi', citations: [42] })).toMatchObject({
      kind: 'fallback',
      reason: 'invalid-citation',
    });
    expect(parse({ notCovered: 'yes' })).toMatchObject({ kind: 'fallback', reason: 'error' });
  });

  it('maps a neutralised display id back to the candidate id', () => {
    const odd: AnswerCandidate[] = [{ id: 'faq.md#a<b>"c"', docTitle: 'FAQ', heading: 'a<b>', text: 'x' }];
    const user = buildMessages('q', odd)[1]!.content;
    const shown = /<section id="([^"]*)">/.exec(user)?.[1];
    expect(shown).toBe('faq.md#a‹b›\u201Dc\u201D');
    expect(parseModelReply(JSON.stringify({ answer: 'x', citations: [shown] }), odd)).toEqual({
      kind: 'answer',
      text: 'x',
      citations: ['faq.md#a<b>"c"'],
    });
  });
});

describe('neutralise', () => {
  it('folds lookalike brackets, drops control and bidi characters, and caps the length', () => {
    expect(neutralise('a＜b＞c<d>\u0007\u202Ee', 100)).toBe('a‹b›c‹d›e');
    expect(neutralise('x'.repeat(MAX_QUESTION_CHARS + 50), MAX_QUESTION_CHARS)).toHaveLength(
      MAX_QUESTION_CHARS + 1,
    );
  });
});
