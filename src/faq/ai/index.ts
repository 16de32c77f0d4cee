export { type AnswerOptions, ModelAnswerer } from './answerer.js';
export { createModelClient, MODEL_MAX_RETRIES } from './client.js';
export {
  type AzureModelConfig,
  type AzureTokenProvider,
  DEFAULT_AZURE_API_VERSION,
  DEFAULT_MODEL_TIMEOUT_MS,
  DEFAULT_OPENAI_MODEL,
  type ModelConfig,
  type ModelConfigOptions,
  modelConfigFromEnv,
  type OpenAIModelConfig,
} from './modelConfig.js';
export { SYSTEM_PROMPT } from './prompt.js';
export type { AnswerCandidate, AnswerLogger, FallbackReason, ModelAnswer } from './types.js';
