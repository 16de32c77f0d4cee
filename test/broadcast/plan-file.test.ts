import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

// Counts YAML parses: an oversized file must be refused before the (synchronous) parser sees it.
const yamlCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock('yaml', async (importOriginal) => {
  const yaml = await importOriginal<typeof import('yaml')>();
  return { ...yaml, parse: (...args: Parameters<typeof yaml.parse>) => (yamlCalls.count++, yaml.parse(...args)) };
});

/** About 2 MB of plan: 12,000 messages (a plan may hold 200), each well-formed. */
const huge = `messages:\n${Array.from({ length: 12_000 }, (_, i) => good(`Tip ${i}`).slice('messages:\n'.length).replace('id: welcome', `id: tip-${i}`).replace('body: Hello', 'body: A tip for the week, written out at some length so it looks like a real one.')).join('')}`;
const TOO_LARGE = /^plan\.yaml: [\d,]+ KB, larger than the 1,024 KB it may be$/;

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

  it('an edit that makes the file huge is refused unread: the rollout team told the file, its size and the limit, the last good plan kept', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rd-plan-'));
    const file = path.join(dir, 'plan.yaml');
    writeFileSync(file, good('Welcome'));
    const problems: string[] = [];
    const store = await SendStore.open(testTables());
    const plan = await openPlanFile(file, { rollout: () => EMPTY_ROLLOUT, store, onInvalid: (p) => problems.push(p), pollMs: 0 });
    opened.push(plan);

    writeFileSync(file, huge);
    yamlCalls.count = 0;
    await plan.reload();
    await until(() => problems.length === 1);
    expect(problems[0]).toMatch(TOO_LARGE);
    expect(yamlCalls.count).toBe(0);
    expect(plan.current.messages.map((m) => m.title)).toEqual(['Welcome']);

    // Checked again after a rollout-file change (a direct read of the plan file): refused unread the same way.
    await plan.recheck();
    expect(problems).toHaveLength(2);
    expect(problems[1]).toMatch(TOO_LARGE);
    expect(yamlCalls.count).toBe(0);
    expect(plan.current.messages.map((m) => m.title)).toEqual(['Welcome']);
  });

  it('started with a huge file, refuses it unread and uses the last good plan kept in storage, like a malformed one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rd-plan-'));
    const file = path.join(dir, 'plan.yaml');
    const store = await SendStore.open(testTables());
    writeFileSync(file, good('Kept from before'));
    const first = await openPlanFile(file, { rollout: () => EMPTY_ROLLOUT, store, onInvalid: () => {}, pollMs: 0 });
    first.close();

    writeFileSync(file, huge);
    const problems: string[] = [];
    yamlCalls.count = 0;
    const again = await openPlanFile(file, { rollout: () => EMPTY_ROLLOUT, store, onInvalid: (p) => problems.push(p), pollMs: 0 });
    opened.push(again);
    expect(problems).toEqual([expect.stringMatching(TOO_LARGE)]);
    expect(yamlCalls.count).toBe(1); // the small plan kept in storage, not the file
    expect(again.current.messages.map((m) => m.title)).toEqual(['Kept from before']);
  });
});
