import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WatchedFile } from '../../src/files/watched-file.js';
import { openRolloutFile } from '../../src/rollout/file.js';
import { startLoopProbe } from '../support/loop-probe.js';

// Counts parses: an oversized file must be refused before the parser (in its worker thread) is given it.
const parses = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/files/parse-in-worker.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/files/parse-in-worker.js')>();
  return { ...real, parseInWorker: (...args: Parameters<typeof real.parseInWorker>) => (parses.count++, real.parseInWorker(...args)) };
});

// Tells when the file's text has been read: what follows until the load resolves is the parse and check.
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

const opened: WatchedFile<unknown>[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rd-rollout-'));
  dirs.push(dir);
  return path.join(dir, 'rollout.yaml');
}

const HEAD = 'cohorts:\n  - { id: wave-b, name: Wave B, goLive: 2027-02-01, zone: Africa/Lusaka }\ngroups:\n  - { id: field-officers, name: Field officers }\nmembers:\n';
const member = (i: number) =>
  `  - { id: 4b6d2e90-8a1c-4f7e-9d3b-${String(i).padStart(12, '0')}, name: Field Officer ${i}, groups: [field-officers], cohort: wave-b }\n`;
/** A rollout file listing `people` people, one line each, as the sample writes them. */
const rolloutOf = (people: number) => HEAD + Array.from({ length: people }, (_, i) => member(i)).join('');

describe('the rollout file while the app runs', () => {
  it('an edit that makes the file huge is refused unread: the file, its size and the limit named, the last good people kept', { timeout: 60_000 }, async () => {
    const file = tempFile();
    writeFileSync(file, rolloutOf(2));
    const warnings: string[] = [];
    const watched = await openRolloutFile(file, { onWarning: (m) => warnings.push(m), pollMs: 0 });
    opened.push(watched as WatchedFile<unknown>);
    expect(watched.current.members).toHaveLength(2);

    // About 4 MB: some 35,000 people (parsing it would hold every user's turn for seconds).
    writeFileSync(file, rolloutOf(35_000));
    parses.count = 0;
    expect(await watched.reload()).toBe(false);
    expect(parses.count).toBe(0);
    expect(warnings.at(-1)).toMatch(/^rollout\.yaml: 4,\d{3} KB, larger than the 3,072 KB it may be; the previous version stays in use$/);
    expect(watched.current.members).toHaveLength(2);
  });

  it('20,000 people fit under the limit', { timeout: 60_000 }, async () => {
    const file = tempFile();
    writeFileSync(file, rolloutOf(20_000));
    const watched = await openRolloutFile(file, { pollMs: 0 });
    opened.push(watched as WatchedFile<unknown>);
    expect(watched.current.members).toHaveLength(20_000);
  });

  it('while 20,000 people are parsed and checked after an edit, the app still answers /healthz and its event loop turns', { timeout: 120_000 }, async () => {
    const file = tempFile();
    writeFileSync(file, rolloutOf(2));
    const watched = await openRolloutFile(file, { pollMs: 0 });
    opened.push(watched as WatchedFile<unknown>);

    const probe = await startLoopProbe();
    try {
      reads.onRead = () => {
        // The text is in: from here on only parsing and checking stand between the edit and the new people.
        probe.begin();
      };
      writeFileSync(file, rolloutOf(20_000));
      expect(await watched.reload()).toBe(true);
      const { ticks, answered } = await probe.end();
      reads.onRead = undefined;
      expect(watched.current.members).toHaveLength(20_000);
      expect(answered).toBe(true);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      reads.onRead = undefined;
      await probe.close();
    }
  });

  it('a huge file at start is refused unread, like a file that is not YAML', { timeout: 60_000 }, async () => {
    const file = tempFile();
    writeFileSync(file, rolloutOf(35_000));
    parses.count = 0;
    await expect(openRolloutFile(file, { pollMs: 0 })).rejects.toThrow(/rollout\.yaml: 4,\d{3} KB, larger than the 3,072 KB it may be/);
    expect(parses.count).toBe(0);
  });
});
