import OpenAI, { AzureOpenAI } from 'openai';
import type { ModelConfig } from './modelConfig.js';

const OPENAI_API_BASE_URL = 'https://api.openai.com/v1';

/**
 * The SDK's retry budget for one answer. One retry absorbs a transient 5xx or dropped connection;
 * more would not fit in the answer's timeout anyway.
 */
export const MODEL_MAX_RETRIES = 1;

/**
 * Creates the SDK client for `cfg`. No network happens here: the SDK connects on the first request.
 * Every value comes from `cfg`, never from the SDK's own reading of process.env, so what the config
 * says is what runs.
 */
export function createModelClient(cfg: ModelConfig): OpenAI {
  const common = {
    timeout: cfg.timeoutMs,
    maxRetries: MODEL_MAX_RETRIES,
    fetch: fetchWithoutRateLimitRetry,
  };
  if (cfg.provider === 'openai') {
    return new OpenAI({ ...common, apiKey: cfg.apiKey, baseURL: cfg.baseURL ?? OPENAI_API_BASE_URL });
  }
  // baseURL rather than `endpoint`: AzureOpenAI would otherwise also read OPENAI_BASE_URL from the
  // environment and refuse to start when both are present.
  const baseURL = `${cfg.endpoint.replace(/\/+$/, '')}/openai`;
  const auth = cfg.apiKey ? { apiKey: cfg.apiKey } : { azureADTokenProvider: cfg.azureADTokenProvider };
  return new AzureOpenAI({
    ...common,
    ...auth,
    baseURL,
    deployment: cfg.deployment,
    apiVersion: cfg.apiVersion,
  });
}

/**
 * The SDK retries a 429 after sleeping for the server's Retry-After (often 20–60 s), and that sleep
 * ignores the abort signal. Inside a Teams turn the offline answer is the better reply, so a 429 is
 * marked not retryable (the SDK obeys `x-should-retry`) and surfaces at once as a RateLimitError.
 */
async function fetchWithoutRateLimitRetry(
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  const response = await fetch(input, init);
  if (response.status !== 429) return response;
  const headers = new Headers(response.headers);
  headers.set('x-should-retry', 'false');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
