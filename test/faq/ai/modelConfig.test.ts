import { describe, expect, it } from 'vitest';
import {
  DEFAULT_AZURE_API_VERSION,
  DEFAULT_MODEL_TIMEOUT_MS,
  DEFAULT_OPENAI_MODEL,
  modelConfigFromEnv,
} from '../../../src/faq/ai/modelConfig.js';

describe('modelConfigFromEnv', () => {
  it('is undefined when no AI settings are set (offline)', () => {
    expect(modelConfigFromEnv({})).toBeUndefined();
    expect(
      modelConfigFromEnv({ PATH: '/usr/bin', OPENAI_API_KEY: '', AZURE_OPENAI_ENDPOINT: '  ' }),
    ).toBeUndefined();
  });

  it('reads OpenAI settings', () => {
    expect(
      modelConfigFromEnv({
        OPENAI_API_KEY: 'sk-1',
        OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1',
        OPENAI_MODEL: 'llama3',
      }),
    ).toEqual({
      provider: 'openai',
      apiKey: 'sk-1',
      baseURL: 'http://127.0.0.1:8080/v1',
      model: 'llama3',
      timeoutMs: DEFAULT_MODEL_TIMEOUT_MS,
    });
  });

  it('defaults the model only for api.openai.com itself', () => {
    expect(modelConfigFromEnv({ OPENAI_API_KEY: 'sk-1' })).toEqual({
      provider: 'openai',
      apiKey: 'sk-1',
      model: DEFAULT_OPENAI_MODEL,
      timeoutMs: 6000,
    });
    expect(() =>
      modelConfigFromEnv({ OPENAI_API_KEY: 'sk-1', OPENAI_BASE_URL: 'http://localhost:1/v1' }),
    ).toThrow(/OPENAI_MODEL/);
  });

  it('throws naming OPENAI_API_KEY when other OpenAI settings come without it', () => {
    expect(() => modelConfigFromEnv({ OPENAI_MODEL: 'gpt-4o' })).toThrow(/OPENAI_API_KEY is required/);
    expect(() => modelConfigFromEnv({ OPENAI_BASE_URL: 'http://x/v1' })).toThrow(/OPENAI_API_KEY/);
  });

  it('throws naming OPENAI_BASE_URL when it is not an http(s) URL', () => {
    expect(() =>
      modelConfigFromEnv({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'localhost:8080', OPENAI_MODEL: 'm' }),
    ).toThrow(/OPENAI_BASE_URL/);
    expect(() =>
      modelConfigFromEnv({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'not a url', OPENAI_MODEL: 'm' }),
    ).toThrow(/OPENAI_BASE_URL/);
  });

  it('reads Azure settings with a key, defaulting the api version', () => {
    expect(
      modelConfigFromEnv({
        AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com/',
        AZURE_OPENAI_API_KEY: 'az-key',
        AZURE_OPENAI_DEPLOYMENT: 'gpt4o-mini',
      }),
    ).toEqual({
      provider: 'azure',
      endpoint: 'https://res.openai.azure.com/',
      apiKey: 'az-key',
      deployment: 'gpt4o-mini',
      apiVersion: DEFAULT_AZURE_API_VERSION,
      timeoutMs: 6000,
    });
  });

  it('uses an injected managed-identity token provider when Azure has no key', () => {
    const azureADTokenProvider = async () => 'token';
    const cfg = modelConfigFromEnv(
      {
        AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com',
        AZURE_OPENAI_DEPLOYMENT: 'd',
        AZURE_OPENAI_API_VERSION: '2025-01-01-preview',
      },
      { azureADTokenProvider, timeoutMs: 4000 },
    );
    expect(cfg).toEqual({
      provider: 'azure',
      endpoint: 'https://res.openai.azure.com',
      deployment: 'd',
      apiVersion: '2025-01-01-preview',
      timeoutMs: 4000,
      azureADTokenProvider,
    });
  });

  it('throws naming AZURE_OPENAI_API_KEY when Azure has neither key nor token provider', () => {
    expect(() =>
      modelConfigFromEnv({
        AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com',
        AZURE_OPENAI_DEPLOYMENT: 'd',
      }),
    ).toThrow(/AZURE_OPENAI_API_KEY/);
  });

  it('throws naming AZURE_OPENAI_DEPLOYMENT when the endpoint comes without it', () => {
    expect(() =>
      modelConfigFromEnv({
        AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com',
        AZURE_OPENAI_API_KEY: 'k',
      }),
    ).toThrow(/AZURE_OPENAI_DEPLOYMENT/);
  });

  it('throws naming AZURE_OPENAI_ENDPOINT when other Azure settings come without it', () => {
    expect(() => modelConfigFromEnv({ AZURE_OPENAI_API_KEY: 'k', AZURE_OPENAI_DEPLOYMENT: 'd' })).toThrow(
      /AZURE_OPENAI_ENDPOINT is required/,
    );
    expect(() =>
      modelConfigFromEnv({
        AZURE_OPENAI_ENDPOINT: 'res.openai.azure.com',
        AZURE_OPENAI_DEPLOYMENT: 'd',
        AZURE_OPENAI_API_KEY: 'k',
      }),
    ).toThrow(/AZURE_OPENAI_ENDPOINT/);
  });

  it('throws naming both sides when OpenAI and Azure settings are mixed', () => {
    expect(() =>
      modelConfigFromEnv({ OPENAI_API_KEY: 'sk-1', AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com' }),
    ).toThrow(/OPENAI_API_KEY.*AZURE_OPENAI_ENDPOINT/);
  });

  it('never puts a secret into an error message', () => {
    const attempts = [
      { OPENAI_API_KEY: 'sk-secret-1', OPENAI_BASE_URL: 'ftp://x', OPENAI_MODEL: 'm' },
      { AZURE_OPENAI_API_KEY: 'az-secret-2' },
      { AZURE_OPENAI_ENDPOINT: 'https://r', AZURE_OPENAI_API_KEY: 'az-secret-3' },
    ];
    for (const env of attempts) {
      expect(() => modelConfigFromEnv(env)).toThrow();
      try {
        modelConfigFromEnv(env);
      } catch (err) {
        expect(String(err)).not.toMatch(/secret/);
      }
    }
  });

  it('rejects a timeout that is not a positive whole number of ms', () => {
    expect(() => modelConfigFromEnv({ OPENAI_API_KEY: 'k' }, { timeoutMs: 0 })).toThrow(/timeout/);
  });
});
