import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FigureImports, IMPORTS_TABLE, type ImportView } from '../../src/adoption/figure-imports.js';
import { FigureStore } from '../../src/adoption/figures.js';
import { AdoptionPersonalData } from '../../src/adoption/privacy.js';
import { PulseStore } from '../../src/adoption/pulse-store.js';
import { parseMeasures } from '../../src/adoption/measures.js';
import { AdoptionService } from '../../src/adoption/service.js';
import { AggregateStore, EventStore, StateStore } from '../../src/adoption/store.js';
import { importProgressText } from '../../src/adoption/cards.js';
import { ManualClock } from '../../src/clock.js';
import { TableClient } from '@azure/data-tables';
import { collect, type Tables } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';
import { reads } from '../support/table-reads.js';

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

/** Every row of the figures and the imports tables, as text. */
async function importRows(tables: Tables): Promise<string> {
  const rows = await Promise.all(['AdoptionFigures', 'AdoptionFigureImports'].map(async (n) => collect((await tables.table(n)).listEntities())));
  return JSON.stringify(rows);
}

const LEAD_SUBJECT = { ids: ['AAD-LEAD'], name: 'Lee Lead' };
const ANN_SUBJECT = { ids: ['aad-ann'], name: 'Ann Analyst' };
const STAND_IN = { id: 'former-77ab', name: 'Former member 77ab' };

async function setup(opts: { failAfterSave?: number; afterSave?: (n: number) => Promise<void> } = {}) {
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
      await opts.afterSave?.(saves);
      return out;
    },
    replacedBy: figures.replacedBy.bind(figures),
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
  const data = new AdoptionPersonalData({ pulses: await PulseStore.open(tables), figures, imports, events: await EventStore.open(tables), clock });
  return { tables, adoption, figures, imports, other, clock, seen, data };
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

  it('stopped for a shutdown, goes no further on this instance and lets the job go: another instance finishes it at its next upkeep, not once the claim runs out', async () => {
    // The shutdown begins while the second batch (figures 101–200) is being written.
    let reached: () => void = () => {};
    let open: () => void = () => {};
    const inSecond = new Promise<void>((r) => (reached = r));
    const gate = new Promise<void>((r) => (open = r));
    const { adoption, figures, imports, other } = await setup({
      afterSave: async (n) => {
        if (n !== 2) return;
        reached();
        await gate;
      },
    });
    const res = await adoption.importFigures(lead, ['measure,date,value', ...exportRows(700)].join('\n'), 'csv');
    if (!res.ok || !('staged' in res)) throw new Error('not staged');
    adoption.startImport(res.staged.id);
    await inSecond;
    const stopped = imports.stop();
    open();
    await stopped;
    // The batch in flight is recorded; none after it is started here.
    expect(await adoption.importStatus(lead, res.staged.id)).toMatchObject({ state: 'running', written: 200 });
    // No time has passed: the claim this instance took would hold for minutes more, were it not let go.
    expect(await other.upkeep()).toBe(1);
    await other.idle();
    expect(await adoption.importStatus(lead, res.staged.id)).toMatchObject({ state: 'done', written: 700, replacedCount: 0 });
    const all = await figures.all();
    expect(all.length).toBe(700);
    expect(all.every((f) => f.enteredBy === 'Lee Lead')).toBe(true);
  });
});

describe('forgetting the person who started a large import while it runs', () => {
  it('leaves no figure, job row or progress card naming them once it is resumed; `my data` listed the running import', async () => {
    const { tables, adoption, figures, imports, other, clock, seen, data } = await setup({ failAfterSave: 3 });
    const res = await adoption.importFigures(lead, ['measure,date,value', ...exportRows(1_000)].join('\n'), 'csv');
    if (!res.ok || !('staged' in res)) throw new Error('not staged');
    adoption.startImport(res.staged.id);
    await imports.idle();
    expect(await adoption.importStatus(lead, res.staged.id)).toMatchObject({ state: 'running', written: 200 });
    expect((await data.export(LEAD_SUBJECT)).figureImportsRunning).toEqual([{ import: res.staged.id, startedAt: res.staged.at, via: 'csv', figures: 1_000, writtenSoFar: 200 }]);
    expect((await data.describe(LEAD_SUBJECT)).holdings.find((h) => h.kind === 'adoption.figureImports')?.count).toBe(1);

    await data.forget(LEAD_SUBJECT, STAND_IN);
    // Already off the job row while it waits to be resumed.
    expect(await importRows(tables)).not.toContain('Lee Lead');
    seen.length = 0;
    clock.advance(4 * 60_000);
    expect(await other.upkeep()).toBe(1);
    await other.idle();
    expect(await adoption.importStatus(lead, res.staged.id)).toMatchObject({ state: 'done', written: 1_000 });
    const rows = await importRows(tables);
    expect(rows).not.toContain('aad-lead');
    expect(rows).not.toContain('Lee Lead');
    const all = await figures.all();
    expect(all.filter((f) => f.enteredById === STAND_IN.id && f.enteredBy === STAND_IN.name).length).toBe(1_000);
    // The progress card said "Imported by" the stand-in, never the person.
    expect(seen.filter((v) => v.state === 'running').map((v) => v.by.name)).toContain(STAND_IN.name);
    expect(JSON.stringify(seen)).not.toContain('Lee Lead');
  }, 60_000);

  it('between a batch written and recorded: the batch is written again under the stand-in, and counted once', async () => {
    let forgotten = false;
    const ctx: { data?: AdoptionPersonalData } = {};
    // `forget` runs right after the second batch lands, before the job records it.
    const { tables, adoption, figures, imports, data } = await setup({
      afterSave: async (n) => {
        if (n !== 2 || forgotten) return;
        forgotten = true;
        await ctx.data!.forget(LEAD_SUBJECT, STAND_IN);
      },
    });
    ctx.data = data;
    const res = await adoption.importFigures(lead, ['measure,date,value', ...exportRows(500)].join('\n'), 'csv');
    if (!res.ok || !('staged' in res)) throw new Error('not staged');
    adoption.startImport(res.staged.id);
    await imports.idle();
    expect(forgotten).toBe(true);
    expect(await adoption.importStatus(lead, res.staged.id)).toMatchObject({ state: 'done', written: 500, replacedCount: 0 });
    expect(await importRows(tables)).not.toContain('aad-lead');
    expect((await figures.all()).every((f) => f.enteredById === STAND_IN.id)).toBe(true);
  }, 60_000);
});

describe('a finished import’s record', () => {
  it('names whose figures it replaced as the figures now say (forget reaches it), and is deleted 30 days on', async () => {
    const { tables, adoption, figures, imports, clock, data } = await setup();
    await figures.save([{ measureId: 'report-days', date: '2026-12-31', value: 1000 }], { ...colleague, at: new Date() });
    const res = await adoption.importFigures(lead, ['measure,date,value', ...exportRows(300)].join('\n'), 'csv');
    if (!res.ok || !('staged' in res)) throw new Error('not staged');
    adoption.startImport(res.staged.id);
    await imports.idle();
    expect(importProgressText((await adoption.importStatus(lead, res.staged.id))!)).toBe('Imported 300 figures, replaced 1: report-days on 2026-12-31 (1000, by Ann Analyst).');

    await data.forget(ANN_SUBJECT, STAND_IN);
    const rows = await importRows(tables);
    expect(rows).not.toContain('Ann Analyst');
    expect(rows).not.toContain('aad-ann');
    expect(importProgressText((await adoption.importStatus(lead, res.staged.id))!)).toBe(`Imported 300 figures, replaced 1: report-days on 2026-12-31 (1000, by ${STAND_IN.name}).`);

    // The scheduled upkeep reads no finished job each tick, and deletes one once it is 30 days old.
    const tick = await reads(() => imports.upkeep(), { table: 'AdoptionFigureImports' });
    expect(tick).toMatchObject({ value: 0, rows: 0 });
    clock.advance(29 * 86_400_000);
    await imports.upkeep();
    expect(await adoption.importStatus(lead, res.staged.id)).toMatchObject({ state: 'done' });
    clock.advance(2 * 86_400_000);
    await imports.upkeep();
    expect(await adoption.importStatus(lead, res.staged.id)).toBeUndefined();
  }, 60_000);
});

/**
 * The same storage, except that the imports table refuses the first `job` row (storage failing as a staging ends,
 * after its batches were written): the staging fails part-way and leaves its batch rows behind.
 */
function refusingFirstJobRow(tables: Tables): Tables {
  let refused = false;
  const refusing = (client: TableClient) =>
    new Proxy(client, {
      get(target, prop) {
        if (prop === 'createEntity') {
          return async (entity: Parameters<TableClient['createEntity']>[0]) => {
            if (!refused && entity.rowKey === 'job') {
              refused = true;
              throw Object.assign(new Error('storage did not answer'), { statusCode: 503 });
            }
            return target.createEntity(entity);
          };
        }
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  return Object.assign(Object.create(tables) as Tables, {
    table: async (name: string) => (name === IMPORTS_TABLE ? refusing(await tables.table(name)) : tables.table(name)),
  });
}

describe('a large import whose staging failed part-way', () => {
  it('leaves batch rows that the upkeep deletes once they are an hour old; a finished import and a staged one are untouched', async () => {
    const { tables, adoption, figures, imports, clock } = await setup();
    const failing = await FigureImports.open(refusingFirstJobRow(tables), { figures, clock, holderId: 'one', log: quiet });
    const table = await tables.table(IMPORTS_TABLE);
    const rowsOf = async (id: string) => (await collect(table.listEntities({ queryOptions: { filter: `PartitionKey eq '${id}'` } }))).map((r) => r.rowKey);
    const parsed = (n: number) => exportRows(n).map((r) => r.split(',')).map(([m, d, v]) => ({ measureId: m!, date: d!, value: Number(v) }));

    // A finished import, and one staged whole whose instance stopped before it ran.
    const finished = await adoption.importFigures(lead, ['measure,date,value', ...exportRows(300)].join('\n'), 'csv');
    if (!finished.ok || !('staged' in finished)) throw new Error('not staged');
    adoption.startImport(finished.staged.id);
    await imports.idle();
    const staged = await imports.stage(parsed(500).map((f) => ({ ...f, value: f.value + 1 })), { ...colleague });

    // Storage fails as the staging ends: the importer is told it failed; its ten batches stay, and no job names them.
    await expect(failing.stage(parsed(1_000), { ...colleague })).rejects.toThrow('storage did not answer');
    const orphan = (await collect(table.listEntities<{ rowKey: string }>({ queryOptions: { filter: `RowKey eq 'b0000'` } })))
      .map((r) => String(r.partitionKey))
      .find((id) => id !== staged.id);
    expect(orphan).toBeDefined();
    expect(await rowsOf(orphan!)).toHaveLength(10);
    expect(await imports.status(orphan!)).toBeUndefined();

    // Within the hour another instance may still be staging it: left alone.
    clock.advance(30 * 60_000);
    await imports.upkeep();
    expect(await rowsOf(orphan!)).toHaveLength(10);

    clock.advance(31 * 60_000);
    expect(await imports.upkeep()).toBe(1); // the staged import, whose claim lapsed, is taken up
    await imports.idle();
    expect(await rowsOf(orphan!)).toEqual([]);
    expect(await rowsOf(finished.staged.id)).toEqual(['job']);
    expect(await adoption.importStatus(lead, finished.staged.id)).toMatchObject({ state: 'done', written: 300 });
    expect(await imports.status(staged.id)).toMatchObject({ state: 'done', written: 500 });
    expect(await rowsOf(staged.id)).toEqual(['job']);
    expect((await figures.all()).length).toBe(500);
  }, 60_000);
});

describe('the overview with thousands of figures entered over the years', () => {
  it('reads the charted weeks’ figures and each measure’s latest, not every figure', async () => {
    const { adoption, figures } = await setup();
    // 5,000 figures from 2026-12-31 back (the charted twelve weeks hold some 200 of them), then a recent one.
    const old = exportRows(5_000).map((r) => r.split(','));
    for (let i = 0; i < old.length; i += 100) {
      await figures.save(old.slice(i, i + 100).map(([m, d, v]) => ({ measureId: m!, date: d!, value: Number(v) })), { ...colleague, at: new Date() });
    }
    await figures.save([{ measureId: 'report-days', date: '2027-01-08', value: 3 }], { ...colleague, at: new Date() });
    const { value: overview, rows } = await reads(() => adoption.overview(), { table: 'AdoptionFigures' });
    const byId = Object.fromEntries(overview.measures.map((m) => [m.id, m]));
    expect(byId['report-days']!.latest).toMatchObject({ date: '2027-01-08', value: 3 });
    expect(byId['totals-matching']!.latest).toMatchObject({ date: '2026-12-31' });
    expect(rows).toBeLessThan(400);
    // A measure with no figure in the charted weeks still shows its latest: looked for a year back, then further.
    expect(await figures.since(['report-days'], '2027-06-01')).toMatchObject([{ date: '2027-01-08', value: 3 }]);
    expect(await figures.since(['active-field-staff'], '2028-06-01')).toMatchObject([{ date: '2026-12-31' }]);
  }, 120_000);
});
