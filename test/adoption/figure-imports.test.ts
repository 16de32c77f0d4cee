import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FigureImports, type ImportView } from '../../src/adoption/figure-imports.js';
import { FigureStore } from '../../src/adoption/figures.js';
import { parseMeasures } from '../../src/adoption/measures.js';
import { AdoptionService } from '../../src/adoption/service.js';
import { AggregateStore, StateStore } from '../../src/adoption/store.js';
import { importProgressText } from '../../src/adoption/cards.js';
import { ManualClock } from '../../src/clock.js';
import { testTables } from '../support/storage.js';

const MEASURES = parseMeasures(readFileSync('sample/measures.yaml', 'utf8'));
const TODAY = '2027-01-11';
const lead = { person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' as const };
const colleague = { id: 'aad-ann', name: 'Ann Analyst', via: 'card' as const };
const quiet = { info: () => {}, warn: () => {} };

/** `n` distinct figures over the IMS measures, one a day back from 2026-12-31: a whole export. */
function exportRows(n: number, value = (i: number) => String(i % 97)): string[] {
  const ims = ['report-days', 'active-field-staff', 'totals-matching'];
  return Array.from({ length: n }, (_, i) => {
    const day = new Date(Date.UTC(2026, 11, 31) - Math.floor(i / ims.length) * 86_400_000).toISOString().slice(0, 10);
    return `${ims[i % ims.length]},${day},${value(i)}`;
  });
}

async function setup(opts: { failAfterSave?: number } = {}) {
  const tables = testTables();
  const clock = new ManualClock(`${TODAY}T09:00:00Z`);
  const figures = await FigureStore.open(tables);
  let saves = 0;
  const seen: ImportView[] = [];
  // The instance "stops" right after a batch lands and before the job records it: the worst place for a fault.
  const stopping = {
    save: async (...args: Parameters<FigureStore['save']>) => {
      const out = await figures.save(...args);
      if (++saves === opts.failAfterSave) throw new Error('instance stopped');
      return out;
    },
  };
  const imports = await FigureImports.open(tables, { figures: stopping, clock, holderId: 'one', log: quiet, progress: async (v) => void seen.push(v) });
  const adoption = new AdoptionService({
    measures: { current: MEASURES, version: 'v', edit: async () => ({ ok: false, errors: {} }) },
    figures,
    imports,
    aggregates: await AggregateStore.open(tables),
    state: await StateStore.open(tables),
    clock,
    providers: {},
    weeks: 12,
  });
  const other = await FigureImports.open(tables, { figures, clock, holderId: 'two', log: quiet, progress: async (v) => void seen.push(v) });
  return { adoption, figures, imports, other, clock, seen };
}

describe('a CSV of thousands of figures (test/http/adoption.test.ts takes 10,000 from the card)', () => {
  it('is checked whole, then written in batches off the call, and ends "imported N figures, replaced M"', async () => {
    const { adoption, figures, imports, seen } = await setup();
    // Two figures a colleague entered before, with other values: the import replaces them, and says so.
    await figures.save([{ measureId: 'report-days', date: '2026-12-31', value: 1000 }], { ...colleague, at: new Date() });
    await figures.save([{ measureId: 'active-field-staff', date: '2026-01-01', value: 1000 }], { ...colleague, at: new Date() });
    const csv = ['measure,date,value', ...exportRows(2_500)].join('\r\n');
    const res = await adoption.importFigures(lead, csv, 'csv');
    if (!res.ok || !('staged' in res)) throw new Error(`not staged: ${JSON.stringify(res).slice(0, 300)}`);
    expect(res.staged).toMatchObject({ total: 2_500, written: 0, state: 'running' });
    // Nothing is written until the job runs: the call only checked and staged it.
    expect((await figures.all()).length).toBe(2);
    adoption.startImport(res.staged.id);
    await imports.idle();
    const all = await figures.all();
    expect(all.length).toBe(2_500);
    expect(all.filter((f) => f.enteredBy === 'Lee Lead').length).toBe(2_500);
    const done = await adoption.importStatus(lead, res.staged.id);
    expect(done).toMatchObject({ state: 'done', written: 2_500, replacedCount: 2 });
    expect(importProgressText(done!)).toBe(
      'Imported 2,500 figures, replaced 2: report-days on 2026-12-31 (1000, by Ann Analyst); active-field-staff on 2026-01-01 (1000, by Ann Analyst).',
    );
    // Followed as it went: about ten progress steps, then the end.
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(seen.length).toBeLessThanOrEqual(12);
    expect(seen.at(-1)).toMatchObject({ state: 'done', written: 2_500 });
  }, 60_000);

  it('with one bad row, names its line and writes nothing', async () => {
    const { adoption, figures } = await setup();
    const rows = exportRows(10_000);
    rows[7_000] = 'report-days,2026-13-01,3';
    const res = await adoption.importFigures(lead, ['measure,date,value', ...rows].join('\n'), 'tab');
    expect(res).toEqual({ ok: false, message: 'Nothing was imported: fix these rows and import the file again.', errors: ['line 7002: the date "2026-13-01" must be like 2027-03-31'] });
    expect(await figures.all()).toEqual([]);
  });

  it('more than 10,000 is refused with the bound named, and nothing written', async () => {
    const { adoption, figures } = await setup();
    const res = await adoption.importFigures(lead, ['measure,date,value', ...exportRows(10_001)].join('\n'), 'csv');
    expect(res).toMatchObject({ ok: false, errors: ['the file has 10,001 figures; import at most 10,000 at a time'] });
    expect(await figures.all()).toEqual([]);
  });
});

describe('a large import whose instance stops part-way', () => {
  it('is resumed by another instance from the batch it stopped at: nothing lost, nothing counted twice', async () => {
    // It stops just after the third batch (figures 201–300) lands, before the job records it.
    const { adoption, figures, imports, other, clock } = await setup({ failAfterSave: 3 });
    // A colleague's figure in that third batch: replaced once, and counted once.
    const rows = exportRows(1_000, () => '5');
    const [m, d] = rows[250]!.split(',');
    await figures.save([{ measureId: m!, date: d!, value: 9 }], { ...colleague, at: new Date() });
    const res = await adoption.importFigures(lead, ['measure,date,value', ...rows].join('\n'), 'csv');
    if (!res.ok || !('staged' in res)) throw new Error('not staged');
    adoption.startImport(res.staged.id);
    await imports.idle();
    expect(await adoption.importStatus(lead, res.staged.id)).toMatchObject({ state: 'running', written: 200 });
    // Its claim still holds: the upkeep elsewhere leaves it alone; once it lapses, another instance takes it up.
    expect(await other.upkeep()).toBe(0);
    clock.advance(4 * 60_000);
    expect(await other.upkeep()).toBe(1);
    await other.idle();
    const done = await adoption.importStatus(lead, res.staged.id);
    expect(done).toMatchObject({ state: 'done', written: 1_000, replacedCount: 1, replaced: [{ measureId: m, date: d, value: 9, enteredBy: 'Ann Analyst' }] });
    const all = await figures.all();
    expect(all.length).toBe(1_000);
    expect(all.every((f) => f.value === 5 && f.enteredBy === 'Lee Lead')).toBe(true);
    // The figure keeps what it replaced, for the dashboard to show.
    expect(all.find((f) => f.measureId === m && f.date === d)?.replaced).toEqual({ value: 9, enteredBy: 'Ann Analyst', enteredById: 'aad-ann' });
  }, 60_000);

  it('stopped for a shutdown, goes no further on this instance, and is finished by another once its claim lapses', async () => {
    const { adoption, figures, imports, other, clock } = await setup();
    const res = await adoption.importFigures(lead, ['measure,date,value', ...exportRows(700)].join('\n'), 'csv');
    if (!res.ok || !('staged' in res)) throw new Error('not staged');
    adoption.startImport(res.staged.id);
    await imports.stop();
    const stopped = await adoption.importStatus(lead, res.staged.id);
    expect(stopped).toMatchObject({ state: 'running' });
    expect(stopped!.written).toBeLessThan(700);
    clock.advance(4 * 60_000);
    expect(await other.upkeep()).toBe(1);
    await other.idle();
    expect(await adoption.importStatus(lead, res.staged.id)).toMatchObject({ state: 'done', written: 700 });
    expect((await figures.all()).length).toBe(700);
  });
});
