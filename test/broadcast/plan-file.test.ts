import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPlanFile, type PlanFile } from '../../src/broadcast/plan-file.js';
import { SendStore } from '../../src/broadcast/sends.js';
import { EMPTY_ROLLOUT, type Rollout } from '../../src/rollout/model.js';
import { testTables } from '../support/storage.js';

const good = (title: string) => `messages:
  - id: welcome
    stage: launch
    title: ${title}
    body: Hello
    audience: champions
    when: manual
`;
const bad = `messages:
  - id: welcome
    stage: launch
    title: Welcome
    body: Hello
    audience: champions
    when: next tuesday
`;

const opened: PlanFile[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.close();
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
}

describe('the plan file', () => {
  it('keeps the last good plan when an edit is malformed, tells why (id and field), and takes the fixed file without a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rd-plan-'));
    const file = path.join(dir, 'plan.yaml');
    writeFileSync(file, good('Welcome'));
    const problems: string[] = [];
    const store = await SendStore.open(testTables());
    const plan = await openPlanFile(file, { rollout: () => EMPTY_ROLLOUT, store, onInvalid: (p) => problems.push(p), pollMs: 50 });
    opened.push(plan);
    expect(plan.current.messages.map((m) => m.title)).toEqual(['Welcome']);

    writeFileSync(file, bad);
    await until(() => problems.length === 1);
    expect(problems[0]).toContain('messages[0] (welcome).when');
    expect(plan.current.messages.map((m) => m.title)).toEqual(['Welcome']);

    writeFileSync(file, good('Welcome, again'));
    await until(() => plan.current.messages[0]?.title === 'Welcome, again');
  });

  it('started with a malformed file, uses the last good plan kept in storage', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rd-plan-'));
    const file = path.join(dir, 'plan.yaml');
    const store = await SendStore.open(testTables());
    writeFileSync(file, good('Kept from before'));
    const first = await openPlanFile(file, { rollout: () => EMPTY_ROLLOUT, store, onInvalid: () => {}, pollMs: 0 });
    first.close();

    writeFileSync(file, bad);
    const problems: string[] = [];
    const again = await openPlanFile(file, { rollout: () => EMPTY_ROLLOUT, store, onInvalid: (p) => problems.push(p), pollMs: 0 });
    opened.push(again);
    expect(problems).toEqual([expect.stringContaining('messages[0] (welcome).when')]);
    expect(again.current.messages.map((m) => m.title)).toEqual(['Kept from before']);
  });

  it('checked again after the rollout changed: a plan naming a removed cohort is told and the last good stays; one that fits again is taken', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rd-plan-'));
    const file = path.join(dir, 'plan.yaml');
    writeFileSync(file, good('Welcome').replace('audience: champions', 'audience: { cohort: wave-b }'));
    const withWaveB: Rollout = { ...EMPTY_ROLLOUT, cohorts: [{ id: 'wave-b', name: 'Wave B', goLive: '2027-02-01', zone: 'Africa/Lusaka' }] };
    let rollout = withWaveB;
    const problems: string[] = [];
    const store = await SendStore.open(testTables());
    const plan = await openPlanFile(file, { rollout: () => rollout, store, onInvalid: (p) => problems.push(p), pollMs: 0 });
    opened.push(plan);

    rollout = EMPTY_ROLLOUT;
    await plan.recheck();
    expect(problems).toEqual([expect.stringContaining('messages[0] (welcome).audience.cohort: no cohort "wave-b" in the rollout file')]);
    expect(plan.current.messages.map((m) => m.title)).toEqual(['Welcome']);

    writeFileSync(file, good('Welcome, wave B').replace('audience: champions', 'audience: { cohort: wave-b }'));
    rollout = withWaveB;
    await plan.recheck();
    expect(plan.current.messages.map((m) => m.title)).toEqual(['Welcome, wave B']);
    expect(problems).toHaveLength(1);
  });
});
