import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OpenAIStub, rateLimited, startOpenAIStub } from '../../support/openai-stub.js';

/** The stub itself, driven by the real SDK: if the SDK accepts it, the answerer tests mean something. */
let stub: OpenAIStub;
let client: OpenAI;
beforeAll(async () => {
  stub = await startOpenAIStub();
  client = new OpenAI({ apiKey: stub.apiKey, baseURL: stub.baseURL, maxRetries: 0 });
});
afterAll(() => stub.close());
beforeEach(() => {
  stub.requests.length = 0;
});

const messages = [{ role: 'user' as const, content: 'Say hello' }];

describe('OpenAI stub', () => {
  it('answers a chat completion shaped like the real API', async () => {
    stub.reply(() => ({ content: 'Hello there.' }));
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-test', messages })
      .withResponse();
    expect(data).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there.' }, finish_reason: 'stop' }],
    });
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.created).toBeTypeOf('number');
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('streams SSE chunks the SDK consumes with stream: true', async () => {
    const text = 'Open the Checks tab to see which field is missing.';
    stub.reply(() => ({ content: text }));
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamed = '';
    let finish: string | null = null;
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe('chat.completion.chunk');
      streamed += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(streamed).toBe(text);
    expect(finish).toBe('stop');
    expect(chunks).toBeGreaterThan(3);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(stub.requests[0]?.body).toMatchObject({ stream: true });
  });

  it('rejects a wrong key with 401 and the real error body', async () => {
    const bad = new OpenAI({ apiKey: 'sk-not-the-key-9999', baseURL: stub.baseURL, maxRetries: 0 });
    const err = await bad.chat.completions.create({ model: 'gpt-test', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    const authErr = err as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(authErr.status).toBe(401);
    expect(authErr.code).toBe('invalid_api_key');
    expect(authErr.type).toBe('invalid_request_error');
    expect(authErr.message).toMatch(/^401 Incorrect API key provided: sk-\*+9999\./);
  });

  it('sends 429 with retry-after, x-ratelimit-* headers and the real error body', async () => {
    stub.reply(() => rateLimited(7));
    const err = await client.chat.completions
      .create({ model: 'gpt-test', messages })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rl = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rl.code).toBe('rate_limit_exceeded');
    expect(rl.headers.get('retry-after')).toBe('7');
    expect(rl.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(rl.headers.get('x-ratelimit-reset-requests')).toBe('7s');
  });

  it('sends 500 as InternalServerError', async () => {
    stub.reply(() => ({
      status: 500,
      body: { error: { message: 'boom', type: 'server_error', param: null, code: null } },
    }));
    const err = await client.chat.completions
      .create({ model: 'gpt-test', messages })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('refuses json_object mode when no message mentions JSON, like the real API', async () => {
    const err = await client.chat.completions
      .create({ model: 'gpt-test', messages, response_format: { type: 'json_object' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('answers 404 for an unknown path and for Azure without api-version', async () => {
    const unknown = await fetch(`${stub.baseURL}/nope`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { type: 'invalid_request_error' } });

    const noVersion = await fetch(`${stub.url}/openai/deployments/d/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': stub.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ messages }),
    });
    expect(noVersion.status).toBe(404);
  });

  it('records requests, including the delayed ones the client abandoned', async () => {
    stub.reply(() => ({ delayMs: 2000, content: 'late' }));
    const err = await client.chat.completions
      .create({ model: 'gpt-test', messages }, { timeout: 100 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(stub.requests).toHaveLength(1);
  });
});
