import type { AnswerCandidate } from '../../../src/faq/ai/types.js';

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
