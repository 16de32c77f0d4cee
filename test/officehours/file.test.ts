import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WatchedFile } from '../../src/files/watched-file.js';
import { liveSchedule, openScheduleFile } from '../../src/officehours/file.js';
import { HELD } from './problems.js';
import { sampleRollout } from './support.js';

// Counts YAML parses: an oversized file must be refused before the (synchronous) parser sees it.
const yamlCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock('yaml', async (importOriginal) => {
  const yaml = await importOriginal<typeof import('yaml')>();
  return { ...yaml, parse: (...args: Parameters<typeof yaml.parse>) => (yamlCalls.count++, yaml.parse(...args)) };
});

const opened: WatchedFile<unknown>[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.close();
});

const session = (id: string, extra = '') => `
  - id: ${id}
    title: ${id}
    start: 2027-01-05 14:00
    rule: FREQ=WEEKLY;BYDAY=TU
    capacity: 10
    joinUrl: https://teams.microsoft.com/l/${id}${extra}`;

describe('the schedule file while the app runs', () => {
  it('a saved change is served without a restart; a bad session added later is named and the rest still served', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rd-schedule-'));
    const file = path.join(dir, 'office-hours.yaml');
    writeFileSync(file, `zone: Africa/Lusaka\nsessions:${session('first')}\n`);
    const watched = await openScheduleFile(file, { debounceMs: 20, pollMs: 50 });
    opened.push(watched as WatchedFile<unknown>);
    const problems: string[] = [];
    const schedule = liveSchedule(() => watched.current, () => sampleRollout, 'office-hours.yaml', (p) => problems.push(p));
    expect(schedule().sessions.map((s) => s.id)).toEqual(['first']);

    const changed = new Promise((resolve) => watched.once('changed', resolve));
    writeFileSync(file, `zone: Africa/Lusaka\nsessions:${session('first')}${session('second')}${session('broken', '\n    zone: Africa/Lusakaa')}\n`);
    await changed;
    expect(schedule().sessions.map((s) => s.id)).toEqual(['first', 'second']);
    expect(problems).toEqual([
      `office-hours.yaml: sessions[2] (broken).zone: "Africa/Lusakaa" is not a time zone; use an IANA name such as Africa/Nairobi; ${HELD}`,
    ]);
    // Built once per change, so the problem is reported once, not on every read.
    schedule();
    expect(problems).toHaveLength(1);

    // A file that is not YAML at all keeps the last good schedule.
    writeFileSync(file, 'sessions: [');
    expect(await watched.reload()).toBe(false);
    expect(schedule().sessions.map((s) => s.id)).toEqual(['first', 'second']);
  });

  it('a join link longer than the Teams add form takes is named with its session and the limit, and the session is still served, without the link', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rd-schedule-'));
    const file = path.join(dir, 'office-hours.yaml');
    writeFileSync(file, `zone: Africa/Lusaka\nsessions:${session('first')}${session('long-link', `?p=${'a'.repeat(2_000)}`)}\n`);
    const watched = await openScheduleFile(file, { debounceMs: 20, pollMs: 50 });
    opened.push(watched as WatchedFile<unknown>);
    const problems: string[] = [];
    const schedule = liveSchedule(() => watched.current, () => sampleRollout, 'office-hours.yaml', (p) => problems.push(p));
    expect(schedule().sessions.map((s) => [s.id, s.joinUrl])).toEqual([
      ['first', 'https://teams.microsoft.com/l/first'],
      ['long-link', ''],
    ]);
    expect(problems).toEqual([
      'office-hours.yaml: sessions[1] (long-link).joinUrl: must be at most 2,000 characters (this one has 2,042); the session is kept without a join link (those booked are shown none until it is fixed)',
    ]);
  });

  it('an edit that makes the file huge is refused unread: the file, its size and the limit named, the last good schedule kept', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rd-schedule-'));
    const file = path.join(dir, 'office-hours.yaml');
    writeFileSync(file, `zone: Africa/Lusaka\nsessions:${session('first')}\n`);
    const warnings: string[] = [];
    const watched = await openScheduleFile(file, { onWarning: (m) => warnings.push(m), pollMs: 0 });
    opened.push(watched as WatchedFile<unknown>);
    const schedule = liveSchedule(() => watched.current, () => sampleRollout, 'office-hours.yaml');

    // About 2 MB of sessions, far past the 500 a file may hold.
    const many = Array.from({ length: 10_000 }, (_, i) => session(`s-${i}`)).join('');
    writeFileSync(file, `zone: Africa/Lusaka\nsessions:${many}\n`);
    yamlCalls.count = 0;
    expect(await watched.reload()).toBe(false);
    expect(yamlCalls.count).toBe(0);
    expect(warnings.at(-1)).toMatch(/^office-hours\.yaml: [\d,]+ KB, larger than the 512 KB it may be; the previous version stays in use$/);
    expect(schedule().sessions.map((s) => s.id)).toEqual(['first']);

    // At start the same file is refused as a file that is not YAML is: the app does not start on it.
    yamlCalls.count = 0;
    await expect(openScheduleFile(file, { pollMs: 0 })).rejects.toThrow(/office-hours\.yaml: [\d,]+ KB, larger than the 512 KB/);
    expect(yamlCalls.count).toBe(0);
  });
});
