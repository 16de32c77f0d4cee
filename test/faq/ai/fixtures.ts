import type { AzureAuth, AzureModelConfig, OpenAIModelConfig } from '../../../src/faq/ai/modelConfig.js';
import type { AnswerCandidate } from '../../../src/faq/ai/types.js';
import type { OpenAIStub } from '../../support/openai-stub.js';

/** Three sections as retrieval would hand them over for a "grey report button" question. */
export const candidates: AnswerCandidate[] = [
  {
    id: 'monthly-report.md#submit-button-is-grey',
    docTitle: 'Submitting the monthly report',
    heading: 'The Submit button is grey',
    text: 'The Submit button stays grey until every required field is filled and the data quality checks pass. Open the Checks tab to see which field is missing.',
  },
  {
    id: 'monthly-report.md#deadlines',
    docTitle: 'Submitting the monthly report',
    heading: 'Deadlines',
    text: 'Reports are due on the 5th working day of the following month.',
  },
  {
    id: 'roles.md#district-access',
    docTitle: 'Roles and permissions',
    heading: 'District access',
    text: 'You only see the districts your role is assigned to. Ask your district champion to add one.',
  },
];

export const validIds = candidates.map((c) => c.id);

/** A JSON reply as the model would write it. */
export const modelJson = (value: unknown) => ({ content: JSON.stringify(value) });

/** Collects what the answerer logs, to check reasons are logged and secrets are not. */
export function recordingLogger() {
  const entries: { details: Record<string, unknown>; message: string }[] = [];
  return {
    entries,
    warn(details: Record<string, unknown>, message: string) {
      entries.push({ details, message });
    },
    text: () => JSON.stringify(entries),
  };
}

/** The answerer's config for the OpenAI route of a local stub. */
export function openAIConfig(
  stub: Pick<OpenAIStub, 'apiKey' | 'baseURL'>,
  overrides: Partial<OpenAIModelConfig> = {},
): OpenAIModelConfig {
  return { provider: 'openai', apiKey: stub.apiKey, baseURL: stub.baseURL, model: 'gpt-test', timeoutMs: 2000, ...overrides };
}

/** The answerer's config for the Azure route (deployment `faq-gpt`) of a local stub, with a key or a token provider. */
export function azureConfig(stub: Pick<OpenAIStub, 'url'>, auth: AzureAuth): AzureModelConfig {
  return { provider: 'azure', endpoint: stub.url, deployment: 'faq-gpt', apiVersion: '2024-10-21', timeoutMs: 2000, ...auth };
}
