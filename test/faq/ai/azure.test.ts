import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ModelAnswerer } from '../../../src/faq/ai/answerer.js';
import { createModelClient } from '../../../src/faq/ai/client.js';
import { modelConfigFromEnv } from '../../../src/faq/ai/modelConfig.js';
import { type OpenAIStub, startOpenAIStub } from '../../support/openai-stub.js';
import { azureConfig, candidates, modelJson, recordingLogger, validIds } from './fixtures.js';

let stub: OpenAIStub;
beforeAll(async () => {
  stub = await startOpenAIStub();
});
afterAll(() => stub.close());
beforeEach(() => {
  stub.requests.length = 0;
  stub.reply(() => modelJson({ answer: 'Ask your district champion.', citations: [validIds[2]] }));
});

const expected = { kind: 'answer', text: 'Ask your district champion.', citations: [validIds[2]] };

describe('Azure OpenAI client path', () => {
  it('posts to the deployments URL with the api-version and an api-key header', async () => {
    const cfg = modelConfigFromEnv({
      AZURE_OPENAI_ENDPOINT: `${stub.url}/`,
      AZURE_OPENAI_API_KEY: stub.apiKey,
      AZURE_OPENAI_DEPLOYMENT: 'faq-gpt',
      AZURE_OPENAI_API_VERSION: '2024-10-21',
    });
    expect(cfg?.provider).toBe('azure');
    const answerer = new ModelAnswerer(createModelClient(cfg!), cfg!);
    expect(await answerer.answer('i cant see my district', candidates)).toEqual(expected);

    expect(stub.requests).toHaveLength(1);
    const sent = stub.requests[0]!;
    expect(sent.path).toBe('/openai/deployments/faq-gpt/chat/completions');
    expect(sent.query).toEqual({ 'api-version': '2024-10-21' });
    expect(sent.headers['api-key']).toBe(stub.apiKey);
    expect(sent.headers.authorization).toBeUndefined();
    expect((sent.body as { model: string }).model).toBe('faq-gpt');
  });

  it('authenticates with an injected managed-identity token provider', async () => {
    let calls = 0;
    const cfg = azureConfig(stub, {
      azureADTokenProvider: async () => {
        calls++;
        return stub.azureADToken;
      },
    });
    const answerer = new ModelAnswerer(createModelClient(cfg), cfg);
    expect(await answerer.answer('i cant see my district', candidates)).toEqual(expected);
    expect(calls).toBe(1);
    const sent = stub.requests[0]!;
    expect(sent.headers.authorization).toBe(`Bearer ${stub.azureADToken}`);
    expect(sent.headers['api-key']).toBeUndefined();
  });

  it('falls back with error on a wrong Azure key, without logging it', async () => {
    const cfg = azureConfig(stub, { apiKey: 'wrong-azure-key-0000' });
    const log = recordingLogger();
    const answerer = new ModelAnswerer(createModelClient(cfg), cfg, log);
    expect(await answerer.answer('i cant see my district', candidates)).toEqual({
      kind: 'fallback',
      reason: 'error',
    });
    expect(log.entries[0]?.details).toMatchObject({ status: 401 });
    expect(log.text()).not.toContain('wrong-azure-key-0000');
  });

  it('ignores OPENAI_BASE_URL in the process environment (the config is the only source)', async () => {
    const saved = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = 'http://127.0.0.1:9/v1';
    try {
      const cfg = azureConfig(stub, { apiKey: stub.apiKey });
      const answerer = new ModelAnswerer(createModelClient(cfg), cfg);
      expect(await answerer.answer('i cant see my district', candidates)).toEqual(expected);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved;
    }
  });
});
