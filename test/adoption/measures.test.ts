import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MeasuresFile } from '../../src/adoption/measures-file.js';
import { applyMeasureEdit, lowerIsBetter, MeasuresError, parseMeasures, versionOf } from '../../src/adoption/measures.js';

const SAMPLE = readFileSync('sample/measures.yaml', 'utf8');

// Counts YAML parses: an oversized file must be refused before the (synchronous) parser sees it.
const yamlCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock('yaml', async (importOriginal) => {
  const yaml = await importOriginal<typeof import('yaml')>();
  return {
    ...yaml,
    parseDocument: (...args: Parameters<typeof yaml.parseDocument>) => (yamlCalls.count++, yaml.parseDocument(...args)),
  };
});

/** About 2 MB of well-formed measures (a file may hold 30). */
const HUGE = `measures:\n${Array.from(
  { length: 10_000 },
  (_, i) => `  - id: m-${i}\n    name: Measure ${i}\n    unit: "%"\n    baseline: { value: 0, date: 2026-09-07 }\n    target: { value: 80, by: 2026-10-19 }\n    source: ims\n\n`,
).join('')}`;
const TOO_LARGE = /measures\.yaml: [\d,]+ KB, larger than the 64 KB it may be/;

const dirs: string[] = [];
const files: MeasuresFile[] = [];
afterEach(() => {
  for (const f of files.splice(0)) f.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rd-measures-'));
  dirs.push(dir);
  const file = path.join(dir, 'measures.yaml');
  writeFileSync(file, text);
  return file;
}

describe('the measures file', () => {
  it('reads the sample: baseline, target, date and where the figures come from', () => {
    const measures = parseMeasures(SAMPLE);
    const report = measures.find((m) => m.id === 'report-days')!;
    expect(report).toMatchObject({
      name: 'Median days to submit the monthly report',
      baseline: { value: 5, date: '2026-09-01' },
      target: { value: 2, by: '2027-03-31' },
      source: { kind: 'ims' },
    });
    expect(lowerIsBetter(report)).toBe(true);
    expect(measures.find((m) => m.id === 'days-to-resolve')?.source).toEqual({ kind: 'bot', metric: 'medianDaysToResolve' });
  });

  it('names the bad entry: which measure, which field, and why', () => {
    const bad = SAMPLE.replace('target: { value: 2, by: 2027-03-31 }', 'target: { value: 2, by: 2027-02-30 }');
    expect(() => parseMeasures(bad, 'measures.yaml')).toThrow(
      'measures.yaml: measures[0] (report-days).target.by: must be a date like 2027-03-31',
    );
    expect(() => parseMeasures(SAMPLE.replace('by: 2027-03-31', 'by: 2027-13-01'))).toThrow(/target\.by: must be a date like 2027-03-31/);
    const unknown = SAMPLE.replace('source: bot.shareAnswered', 'source: bot.happiness');
    expect(() => parseMeasures(unknown)).toThrow(/measures\[3\] \(questions-answered\)\.source: must be "ims" or one of bot\.weeklyActiveUsers/);
    const twice = SAMPLE.replace('id: totals-matching', 'id: report-days');
    expect(() => parseMeasures(twice)).toThrow(/measures\[2\] \(report-days\)\.id: "report-days" is used twice/);
    expect(() => parseMeasures('measures: [ {')).toThrow(MeasuresError);
  });

  it('applies an edit field by field, keeping the comments', () => {
    const out = applyMeasureEdit(SAMPLE, {
      kind: 'update',
      id: 'active-field-staff',
      input: { name: 'Field staff active weekly', unit: '%', baselineValue: '0', baselineDate: '2026-09-07', targetValue: '85', targetBy: '2026-10-19', source: 'ims' },
    });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.text).toContain('# week 6 of the pilot');
    expect(out.text).toContain('# The FieldLedger rollout');
    expect(out.measures.find((m) => m.id === 'active-field-staff')).toMatchObject({ name: 'Field staff active weekly', target: { value: 85 } });
  });

  it('refuses a bad edit with the field named, and changes nothing', () => {
    const out = applyMeasureEdit(SAMPLE, { kind: 'add', input: { id: 'Report Days', name: '', baselineValue: 'five', baselineDate: '2026-01-01', targetValue: '2', targetBy: 'soon' } });
    expect(out).toEqual({
      ok: false,
      errors: {
        id: 'must be lower-case letters, digits and dashes (like report-days)',
        name: 'must not be empty',
        baselineValue: 'Baseline: "five" is not a number',
        targetBy: 'must be a date like 2027-03-31',
      },
    });
  });

  it('reads a baseline or target typed with a decimal comma as a mistake, not as ten times the value', () => {
    const input = { id: 'rework', name: 'Reports sent back', baselineDate: '2026-01-01', targetBy: '2027-01-01' };
    expect(applyMeasureEdit(SAMPLE, { kind: 'add', input: { ...input, baselineValue: '2,5', targetValue: '0x10' } })).toEqual({
      ok: false,
      errors: {
        baselineValue: 'Baseline: "2,5" is not a number (write decimals with a point, like 2.5)',
        targetValue: 'Target: "0x10" is not a number',
      },
    });
    const ok = applyMeasureEdit(SAMPLE, { kind: 'add', input: { ...input, baselineValue: '1,250', targetValue: '12.5%' } });
    expect(ok.ok && ok.measures.at(-1)).toMatchObject({ baseline: { value: 1250 }, target: { value: 12.5 } });
  });

  it('reads a baseline or target typed as ".5" or "+5" as 0.5 and 5, as people mean them', () => {
    const input = { id: 'rework', name: 'Reports sent back', baselineDate: '2026-01-01', targetBy: '2027-01-01' };
    const out = applyMeasureEdit(SAMPLE, { kind: 'add', input: { ...input, baselineValue: '+5', targetValue: '.5' } });
    expect(out.ok ? out.measures.at(-1) : out).toMatchObject({ baseline: { value: 5 }, target: { value: 0.5 } });
    // Still refused: a decimal comma, and a sign or a point with no digits.
    const bad = applyMeasureEdit(SAMPLE, { kind: 'add', input: { ...input, baselineValue: ',5', targetValue: '+.' } });
    expect(bad).toEqual({ ok: false, errors: { baselineValue: 'Baseline: ",5" is not a number (write decimals with a point, like 2.5)', targetValue: 'Target: "+." is not a number' } });
  });
});

describe('a measure added or edited from the card', () => {
  const input = { id: 'rework', name: 'Reports sent back', baselineValue: '10', baselineDate: '2026-01-01', targetValue: '2', targetBy: '2027-01-01' };

  it('may not take the name of another measure, in another case or accent encoding: a figure typed by name must find one measure', () => {
    expect(applyMeasureEdit(SAMPLE, { kind: 'add', input: { ...input, name: ' MEDIAN days to  submit the monthly report' } })).toEqual({
      ok: false,
      errors: { name: 'another measure (report-days) has this name; choose another' },
    });
    const renamed = applyMeasureEdit(SAMPLE, { kind: 'update', id: 'totals-matching', input: { ...input, name: 'Field staff active in FieldLedger' } });
    expect(renamed).toEqual({ ok: false, errors: { name: 'another measure (active-field-staff) has this name; choose another' } });
    // Its own name kept on an edit is no clash.
    expect(applyMeasureEdit(SAMPLE, { kind: 'update', id: 'report-days', input: { ...input, name: 'Median days to submit the monthly report' } }).ok).toBe(true);
  });

  it('may not be due on or before its baseline date (dates swapped by mistake): it would read as behind from the start', () => {
    expect(applyMeasureEdit(SAMPLE, { kind: 'add', input: { ...input, baselineDate: '2027-01-01', targetBy: '2026-01-01' } })).toEqual({
      ok: false,
      errors: { targetBy: 'must be after the baseline date (2027-01-01)' },
    });
    expect(applyMeasureEdit(SAMPLE, { kind: 'add', input: { ...input, baselineDate: '2027-01-01', targetBy: '2027-01-01' } }).ok).toBe(false);
  });

  it('may not have its target equal to its baseline: nothing would say which way is better', () => {
    expect(applyMeasureEdit(SAMPLE, { kind: 'add', input: { ...input, baselineValue: '5', targetValue: '5.0' } })).toEqual({
      ok: false,
      errors: { targetValue: 'Target: must differ from the baseline (5), so it says whether higher or lower is better' },
    });
  });
});

describe('MeasuresFile', () => {
  it('writes an edit made on a current card and refuses one made on a stale card', async () => {
    const file = tempFile(SAMPLE);
    const f = await MeasuresFile.open(file, { pollMs: 0 });
    files.push(f);
    const version = f.version;
    const add = await f.edit(
      { kind: 'add', input: { id: 'trained', name: 'Staff trained before go-live', unit: '%', baselineValue: '0', baselineDate: '2026-08-01', targetValue: '95', targetBy: '2026-09-07', source: 'ims' } },
      version,
    );
    expect(add.ok).toBe(true);
    expect(parseMeasures(readFileSync(file, 'utf8')).map((m) => m.id)).toContain('trained');

    // A second card still showing the old version: refused, with the fresh measures to show again.
    const stale = await f.edit({ kind: 'remove', id: 'report-days' }, version);
    expect(stale).toMatchObject({ ok: false, stale: true });
    expect(parseMeasures(readFileSync(file, 'utf8')).map((m) => m.id)).toContain('report-days');
    expect(f.version).toBe(versionOf(readFileSync(file, 'utf8')));
  });

  it('keeps the measures in use when a hand edit breaks the file, and says which entry', async () => {
    const file = tempFile(SAMPLE);
    const warnings: string[] = [];
    const f = await MeasuresFile.open(file, { pollMs: 0, onWarning: (w) => warnings.push(w) });
    files.push(f);
    writeFileSync(file, SAMPLE.replace('value: 92', 'value: ninety'));
    expect(await f.reload()).toBe(false);
    expect(f.current.find((m) => m.id === 'totals-matching')?.baseline.value).toBe(92);
    expect(warnings.join('\n')).toMatch(/measures\[2\] \(totals-matching\)\.baseline\.value: must be a number; the previous version stays in use/);
    writeFileSync(file, SAMPLE.replace('value: 92', 'value: 90'));
    expect(await f.reload()).toBe(true);
    expect(f.current.find((m) => m.id === 'totals-matching')?.baseline.value).toBe(90);
  });

  it('picks up a saved change without being asked (watch or poll)', async () => {
    const file = tempFile(SAMPLE);
    const f = await MeasuresFile.open(file, { pollMs: 50, debounceMs: 20 });
    files.push(f);
    const changed = new Promise<string[]>((resolve) => f.on('changed', (m) => resolve(m.map((x) => x.name))));
    writeFileSync(file, SAMPLE.replace('Median days to submit the monthly report', 'Days to submit the K-05'));
    expect(await changed).toContain('Days to submit the K-05');
  });

  it('an edit that makes the file huge is refused unread: the file, its size and the limit named, the measures in use kept', async () => {
    const file = tempFile(SAMPLE);
    const warnings: string[] = [];
    const f = await MeasuresFile.open(file, { pollMs: 0, onWarning: (w) => warnings.push(w) });
    files.push(f);
    writeFileSync(file, HUGE);
    yamlCalls.count = 0;
    expect(await f.reload()).toBe(false);
    expect(yamlCalls.count).toBe(0);
    expect(warnings.at(-1)).toMatch(new RegExp(`^${TOO_LARGE.source}; the previous version stays in use$`));
    expect(f.current.map((m) => m.id)).toContain('totals-matching');

    // An edit from Teams reads the file too: refused the same way, unread, and nothing written.
    const out = await f.edit({ kind: 'remove', id: 'report-days' }, f.version);
    expect(out).toMatchObject({ ok: false, errors: { form: expect.stringMatching(TOO_LARGE) } });
    expect(yamlCalls.count).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(HUGE);

    // At start the same file is refused as a malformed one is: the app does not start on it.
    await expect(MeasuresFile.open(file, { pollMs: 0 })).rejects.toThrow(TOO_LARGE);
    expect(yamlCalls.count).toBe(0);
  });

  it('an edit from Teams that would push the file past its limit is refused and nothing written', async () => {
    // Just under 64 KB, mostly comments (kept by edits): one more measure would not fit.
    const text = `${'# a note the rollout team keeps\n'.repeat(Math.floor((64 * 1024 - SAMPLE.length - 40) / 32))}${SAMPLE}`;
    const file = tempFile(text);
    const f = await MeasuresFile.open(file, { pollMs: 0 });
    files.push(f);
    const out = await f.edit(
      { kind: 'add', input: { id: 'trained', name: 'Staff trained before go-live', unit: '%', baselineValue: '0', baselineDate: '2026-08-01', targetValue: '95', targetBy: '2026-09-07', source: 'ims' } },
      f.version,
    );
    expect(out).toMatchObject({ ok: false, errors: { form: expect.stringMatching(/larger than the 64 KB it may be/) } });
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
