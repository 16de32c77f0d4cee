import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkFigure, FigureStore, MAX_IMPORT_ROWS, parseFiguresCsv } from '../../src/adoption/figures.js';
import { readNumber } from '../../src/adoption/numbers.js';
import { parseMeasures } from '../../src/adoption/measures.js';
import { AdoptionService } from '../../src/adoption/service.js';
import { AggregateStore, StateStore } from '../../src/adoption/store.js';
import { ManualClock } from '../../src/clock.js';
import { testTables } from '../support/storage.js';
import { reads } from '../support/table-reads.js';

const MEASURES = parseMeasures(readFileSync('sample/measures.yaml', 'utf8'));
const TODAY = '2027-01-11';

async function service() {
  const tables = testTables();
  const figures = await FigureStore.open(tables);
  const adoption = new AdoptionService({
    measures: { current: MEASURES, version: 'v', edit: async () => ({ ok: false, errors: {} }) },
    figures,
    aggregates: await AggregateStore.open(tables),
    state: await StateStore.open(tables),
    clock: new ManualClock(`${TODAY}T09:00:00Z`),
    providers: {},
    weeks: 12,
  });
  return { adoption, figures };
}

const lead = { person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' as const };

describe('IMS figures from a CSV', () => {
  it('reads measure, date and value by header, in any column order, quoted or not', () => {
    const csv = 'Date;Value;Measure\r\n2027-01-04;3.5;report-days\r\n2027-01-04;"61%";Field staff active in FieldLedger\r\n';
    expect(parseFiguresCsv(csv, MEASURES, TODAY)).toEqual({
      ok: true,
      figures: [
        { measureId: 'report-days', date: '2027-01-04', value: 3.5 },
        { measureId: 'active-field-staff', date: '2027-01-04', value: 61 },
      ],
    });
  });

  it('names every bad row: an unknown or computed measure, a bad or future date, a value that is not a number, a repeat', () => {
    const csv = [
      'measure,date,value',
      'report-days,2027-01-04,3',
      'report-dayz,2027-01-04,3',
      'questions-answered,2027-01-04,70',
      'report-days,04/01/2027,3',
      'report-days,2027-02-01,3',
      'totals-matching,2027-01-04,high',
      'report-days,2027-01-04,2.5',
    ].join('\n');
    const out = parseFiguresCsv(csv, MEASURES, TODAY);
    expect(out).toEqual({
      ok: false,
      errors: [
        'line 3: "report-dayz" is not a measure with figures from the IMS (report-days, active-field-staff, totals-matching)',
        'line 4: "questions-answered" is not a measure with figures from the IMS (report-days, active-field-staff, totals-matching)',
        'line 5: the date "04/01/2027" must be like 2027-03-31',
        'line 6: the date 2027-02-01 is in the future',
        'line 7: the value "high" is not a number',
        'line 8: report-days on 2027-01-04 is already on line 2',
      ],
    });
  });

  it('names the physical line a row starts on, after a quoted value that spans lines', () => {
    // Line 2's value is quoted across lines 2–3 (and reads as 3); line 6's across lines 6–8.
    const csv = 'measure,date,value\r\nreport-days,2027-01-04,"3\r\n"\r\nreport-days,2027-01-05,x\r\n\r\nreport-days,2027-01-06,"4\nand\nmore"\nreport-days,2027-01-04,5\n';
    const out = parseFiguresCsv(csv, MEASURES, TODAY);
    expect(out).toEqual({
      ok: false,
      errors: [
        'line 4: the value "x" is not a number',
        'line 6: the value "4\nand\nmore" is not a number',
        'line 9: report-days on 2027-01-04 is already on line 2',
      ],
    });
  });

  it('cuts a long value it quotes back between whole characters, never through an emoji', () => {
    const value = `${'9'.repeat(18)}👍🏽 and more`;
    const measure = `${'m'.repeat(58)}🇳🇿 and more`;
    const out = parseFiguresCsv(`measure,date,value\nreport-days,2027-01-04,${value}\n${measure},2027-01-04,3\n`, MEASURES, TODAY);
    expect(out).toMatchObject({ ok: false });
    const errors = out.ok ? [] : out.errors;
    expect(errors[0]).toBe(`line 2: the value "${'9'.repeat(18)}…" is not a number`);
    expect(errors[1]).toMatch(new RegExp(`^line 3: "${'m'.repeat(58)}…" is not a measure`));
    // No half of a surrogate pair anywhere.
    for (const e of errors) expect(e).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it('imports nothing when one row is bad, and everything when all are good', async () => {
    const { adoption, figures } = await service();
    const bad = await adoption.importFigures(lead, 'measure,date,value\nreport-days,2027-01-04,3\nreport-days,2027-01-05,x\n', 'csv');
    expect(bad).toMatchObject({ ok: false, message: 'Nothing was imported: fix these rows and import the file again.', errors: ['line 3: the value "x" is not a number'] });
    expect(await figures.all()).toEqual([]);
    const good = await adoption.importFigures(lead, 'measure,date,value\nreport-days,2027-01-04,3\nreport-days,2027-01-11,2.5\n', 'csv');
    expect(good).toEqual({ ok: true, saved: 2, replaced: [] });
    expect((await figures.all()).map((f) => [f.date, f.value, f.enteredBy, f.via])).toEqual([
      ['2027-01-04', 3, 'Lee Lead', 'csv'],
      ['2027-01-11', 2.5, 'Lee Lead', 'csv'],
    ]);
    // A figure for the same date replaces the earlier one.
    await adoption.enterFigure(lead, { measure: 'report-days', date: '2027-01-11', value: '2' }, 'card');
    expect((await figures.all()).map((f) => f.value)).toEqual([3, 2]);
    const overview = await adoption.overview();
    expect(overview.measures.find((m) => m.id === 'report-days')).toMatchObject({ latest: { value: 2, date: '2027-01-11' }, state: 'met' });
  });

  it('refuses a file longer than one import takes (10,000 figures), and anyone but the rollout team', async () => {
    const rows = Array.from({ length: MAX_IMPORT_ROWS + 1 }, (_, i) => `report-days,2026-${String(1 + Math.floor(i / 28)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')},3`);
    expect(parseFiguresCsv(['measure,date,value', ...rows].join('\n'), MEASURES, TODAY)).toEqual({
      ok: false,
      errors: ['the file has 10,001 figures; import at most 10,000 at a time'],
    });
    const { adoption, figures } = await service();
    const champion = { person: { id: 'aad-champ', name: 'Chris' }, role: 'champion' as const };
    expect(await adoption.enterFigure(champion, { measure: 'report-days', date: TODAY, value: '3' }, 'tab')).toMatchObject({ ok: false });
    expect(await figures.all()).toEqual([]);
  });
});

describe('a figure dated long before any rollout, or far ahead', () => {
  it('is refused with its line and date named, and nothing of the file is saved; the card refuses it too', async () => {
    const { adoption, figures } = await service();
    const csv = 'measure,date,value\nreport-days,2027-01-04,3\nreport-days,0001-01-01,4\nactive-field-staff,1999-12-31,50\nreport-days,9999-12-31,2\n';
    const res = await adoption.importFigures(lead, csv, 'csv');
    expect(res).toMatchObject({
      ok: false,
      message: 'Nothing was imported: fix these rows and import the file again.',
      errors: [
        'line 3: the date 0001-01-01 is before 2000-01-01: a figure is dated from then to today',
        'line 4: the date 1999-12-31 is before 2000-01-01: a figure is dated from then to today',
        'line 5: the date 9999-12-31 is in the future',
      ],
    });
    expect(await figures.all()).toEqual([]);
    expect(await adoption.enterFigure(lead, { measure: 'report-days', date: '0001-01-01', value: '4' }, 'card')).toMatchObject({ ok: false });
    expect(await figures.all()).toEqual([]);
    // The first day it takes, and today, are taken.
    expect(await adoption.importFigures(lead, 'measure,date,value\nreport-days,2000-01-01,9\nreport-days,2027-01-11,2\n', 'csv')).toMatchObject({ ok: true, saved: 2 });
  });
});

describe('a CSV with a quote that is never closed', () => {
  it('says which line the quote is on, not that a value is too long, and imports nothing', async () => {
    const { adoption, figures } = await service();
    const csv = 'measure,date,value\nreport-days,2027-01-04,3\nreport-days,2027-01-05,"4\nreport-days,2027-01-06,2\nreport-days,2027-01-07,2\n';
    const res = await adoption.importFigures(lead, csv, 'csv');
    expect(res).toMatchObject({
      ok: false,
      message: 'Nothing was imported: fix these rows and import the file again.',
      errors: ['line 3: a quote is not closed: a value on this line starts with " and no " ends it'],
    });
    expect(await figures.all()).toEqual([]);
    // Closed, the same file imports.
    expect(await adoption.importFigures(lead, csv.replace('"4', '"4"'), 'csv')).toMatchObject({ ok: true, saved: 4 });
  });
});

describe('a figure past the bound a figure may have', () => {
  it('is refused as too large, not as "not a number", on the form and in a file', () => {
    const bound = 'must be between -1,000,000,000 and 1,000,000,000';
    expect(checkFigure({ measure: 'report-days', date: '2027-01-04', value: '1000000001' }, MEASURES, TODAY)).toEqual({ ok: false, message: `the value "1000000001" ${bound}` });
    expect(checkFigure({ measure: 'report-days', date: '2027-01-04', value: '-2e9' }, MEASURES, TODAY)).toEqual({ ok: false, message: `the value "-2e9" ${bound}` });
    expect(parseFiguresCsv('measure,date,value\nreport-days,2027-01-04,"1,500,000,000"\n', MEASURES, TODAY)).toEqual({ ok: false, errors: [`line 2: the value "1,500,000,000" ${bound}`] });
    // Past what a number can hold at all: still "too large", not a different complaint.
    expect(checkFigure({ measure: 'report-days', date: '2027-01-04', value: '1e309' }, MEASURES, TODAY)).toEqual({ ok: false, message: `the value "1e309" ${bound}` });
  });
});

describe('a CSV whose header names a column twice', () => {
  it('is refused, naming the column, rather than read from whichever comes first', () => {
    expect(parseFiguresCsv('measure,date,value,Value\nreport-days,2027-01-04,3,30\n', MEASURES, TODAY)).toEqual({
      ok: false,
      errors: ['line 1: the column "value" is named twice; keep one'],
    });
  });
});

describe('figures typed in other number styles', () => {
  it('never reads a decimal comma as thousands: "2,5" and "0,125" are refused, not saved as 25 and 125', () => {
    expect(readNumber('1,234.5')).toBe(1234.5);
    expect(readNumber('1,234,567')).toBe(1234567);
    expect(readNumber('2,5')).toBeUndefined();
    expect(readNumber('0,125')).toBeUndefined();
    expect(readNumber('1234,567')).toBeUndefined();
    const out = parseFiguresCsv('measure,date,value\nreport-days,2027-01-04,"0,125"\n', MEASURES, TODAY);
    expect(out).toEqual({ ok: false, errors: ['line 2: the value "0,125" is not a number (write decimals with a point, like 2.5)'] });
  });

  it('reads ".5" and "+5" as 0.5 and 5, on the form and in either kind of file', async () => {
    const { adoption, figures } = await service();
    expect(await adoption.enterFigure(lead, { measure: 'report-days', date: '2027-01-04', value: '.5' }, 'card')).toMatchObject({ ok: true });
    expect(await adoption.enterFigure(lead, { measure: 'report-days', date: '2027-01-05', value: '+5' }, 'tab')).toMatchObject({ ok: true });
    expect((await figures.all()).map((f) => f.value)).toEqual([0.5, 5]);
    expect(parseFiguresCsv('measure,date,value\nreport-days,2027-01-04,.5\nreport-days,2027-01-05,+5\n', MEASURES, TODAY)).toMatchObject({ ok: true, figures: [{ value: 0.5 }, { value: 5 }] });
    expect(parseFiguresCsv('measure;date;value\nreport-days;2027-01-04;,5\nreport-days;2027-01-05;+5\n', MEASURES, TODAY)).toMatchObject({ ok: true, figures: [{ value: 0.5 }, { value: 5 }] });
    // A decimal comma in a comma file stays refused.
    expect(parseFiguresCsv('measure,date,value\nreport-days,2027-01-04,",5"\n', MEASURES, TODAY)).toMatchObject({ ok: false });
  });

  it('reads a semicolon-separated file (a European spreadsheet) with its decimal commas as they were meant', () => {
    const csv = '\uFEFFmeasure;date;value\r\nreport-days;2027-01-04;3,500\r\nactive-field-staff;2027-01-04;61,5\r\ntotals-matching;2027-01-04;97\r\n';
    expect(parseFiguresCsv(csv, MEASURES, TODAY)).toEqual({
      ok: true,
      figures: [
        { measureId: 'report-days', date: '2027-01-04', value: 3.5 },
        { measureId: 'active-field-staff', date: '2027-01-04', value: 61.5 },
        { measureId: 'totals-matching', date: '2027-01-04', value: 97 },
      ],
    });
  });

  it('reads cells copied from a spreadsheet and pasted on the card (tab-separated), a comma in them read as in a CSV', () => {
    const pasted = (rows: string[]) => parseFiguresCsv(['measure\tdate\tvalue', ...rows].join('\n'), MEASURES, TODAY);
    expect(pasted(['report-days\t2027-01-04\t3.5', 'active-field-staff\t2027-01-04\t61%', 'totals-matching\t2027-01-04\t1,000'])).toMatchObject({
      ok: true,
      figures: [{ measureId: 'report-days', value: 3.5 }, { measureId: 'active-field-staff', value: 61 }, { measureId: 'totals-matching', value: 1000 }],
    });
    expect(pasted(['report-days\t2027-01-04\t2,5'])).toMatchObject({ ok: false, errors: [expect.stringContaining('write decimals with a point')] });
  });

  it('refuses a point grouping thousands in a semicolon-separated file ("1.234"), rather than save it a thousand times too small', () => {
    const csv = 'measure;date;value\nreport-days;2027-01-04;1.234\nactive-field-staff;2027-01-04;0.5\n';
    expect(parseFiguresCsv(csv, MEASURES, TODAY)).toEqual({
      ok: false,
      errors: ['line 2: the value "1.234" is not a number (in this file the comma is the decimal mark: write 1234 or 1,5, without points)'],
    });
  });
});

describe('a CSV with more rows than one import takes', () => {
  it('says so first, though some rows are also bad, so the rollout team knows to split the file before fixing rows', () => {
    const rows = Array.from({ length: MAX_IMPORT_ROWS + 50 }, (_, i) => `report-days,2026-${String(1 + Math.floor(i / 28)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')},${i === 3 ? 'x' : '3'}`);
    const out = parseFiguresCsv(['measure,date,value', ...rows].join('\n'), MEASURES, TODAY);
    expect(out).toEqual({ ok: false, errors: ['the file has 10,050 figures; import at most 10,000 at a time'] });
  });
});

describe('two of the rollout team entering a figure for the same measure and date', () => {
  it('tells the second whose figure theirs replaced, by card and by import; the same figure again replaces nothing', async () => {
    const { adoption, figures } = await service();
    const ann = { person: { id: 'aad-ann', name: 'Ann Other' }, role: 'rolloutTeam' as const };
    expect(await adoption.enterFigure(ann, { measure: 'report-days', date: '2027-01-04', value: '3.5' }, 'card')).toEqual({ ok: true, saved: 1, replaced: [] });
    expect(await adoption.enterFigure(lead, { measure: 'report-days', date: '2027-01-04', value: '4' }, 'card')).toEqual({
      ok: true,
      saved: 1,
      replaced: [{ measureId: 'report-days', date: '2027-01-04', value: 3.5, enteredBy: 'Ann Other' }],
    });
    // Pressed twice: the second press replaces the same value by the same person, which is nothing to report.
    expect(await adoption.enterFigure(lead, { measure: 'report-days', date: '2027-01-04', value: '4' }, 'card')).toMatchObject({ replaced: [] });
    const csv = 'measure,date,value\nreport-days,2027-01-04,5\nreport-days,2027-01-05,2\n';
    expect(await adoption.importFigures(ann, csv, 'csv')).toEqual({
      ok: true,
      saved: 2,
      replaced: [{ measureId: 'report-days', date: '2027-01-04', value: 4, enteredBy: 'Lee Lead' }],
    });
    expect((await figures.all()).map((f) => [f.date, f.value, f.enteredBy])).toEqual([
      ['2027-01-04', 5, 'Ann Other'],
      ['2027-01-05', 2, 'Ann Other'],
    ]);
  });
});

describe('six of the rollout team saving the same figure at once', () => {
  it('all land, and each is told of exactly the figure theirs replaced: nobody is overwritten without someone being told', async () => {
    const { figures } = await service();
    const at = new Date(`${TODAY}T09:00:00Z`);
    await figures.save([{ measureId: 'report-days', date: '2027-01-04', value: 1 }], { id: 'aad-x', name: 'X', via: 'card', at });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => figures.save([{ measureId: 'report-days', date: '2027-01-04', value: 10 + i }], { id: `aad-${i}`, name: `P${i}`, via: 'card', at })),
    );
    const told = results.map((r) => r.map((f) => f.enteredBy));
    expect(told.every((t) => t.length === 1)).toBe(true);
    const last = (await figures.all())[0]!.enteredBy;
    // A chain from X to the last writer: every figure but the last is named once as replaced.
    expect(told.flat().sort()).toEqual(['X', 'P0', 'P1', 'P2', 'P3', 'P4', 'P5'].filter((n) => n !== last).sort());
  });
});

describe('an import after months of figures', () => {
  it('reads the rows of the measures and dates it writes, not every figure ever entered', async () => {
    const { figures } = await service();
    const by = { id: 'aad-lead', name: 'Lee Lead', via: 'csv' as const, at: new Date(`${TODAY}T09:00:00Z`) };
    const day = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    for (const measureId of ['report-days', 'active-field-staff', 'totals-matching']) {
      for (let i = 0; i < 300; i += 100) await figures.save(Array.from({ length: 100 }, (_, j) => ({ measureId, date: day(i + j), value: j })), by);
    }
    const { value, rows } = await reads(() =>
      figures.save([
        { measureId: 'report-days', date: '2027-01-04', value: 5 },
        { measureId: 'report-days', date: '2027-01-05', value: 2 },
        { measureId: 'active-field-staff', date: day(10), value: 1 },
      ], by),
    );
    expect(value).toEqual([{ measureId: 'active-field-staff', date: day(10), value: 10, enteredBy: 'Lee Lead' }]);
    expect(rows).toBeLessThanOrEqual(3);
  });
});

describe('a figure typed for a measure whose name reads like another measure', () => {
  // A hand-written file may hold these: a measure named as another's id, and two names that differ only in case
  // or in how an accent is encoded. A figure must never land on a measure other than the one typed.
  const ims = (id: string, name: string) =>
    `  - { id: ${id}, name: "${name}", unit: "%", baseline: { value: 10, date: 2026-01-01 }, target: { value: 80, by: 2027-06-30 }, source: ims }`;
  const LOOKALIKES = parseMeasures(
    ['measures:', ims('usage', 'Adoption'), ims('adoption', 'Usage'), ims('cafe-a', 'Caf\u00e9 visits'), ims('cafe-b', 'CAFE\u0301 VISITS')].join('\n'),
  );

  it('goes to the measure whose id was typed, not to one whose name reads the same', () => {
    expect(checkFigure({ measure: 'adoption', date: '2026-05-01', value: '5' }, LOOKALIKES, TODAY)).toEqual({
      ok: true,
      figure: { measureId: 'adoption', date: '2026-05-01', value: 5 },
    });
  });

  it('is refused, naming the ids to type, when its name is that of two measures', () => {
    const out = checkFigure({ measure: 'café visits', date: '2026-05-01', value: '5' }, LOOKALIKES, TODAY);
    expect(out).toEqual({ ok: false, message: '"café visits" is the name of more than one measure (cafe-a, cafe-b): type its id' });
    expect(parseFiguresCsv('measure,date,value\nCafé visits,2026-05-01,5\n', LOOKALIKES, TODAY)).toMatchObject({ ok: false, errors: [expect.stringContaining('line 2: "Café visits" is the name of more than one measure')] });
  });
});
