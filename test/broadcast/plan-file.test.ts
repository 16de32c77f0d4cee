import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openPlanFile, type PlanFile, type PlanRefusal } from '../../src/broadcast/plan-file.js';
import { SendStore } from '../../src/broadcast/sends.js';
import { EMPTY_ROLLOUT, type Rollout } from '../../src/rollout/model.js';
import { startLoopProbe } from '../support/loop-probe.js';
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

// Names what is handed to the parser (in its worker thread): an oversized file must be refused before it is.
// `stopped`: the worker thread ends under the next parse, as parseInWorker tells it (test/files/parse-in-worker.test.ts).
const parses = vi.hoisted(() => ({ sources: [] as string[], stopped: false }));
vi.mock('../../src/files/parse-in-worker.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/files/parse-in-worker.js')>();
  return {
    ...real,
    parseInWorker: (...args: Parameters<typeof real.parseInWorker>) => {
      parses.sources.push(args[2]);
      if (!parses.stopped) return real.parseInWorker(...args);
      parses.stopped = false;
      return Promise.reject(new real.NotChecked(`${args[2]}: not checked, the parser stopped (exit code 134)`));
    },
  };
});

/** About 2 MB of plan: 12,000 messages (a plan may hold 200), each well-formed. */
const huge = `messages:\n${Array.from({ length: 12_000 }, (_, i) => good(`Tip ${i}`).slice('messages:\n'.length).replace('id: welcome', `id: tip-${i}`).replace('body: Hello', 'body: A tip for the week, written out at some length so it looks like a real one.')).join('')}`;
const TOO_LARGE = /^plan\.yaml: [\d,]+ KB, larger than the 1,024 KB it may be$/;

// Tells when the file's text has been read: what follows until the reload resolves is the parse and check.
const reads = vi.hoisted(() => ({ onRead: undefined as (() => void) | undefined }));
vi.mock('../../src/files/capped-read.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/files/capped-read.js')>();
  return {
    ...real,
    readCappedText: async (...args: Parameters<typeof real.readCappedText>) => {
      const text = await real.readCappedText(...args);
      reads.onRead?.();
      return text;
    },
  };
});

/**
 * A plan as large as one may be: 200 messages (the most a plan holds), each repeating daily for years and
 * with a body near its 4,000-character limit, in French (accents take two bytes) — close to the 1 MB the file may take.
 */
const fullPlan = `timeZone: Europe/London\nmessages:\n${Array.from(
  { length: 200 },
  (_, i) => `  - id: tip-${i}
    stage: adoption
    title: Daily tip ${i}
    body: ${'Étape du jour — vérifiez l’état de la tablette — synchronisée, chargée, à jour — avant la visite. '.repeat(40)}
    audience: champions
    when: { every: "FREQ=DAILY;INTERVAL=${(i % 7) + 1}", at: "09:00", from: 2027-01-01, until: 2030-12-31 }
`,
).join('')}`;

const opened: PlanFile[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.close();
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
}

/** A plan file holding the plan "Welcome", opened on the empty rollout with fresh storage; problems it reports are collected. */
async function openWelcome(pollMs: number): Promise<{ file: string; problems: string[]; whys: PlanRefusal[]; plan: PlanFile }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'rd-plan-')), 'plan.yaml');
  writeFileSync(file, good('Welcome'));
  const problems: string[] = [];
  const whys: PlanRefusal[] = [];
  const onInvalid = (p: string, why: PlanRefusal) => {
    problems.push(p);
    whys.push(why);
  };
  const plan = await openPlanFile(file, { rollout: () => EMPTY_ROLLOUT, store: await SendStore.open(testTables()), onInvalid, pollMs });
  opened.push(plan);
  return { file, problems, whys, plan };
}

describe('the plan file', () => {
  it('keeps the last good plan when an edit is malformed, tells why (id and field), and takes the fixed file without a restart', async () => {
    const { file, problems, plan } = await openWelcome(50);
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

  it('an edit whose check ends its worker thread keeps the last good plan, and the rollout team is told why', async () => {
    const { file, problems, whys, plan } = await openWelcome(0);

    writeFileSync(file, good('Welcome, again'));
    parses.stopped = true;
    await plan.reload();
    await until(() => problems.length === 1);
    expect(problems).toEqual(['plan.yaml: not checked, the parser stopped (exit code 134)']);
    // Told as a check that did not finish, not as a fault in the file (planProblemNotice words the two apart).
    expect(whys).toEqual(['check']);
    expect(plan.current.messages.map((m) => m.title)).toEqual(['Welcome']);
  });

  it('an edit that makes the file huge is refused unread: the rollout team told the file, its size and the limit, the last good plan kept', async () => {
    const { file, problems, whys, plan } = await openWelcome(0);

    writeFileSync(file, huge);
    parses.sources = [];
    await plan.reload();
    await until(() => problems.length === 1);
    expect(problems[0]).toMatch(TOO_LARGE);
    expect(whys).toEqual(['file']);
    expect(parses.sources).toEqual([]);
    expect(plan.current.messages.map((m) => m.title)).toEqual(['Welcome']);

    // Checked again after a rollout-file change (a direct read of the plan file): refused unread the same way.
    await plan.recheck();
    expect(problems).toHaveLength(2);
    expect(problems[1]).toMatch(TOO_LARGE);
    expect(parses.sources).toEqual([]);
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
    parses.sources = [];
    const again = await openPlanFile(file, { rollout: () => EMPTY_ROLLOUT, store, onInvalid: (p) => problems.push(p), pollMs: 0 });
    opened.push(again);
    expect(problems).toEqual([expect.stringMatching(TOO_LARGE)]);
    expect(parses.sources).toEqual(['last good plan']); // the small plan kept in storage, not the file
    expect(again.current.messages.map((m) => m.title)).toEqual(['Kept from before']);
  });

  it('while a plan of 200 repeating messages (about 1 MB) is parsed and checked after an edit, the app still answers /healthz and its event loop turns', { timeout: 120_000 }, async () => {
    expect(Buffer.byteLength(fullPlan)).toBeGreaterThan(900_000);
    expect(Buffer.byteLength(fullPlan)).toBeLessThan(1024 * 1024);
    const { file, problems, plan } = await openWelcome(0);

    const probe = await startLoopProbe();
    try {
      reads.onRead = () => {
        // The text is in: from here on only parsing and checking stand between the edit and the new plan.
        reads.onRead = undefined;
        probe.begin();
      };
      writeFileSync(file, fullPlan);
      expect(await plan.reload()).toBe(true);
      const { ticks, answered } = await probe.end();
      await until(() => plan.current.messages.length === 200 || problems.length > 0);
      expect(problems).toEqual([]);
      expect(plan.current.messages).toHaveLength(200);
      expect(answered).toBe(true);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      reads.onRead = undefined;
      await probe.close();
    }
  });
});
