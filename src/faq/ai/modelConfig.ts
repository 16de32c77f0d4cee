/** Returns a Microsoft Entra access token for Azure OpenAI (managed identity); called on every request. */
export type AzureTokenProvider = () => Promise<string>;

/** Per-call budget for the model; Teams retries a message after ~15 s, so stay well under it. */
export const DEFAULT_MODEL_TIMEOUT_MS = 6000;

/** Used only against api.openai.com itself; a compatible server (OPENAI_BASE_URL) must name its model. */
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';

/** A GA Azure OpenAI data-plane version that supports `response_format: json_object`. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export interface OpenAIModelConfig {
  provider: 'openai';
  apiKey: string;
  /** An OpenAI-compatible server, e.g. `http://127.0.0.1:PORT/v1`; unset means api.openai.com. */
  baseURL?: string;
  model: string;
  timeoutMs: number;
}

/** Azure authenticates with exactly one of an API key or an Entra token provider. */
export type AzureAuth =
  | { apiKey: string; azureADTokenProvider?: undefined }
  | { apiKey?: undefined; azureADTokenProvider: AzureTokenProvider };

export type AzureModelConfig = {
  provider: 'azure';
  /** The resource endpoint, e.g. `https://my-resource.openai.azure.com/` (no `/openai` suffix). */
  endpoint: string;
  deployment: string;
  apiVersion: string;
  timeoutMs: number;
} & AzureAuth;

export type ModelConfig = OpenAIModelConfig | AzureModelConfig;

/** The model name sent in the request body (Azure routes by deployment name). */
export function modelNameOf(cfg: ModelConfig): string {
  return cfg.provider === 'openai' ? cfg.model : cfg.deployment;
}

export interface ModelConfigOptions {
  /** Managed identity for Azure, used when AZURE_OPENAI_API_KEY is not set. */
  azureADTokenProvider?: AzureTokenProvider;
  timeoutMs?: number;
}

const OPENAI_VARS = ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_MODEL'] as const;
const AZURE_VARS = [
  'AZURE_OPENAI_ENDPOINT',
  'AZURE_OPENAI_API_KEY',
  'AZURE_OPENAI_DEPLOYMENT',
  'AZURE_OPENAI_API_VERSION',
] as const;

/**
 * Reads the AI settings from environment variables. `undefined` means "no AI configured": the bot
 * stays offline. A half-configured setup throws an Error naming the variable, so a typo fails at
 * startup instead of silently running offline.
 */
export function modelConfigFromEnv(
  env: Record<string, string | undefined>,
  options: ModelConfigOptions = {},
): ModelConfig | undefined {
  // Blank values count as unset: `FOO=` in a .env file is a common way of switching something off.
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const openaiSet = OPENAI_VARS.filter((name) => read(name) !== undefined);
  const azureSet = AZURE_VARS.filter((name) => read(name) !== undefined);
  const timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS);

  if (openaiSet.length > 0 && azureSet.length > 0) {
    throw new Error(
      `AI settings are ambiguous: ${openaiSet.join(', ')} (OpenAI) and ${azureSet.join(', ')} (Azure OpenAI) are both set; set one provider only`,
    );
  }

  if (openaiSet.length > 0) {
    const apiKey = read('OPENAI_API_KEY');
    if (!apiKey) {
      throw new Error(`OPENAI_API_KEY is required when ${openaiSet.join(', ')} is set`);
    }
    const baseURL = read('OPENAI_BASE_URL');
    if (baseURL) checkHttpUrl('OPENAI_BASE_URL', baseURL);
    const model = read('OPENAI_MODEL') ?? (baseURL ? undefined : DEFAULT_OPENAI_MODEL);
    if (!model) {
      throw new Error('OPENAI_MODEL is required when OPENAI_BASE_URL points at an OpenAI-compatible server');
    }
    return { provider: 'openai', apiKey, model, timeoutMs, ...(baseURL ? { baseURL } : {}) };
  }

  if (azureSet.length > 0) {
    const endpoint = read('AZURE_OPENAI_ENDPOINT');
    if (!endpoint) {
      throw new Error(`AZURE_OPENAI_ENDPOINT is required when ${azureSet.join(', ')} is set`);
    }
    checkHttpUrl('AZURE_OPENAI_ENDPOINT', endpoint);
    const deployment = read('AZURE_OPENAI_DEPLOYMENT');
    if (!deployment) {
      throw new Error('AZURE_OPENAI_DEPLOYMENT is required when AZURE_OPENAI_ENDPOINT is set');
    }
    const apiVersion = read('AZURE_OPENAI_API_VERSION') ?? DEFAULT_AZURE_API_VERSION;
    const base = { provider: 'azure' as const, endpoint, deployment, apiVersion, timeoutMs };
    // A key, when present, wins: it is the explicit setting; managed identity is the fallback.
    const apiKey = read('AZURE_OPENAI_API_KEY');
    if (apiKey) return { ...base, apiKey };
    if (options.azureADTokenProvider) {
      return { ...base, azureADTokenProvider: options.azureADTokenProvider };
    }
    throw new Error(
      'AZURE_OPENAI_API_KEY is required when AZURE_OPENAI_ENDPOINT is set and no managed identity token provider is configured',
    );
  }

  return undefined;
}

function checkHttpUrl(name: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`${name} must be an http(s) URL`);
  }
}

function checkTimeout(timeoutMs: number): number {
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new Error(`the model timeout must be a positive whole number of milliseconds, got ${timeoutMs}`);
  }
  return timeoutMs;
}
