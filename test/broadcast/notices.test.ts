import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/broadcast/plan.js';
import { planProblemNotice } from '../../src/broadcast/notices.js';
import { utf16Bytes } from '../../src/cards/template.js';

const textOf = (m: ReturnType<typeof planProblemNotice>[number]) => (m.op === 'send' && typeof m.content === 'string' ? m.content : '');

describe('the rollout team’s notice about a plan file not taken', () => {
  it('names the file’s problems and asks for a fix', () => {
    const [notice] = planProblemNotice('plan.yaml: messages[0] (welcome).when: "next tuesday" is not a date', ['aad-lead'], new Set(['aad-lead']), 'file');
    expect(textOf(notice!)).toContain('The communication plan file has problems');
    expect(textOf(notice!)).toContain('Fix the file and save it');
  });

  it('says a check that did not finish did not judge the file, and how to check it again', () => {
    const [notice] = planProblemNotice('plan.yaml: not checked, the parser stopped (exit code 134)', ['aad-lead'], new Set(['aad-lead']), 'check');
    const text = textOf(notice!);
    expect(text).toContain('I could not finish checking the communication plan file');
    expect(text).not.toContain('has problems');
    // Saving the same text is not a retry (a file is re-read only when its text changes): it says so.
    expect(text).toContain('edit the file and save it to check it again');
    expect(text).toContain('the last good plan in force');
  });

  it('reaches the team as a message Teams accepts when the file has a great many problems (another YAML file given by mistake)', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `key_number_${i}: 1`).join('\n');
    let problem = '';
    try {
      parsePlan(keys, { cohorts: [], groups: [] });
    } catch (err) {
      problem = (err as Error).message;
    }
    expect(problem.length).toBeGreaterThan(40_000);
    const [notice] = planProblemNotice(problem, ['aad-lead'], new Set(['aad-lead']), 'file');
    const text = textOf(notice!);
    // Teams refuses a message over 40 KB, and then nobody hears that the plan was not taken.
    expect(utf16Bytes(text)).toBeLessThan(20_000);
    expect(text).toContain('Unrecognized keys');
    expect(text).toContain("the app's log");
    expect(text).toContain('Fix the file and save it');
  });
});
