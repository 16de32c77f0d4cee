import { describe, expect, it } from 'vitest';
import { planProblemNotice } from '../../src/broadcast/notices.js';

const textOf = (m: ReturnType<typeof planProblemNotice>[number]) => (m.op === 'send' && typeof m.content === 'string' ? m.content : '');

describe('the rollout team’s notice about a plan file not taken', () => {
  it('names the file’s problems and asks for a fix', () => {
    const [notice] = planProblemNotice('plan.yaml: messages[0] (welcome).when: "next tuesday" is not a date', ['aad-lead'], new Set(['aad-lead']), 'file');
    expect(textOf(notice!)).toContain('The communication plan file has problems');
    expect(textOf(notice!)).toContain('Fix the file and save it');
  });

  it('says a check that did not finish is not known to be the file’s fault, and how to retry', () => {
    const [notice] = planProblemNotice('plan.yaml: not checked, the parser stopped (exit code 134)', ['aad-lead'], new Set(['aad-lead']), 'check');
    const text = textOf(notice!);
    expect(text).toContain('I could not finish checking the communication plan file');
    expect(text).not.toContain('has problems');
    expect(text).toContain('Save the file again to retry');
    expect(text).toContain('the last good plan in force');
  });
});
