import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ModelAnswerer } from '../../../src/faq/ai/answerer.js';
import { createModelClient } from '../../../src/faq/ai/client.js';
import type { OpenAIModelConfig } from '../../../src/faq/ai/modelConfig.js';
import { SYSTEM_PROMPT } from '../../../src/faq/ai/prompt.js';
import { type OpenAIStub, rateLimited, serverError, startOpenAIStub } from '../../support/openai-stub.js';
import { candidates, modelJson, openAIConfig, recordingLogger, validIds } from './fixtures.js';

let stub: OpenAIStub;
beforeAll(async () => {
  stub = await startOpenAIStub();
});
afterAll(() => stub.close());
beforeEach(() => {
  stub.requests.length = 0;
});

function answererFor(overrides: Partial<OpenAIModelConfig> = {}) {
  const cfg = openAIConfig(stub, overrides);
  const log = recordingLogger();
  return { answerer: new ModelAnswerer(createModelClient(cfg), cfg, log), log, cfg };
}

const question = 'the report button is grey';

describe('ModelAnswerer against the OpenAI stub', () => {
  it('returns the answer with its validated citations', async () => {
    stub.reply(() =>
      modelJson({
        answer: 'Fill every required field and fix the failed checks; the Submit button then turns active.',
        citations: ['monthly-report.md#submit-button-is-grey'],
      }),
    );
    const { answerer, log } = answererFor();
    const result = await answerer.answer(question, candidates);
    expect(result).toEqual({
      kind: 'answer',
      text: 'Fill every required field and fix the failed checks; the Submit button then turns active.',
      citations: ['monthly-report.md#submit-button-is-grey'],
    });
    expect(log.entries).toEqual([]);

    // What went over the wire: the model, JSON mode, the fixed system prompt, every section id.
    expect(stub.requests).toHaveLength(1);
    const sent = stub.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe(`Bearer ${stub.apiKey}`);
    const body = sent.body as {
      model: string;
      response_format: unknown;
      messages: { role: string; content: string }[];
    };
    expect(body.model).toBe('gpt-test');
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body.messages[0]).toEqual({ role: 'system', content: SYSTEM_PROMPT });
    for (const id of validIds) expect(body.messages[1]!.content).toContain(`<section id="${id}">`);
  });

  it('drops duplicate citations but keeps the answer', async () => {
    const id = 'roles.md#district-access';
    stub.reply(() => modelJson({ answer: 'Ask your district champion.', citations: [id, id] }));
    const { answerer } = answererFor();
    expect(await answerer.answer('i cant see my district', candidates)).toEqual({
      kind: 'answer',
      text: 'Ask your district champion.',
      citations: [id],
    });
  });

  it('falls back with invalid-citation when a citation is not among the candidates', async () => {
    stub.reply(() =>
      modelJson({ answer: 'Press F5.', citations: ['monthly-report.md#deadlines', 'troubleshooting.md#f5'] }),
    );
    const { answerer, log } = answererFor();
    expect(await answerer.answer(question, candidates)).toEqual({
      kind: 'fallback',
      reason: 'invalid-citation',
    });
    expect(log.entries[0]?.details.reason).toBe('invalid-citation');
  });

  it('falls back with invalid-citation when the answer cites nothing', async () => {
    stub.reply(() => modelJson({ answer: 'Fill in all fields.', citations: [] }));
    const { answerer } = answererFor();
    expect(await answerer.answer(question, candidates)).toEqual({
      kind: 'fallback',
      reason: 'invalid-citation',
    });

    stub.reply(() => modelJson({ answer: 'Fill in all fields.' }));
    expect(await answerer.answer(question, candidates)).toEqual({
      kind: 'fallback',
      reason: 'invalid-citation',
    });
  });

  it('returns not-covered when the model says the sections do not cover it', async () => {
    stub.reply(() => modelJson({ notCovered: true }));
    const { answerer } = answererFor();
    expect(await answerer.answer('what is the canteen menu', candidates)).toEqual({ kind: 'not-covered' });
  });

  it('falls back with error when the content is not JSON', async () => {
    stub.reply(() => ({ content: 'Sure! The button is grey because {answer: oops' }));
    const { answerer, log } = answererFor();
    expect(await answerer.answer(question, candidates)).toEqual({ kind: 'fallback', reason: 'error' });
    expect(log.entries[0]?.details.problem).toBe('content is not JSON');
  });

  it('falls back with empty when the model returns no content or a blank answer', async () => {
    stub.reply(() => ({ content: null }));
    const { answerer } = answererFor();
    expect(await answerer.answer(question, candidates)).toEqual({ kind: 'fallback', reason: 'empty' });

    stub.reply(() => modelJson({ answer: '  ', citations: [validIds[0]] }));
    expect(await answerer.answer(question, candidates)).toEqual({ kind: 'fallback', reason: 'empty' });
  });

  // The model answers after 30 s: a call back in under 10 s gave up at its own bound instead of waiting for it
  // (bounds this wide hold on a loaded machine and still fail if the timeout is not applied).
  it('falls back with timeout when the model is slower than timeoutMs, and returns on time', async () => {
    stub.reply(() => ({ delayMs: 30_000, ...modelJson({ notCovered: true }) }));
    const { answerer, log } = answererFor({ timeoutMs: 300 });
    const started = performance.now();
    const result = await answerer.answer(question, candidates);
    const elapsed = performance.now() - started;
    expect(result).toEqual({ kind: 'fallback', reason: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(10_000);
    expect(log.entries[0]?.details.reason).toBe('timeout');
  });

  it("treats the caller's abort signal like the timeout", async () => {
    stub.reply(() => ({ delayMs: 30_000, ...modelJson({ notCovered: true }) }));
    const { answerer } = answererFor({ timeoutMs: 25_000 });
    const started = performance.now();
    const result = await answerer.answer(question, candidates, { signal: AbortSignal.timeout(200) });
    expect(result).toEqual({ kind: 'fallback', reason: 'timeout' });
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('falls back with rate-limited on a 429 at once, without waiting out Retry-After', async () => {
    stub.reply(() => rateLimited(30));
    const { answerer, log } = answererFor();
    const started = performance.now();
    expect(await answerer.answer(question, candidates)).toEqual({ kind: 'fallback', reason: 'rate-limited' });
    expect(performance.now() - started).toBeLessThan(10_000); // not the 30 s Retry-After
    expect(stub.requests).toHaveLength(1);
    expect(log.entries[0]?.details).toMatchObject({ reason: 'rate-limited', status: 429 });
  });

  it('falls back with error on a 500, after one retry', async () => {
    stub.reply(() => serverError());
    const { answerer, log } = answererFor();
    expect(await answerer.answer(question, candidates)).toEqual({ kind: 'fallback', reason: 'error' });
    expect(stub.requests).toHaveLength(2);
    expect(log.entries[0]?.details).toMatchObject({ reason: 'error', status: 500 });
  });

  it('recovers when the one retry after a 500 succeeds', async () => {
    stub.reply((_req, index) =>
      index === 0
        ? serverError()
        : modelJson({ answer: 'Due on the 5th working day.', citations: [validIds[1]] }),
    );
    const { answerer } = answererFor();
    expect(await answerer.answer('when is the report due', candidates)).toEqual({
      kind: 'answer',
      text: 'Due on the 5th working day.',
      citations: [validIds[1]],
    });
    expect(stub.requests).toHaveLength(2);
  });

  it('falls back with error on a wrong key (401), and never logs the key', async () => {
    const wrongKey = 'sk-wrong-key-abcdef123456';
    const { answerer, log } = answererFor({ apiKey: wrongKey });
    expect(await answerer.answer(question, candidates)).toEqual({ kind: 'fallback', reason: 'error' });
    expect(stub.requests).toHaveLength(1); // a 401 is not retried
    expect(log.entries[0]?.details).toMatchObject({ reason: 'error', status: 401, code: 'invalid_api_key' });
    expect(log.text()).not.toContain(wrongKey);
    expect(log.text()).not.toContain('3456'); // not even the masked tail the API quotes back
  });

  it('falls back with error when the server is unreachable', async () => {
    const { answerer } = answererFor({ baseURL: 'http://127.0.0.1:9/v1' });
    expect(await answerer.answer(question, candidates)).toEqual({ kind: 'fallback', reason: 'error' });
  });

  it('does not call the model when there are no candidates', async () => {
    const { answerer } = answererFor();
    expect(await answerer.answer(question, [])).toEqual({ kind: 'not-covered' });
    expect(stub.requests).toHaveLength(0);
  });
});
