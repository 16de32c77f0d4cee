import { randomBytes } from 'node:crypto';
import { odata, type TableClient, TableTransaction } from '@azure/data-tables';
import { readEntity, retryOnConflict } from '../storage/entities.js';
import { collect, type Tables } from '../storage/tables.js';
import { isoDay, type Measure, sameName } from './measures.js';
import { type DecimalMark, FIGURE_BOUND_TEXT, readDecimal, readNumber, twoWays } from './numbers.js';
import { clip } from '../text/fit.js';

/**
 * Figures from the IMS itself (FieldLedger's own reports), entered by the rollout team for the measures
 * whose source is `ims`: one value per measure per date, from a card, the tab, or a CSV import. An import
 * is checked whole before anything is written, so a bad row means nothing is imported; up to BATCH_ROWS
 * figures are then written in one transaction, a larger import in batches off the turn (figure-imports.ts).
 *
 * Table `AdoptionFigures`: PK 'fig', RK '<measure id>~<YYYY-MM-DD>' → one partition (a rollout has a few
 * thousand figures), so a dashboard reads them all with one query and a batch is one transaction.
 */

export interface Figure {
  measureId: string;
  date: string;
  value: number;
  enteredBy: string;
  /** Who entered it, by user key (for `my data` and `forget`; figures saved before it was kept have none). */
  enteredById?: string;
  enteredAt: string;
  via: 'card' | 'csv' | 'tab';
  /** The figure this one replaced, entered by someone else or with another value (absent when it replaced none). */
  replaced?: { value: number; enteredBy: string; enteredById?: string };
}

export type FigureInput = Pick<Figure, 'measureId' | 'date' | 'value'>;

/** An earlier figure a save replaced: its value and who had entered it. */
export type Replaced = Pick<Figure, 'measureId' | 'date' | 'value' | 'enteredBy'>;

/** One transaction holds at most 100 rows: an import up to this size lands whole or not at all, within the turn. */
export const BATCH_ROWS = 100;
/**
 * The most figures one import takes: a year of daily figures for some 25 measures, a whole IMS export. A bigger
 * one is staged and written in batches of BATCH_ROWS off the turn (figure-imports.ts).
 */
export const MAX_IMPORT_ROWS = 10_000;
/**
 * Past this a CSV is not parsed, only its lines counted: 10,000 rows take some 400,000 characters, so a paste this
 * long is more than one import. It fits the activity's and the tab import's 1 MB body limits, which bound the rest.
 */
export const MAX_CSV_CHARS = 1_000_000;
const MAX_ERRORS_SHOWN = 8;
/**
 * The earliest date a figure may carry: a slip of the keyboard or a spreadsheet's empty date ("0001-01-01",
 * "1900-01-00" turned into a date) would otherwise be saved as a figure decades before any rollout, and drawn on the
 * charts as the measure's first point. The latest is today (`checkFigure`'s `today`).
 */
export const EARLIEST_FIGURE_DAY = '2000-01-01';

/**
 * The measures `text` may mean: the one with that id — exact and unique, so it wins over a name that reads the same
 * (a measure named "adoption" beside one whose id is adoption) — else those with that name, as `sameName` compares.
 */
function measuresNamed(text: string, measures: readonly Measure[]): Measure[] {
  const byId = measures.find((m) => m.id === text.trim().toLowerCase());
  return byId ? [byId] : measures.filter((m) => sameName(m.name, text));
}

/** The IMS-fed measure named by `text`: its id, or a name only it has (in any case). Only those take entries. */
export function imsMeasure(text: string, measures: readonly Measure[]): Measure | undefined {
  const found = measuresNamed(text, measures);
  return found.length === 1 && found[0]!.source.kind === 'ims' ? found[0] : undefined;
}

function imsList(measures: readonly Measure[]): string {
  return measures.filter((m) => m.source.kind === 'ims').map((m) => m.id).join(', ') || 'none: no measure has source "ims"';
}

/** Checks one figure as typed; the message says what is wrong, in the person's terms. */
export function checkFigure(
  input: { measure: string; date: string; value: string },
  measures: readonly Measure[],
  today: string,
  decimals: DecimalMark = 'point',
): { ok: true; figure: FigureInput } | { ok: false; message: string } {
  const named = measuresNamed(input.measure, measures);
  // Two measures by one name (a hand-edited file): the figure would land on whichever comes first.
  if (named.length > 1) return { ok: false, message: `"${clip(input.measure.trim(), 60)}" is the name of more than one measure (${named.map((m) => m.id).join(', ')}): type its id` };
  const measure = imsMeasure(input.measure, measures);
  if (!measure) {
    return { ok: false, message: `"${clip(input.measure.trim(), 60)}" is not a measure with figures from the IMS (${imsList(measures)})` };
  }
  const date = isoDay.safeParse(input.date);
  if (!date.success) return { ok: false, message: `the date "${clip(input.date.trim(), 20)}" must be like 2027-03-31` };
  if (date.data > today) return { ok: false, message: `the date ${date.data} is in the future` };
  if (date.data < EARLIEST_FIGURE_DAY) return { ok: false, message: `the date ${date.data} is before ${EARLIEST_FIGURE_DAY}: a figure is dated from then to today` };
  const decimalComma = decimals !== 'point';
  const typed = clip(input.value.trim(), 20);
  const unsplit = 'write 1234 or 1234,5, without thousands separators';
  if (decimals === 'comma-locale' && twoWays(input.value)) {
    return { ok: false, message: `the value "${typed}" could be read two ways, as thousands or as a decimal: ${unsplit}` };
  }
  const value = readNumber(input.value, decimalComma);
  if (value === undefined && readDecimal(input.value, decimalComma) !== undefined) {
    return { ok: false, message: `the value "${typed}" ${FIGURE_BOUND_TEXT}` };
  }
  if (value === undefined) {
    const hint = !decimalComma && input.value.includes(',')
      ? ' (write decimals with a point, like 2.5)'
      : decimals === 'comma' && input.value.includes('.')
        ? ' (in this file the comma is the decimal mark: write 1234 or 1,5, without points)'
        : decimals === 'comma-locale' && /[.,]/.test(input.value)
          ? ` (${unsplit})`
          : '';
    return { ok: false, message: `the value "${typed}" is not a number${hint}` };
  }
  return { ok: true, figure: { measureId: measure.id, date: date.data, value } };
}

/**
 * `;` when the header line has semicolons and no commas (a spreadsheet where the comma is the decimal mark); a tab
 * when it has tabs and neither (cells copied from a spreadsheet and pasted on the card), its numbers read as a CSV's.
 */
function csvSeparator(text: string): ',' | ';' | '\t' {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n|\r/, 1)[0] ?? '';
  if (first.includes(',')) return ',';
  return first.includes(';') ? ';' : first.includes('\t') ? '\t' : ',';
}

/**
 * RFC 4180 fields: commas or semicolons, double-quoted fields with "" for a quote, CRLF, LF or CR. Each row comes
 * with the physical line it starts on (1-based), so a quoted field spanning lines does not shift the rows after it.
 * `unclosed`: the line of a quote that opens a value and is never closed (the rest of the file was read into it).
 */
function parseCsvLines(text: string): { rows: { line: number; cells: string[] }[]; unclosed?: number } {
  const src = text.replace(/^\uFEFF/, '');
  const sep = csvSeparator(src);
  const rows: { line: number; cells: string[] }[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let opened = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const newline = c === '\r' && src[i + 1] === '\n' ? '\r\n' : c === '\n' || c === '\r' ? c : '';
    if (newline === '\r\n') i++;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += newline || c;
      if (newline) line++;
    } else if (c === '"' && field === '') {
      quoted = true;
      opened = line;
    }
    else if (c === sep) {
      row.push(field);
      field = '';
    } else if (newline) {
      row.push(field);
      rows.push({ line: start, cells: row });
      row = [];
      field = '';
      start = ++line;
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push({ line: start, cells: row });
  }
  return quoted ? { rows, unclosed: opened } : { rows };
}

/**
 * A CSV of figures (`measure,date,value`, a header first) → the figures, or every bad row named ("line 4:
 * …"). Nothing is returned to write unless every row is good.
 */
export function parseFiguresCsv(
  text: string,
  measures: readonly Measure[],
  today: string,
  localeComma = false,
): { ok: true; figures: FigureInput[] } | { ok: false; errors: string[] } {
  if (text.length > MAX_CSV_CHARS) {
    const rows = text.match(/\r\n|\r|\n/g)?.length ?? 0;
    return { ok: false, errors: [`the file has about ${rows} figures (${text.length.toLocaleString('en-US')} characters, past ${MAX_CSV_CHARS.toLocaleString('en-US')}); import at most ${MAX_IMPORT_ROWS.toLocaleString('en-US')} figures at a time`] };
  }
  const { rows: lines, unclosed } = parseCsvLines(text);
  // Said alone: every row after it was read into one value, so their own checks would say nothing true.
  if (unclosed) return { ok: false, errors: [`line ${unclosed}: a quote is not closed: a value on this line starts with " and no " ends it`] };
  const header = (lines[0]?.cells ?? []).map((h) => h.trim().toLowerCase());
  const col = { measure: header.indexOf('measure'), date: header.indexOf('date'), value: header.indexOf('value') };
  if (col.measure < 0 || col.date < 0 || col.value < 0) {
    return { ok: false, errors: ['line 1: the first line must name the columns measure, date and value'] };
  }
  // Two "value" columns (a spreadsheet's old and new figures side by side): which one was meant is not ours to guess.
  const twice = (['measure', 'date', 'value'] as const).find((name) => header.lastIndexOf(name) !== col[name]);
  if (twice) return { ok: false, errors: [`line 1: the column "${twice}" is named twice; keep one`] };
  // Too many rows is said first and alone: the file must be split whatever else is wrong with it, and a
  // huge paste is not checked row by row for nothing.
  const rows = lines.slice(1).filter((r) => r.cells.some((c) => c.trim())).length;
  if (rows > MAX_IMPORT_ROWS) {
    return { ok: false, errors: [`the file has ${rows.toLocaleString('en-US')} figures; import at most ${MAX_IMPORT_ROWS.toLocaleString('en-US')} at a time`] };
  }
  // Cells pasted from a spreadsheet are written as the reader's locale writes numbers ("1,25" in German); a file's
  // semicolons say its comma is the decimal mark; commas between cells, that it is not.
  const sep = csvSeparator(text);
  const decimals: DecimalMark = sep === ';' ? 'comma' : sep === '\t' && localeComma ? 'comma-locale' : 'point';
  const errors: string[] = [];
  const figures: FigureInput[] = [];
  const seen = new Map<string, number>();
  lines.slice(1).forEach(({ line, cells }) => {
    if (cells.every((c) => !c.trim())) return;
    const checked = checkFigure(
      { measure: cells[col.measure] ?? '', date: cells[col.date] ?? '', value: cells[col.value] ?? '' },
      measures,
      today,
      decimals,
    );
    if (!checked.ok) {
      errors.push(`line ${line}: ${checked.message}`);
      return;
    }
    const key = `${checked.figure.measureId}~${checked.figure.date}`;
    const earlier = seen.get(key);
    if (earlier) {
      errors.push(`line ${line}: ${checked.figure.measureId} on ${checked.figure.date} is already on line ${earlier}`);
      return;
    }
    seen.set(key, line);
    figures.push(checked.figure);
  });
  if (!errors.length && !figures.length) errors.push('the file has no figures below its header line');
  if (errors.length) {
    const shown = errors.slice(0, MAX_ERRORS_SHOWN);
    if (errors.length > shown.length) shown.push(`… and ${errors.length - shown.length} more`);
    return { ok: false, errors: shown };
  }
  return { ok: true, figures };
}

const PK = 'fig';
const byMeasureAndDate = (a: Figure, b: Figure) => a.measureId.localeCompare(b.measureId) || a.date.localeCompare(b.date);
type FigureRow = Omit<Figure, 'replaced'> & {
  partitionKey: string;
  rowKey: string;
  /** The save (an import's id, or one entry's) that wrote this row: a retried batch knows its own rows. */
  saveId?: string;
  /** What this figure replaced (see Figure.replaced), who had entered it, and which save replaced it. */
  replacedValue?: number;
  replacedBy?: string;
  replacedById?: string;
  replacedIn?: string;
};

/** Who saves figures, and as which save: an import's batches share its id, so a batch written twice counts once. */
export interface SaveBy {
  id: string;
  name: string;
  via: Figure['via'];
  at: Date;
  saveId?: string;
}

export class FigureStore {
  constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<FigureStore> {
    return new FigureStore(await tables.table('AdoptionFigures'));
  }

  private row(f: Omit<Figure, 'replaced'>): FigureRow {
    return { partitionKey: PK, rowKey: `${f.measureId}~${f.date}`, ...f };
  }

  /**
   * Saves figures (at most BATCH_ROWS); a figure for the same measure and date replaces the earlier one. All or
   * nothing. Returns the earlier figures replaced by another value or another person (the same figure saved again
   * is not), so whoever replaces a colleague's figure is told, and the row keeps what it replaced: each row is
   * written against the ETag it was read with, and a colleague writing in between makes the whole transaction read
   * again. A row this same save wrote already (a batch retried after a fault) keeps what it replaced then, and
   * counts again only if it replaced something then: a retry neither loses nor doubles the count.
   */
  async save(figures: readonly FigureInput[], by: SaveBy): Promise<Replaced[]> {
    if (figures.length > BATCH_ROWS) throw new Error(`at most ${BATCH_ROWS} figures at a time`);
    if (!figures.length) return [];
    const saveId = by.saveId ?? randomBytes(8).toString('hex');
    return retryOnConflict(
      async () => {
        const before = await this.rows(figures);
        const tx = new TableTransaction();
        const replaced: Replaced[] = [];
        for (const f of figures) {
          const row: FigureRow = { ...this.row({ ...f, enteredBy: by.name.slice(0, 120), enteredById: by.id, enteredAt: by.at.toISOString(), via: by.via }), saveId };
          const old = before.get(row.rowKey);
          if (!old) {
            tx.createEntity(row);
            continue;
          }
          const ours = old.saveId === saveId;
          if (!ours && (Number(old.value) !== f.value || old.enteredById !== by.id)) {
            const earlier = { value: Number(old.value), enteredBy: String(old.enteredBy ?? '') };
            Object.assign(row, { replacedValue: earlier.value, replacedBy: earlier.enteredBy, replacedById: String(old.enteredById ?? ''), replacedIn: saveId });
            replaced.push({ measureId: f.measureId, date: f.date, ...earlier });
          } else if (old.replacedValue !== undefined) {
            // The same figure again (or this save's own row): what it replaced stays on it.
            Object.assign(row, { replacedValue: Number(old.replacedValue), replacedBy: String(old.replacedBy ?? ''), replacedById: String(old.replacedById ?? ''), replacedIn: String(old.replacedIn ?? '') });
            if (ours && old.replacedIn === saveId) replaced.push({ measureId: f.measureId, date: f.date, value: Number(old.replacedValue), enteredBy: String(old.replacedBy ?? '') });
          }
          // Replace, not Merge: a figure that replaced nothing carries no stale "replaced" columns.
          tx.updateEntity(row, 'Replace', { etag: old.etag });
        }
        await this.table.submitTransaction(tx.actions);
        return replaced;
      },
      { what: 'Saving figures', attempts: 5 },
    );
  }

  /** The stored rows of these figures' keys, with their ETags: a range per measure for an import, a point read for one. */
  private async rows(figures: readonly FigureInput[]): Promise<Map<string, FigureRow & { etag: string }>> {
    const keys = new Set(figures.map((f) => `${f.measureId}~${f.date}`));
    const out = new Map<string, FigureRow & { etag: string }>();
    if (keys.size === 1) {
      const [key] = keys;
      const row = await readEntity<FigureRow>(this.table, PK, key!);
      if (row) out.set(key!, row as FigureRow & { etag: string });
      return out;
    }
    // One row-key range per measure, from its earliest date imported to its latest: not the whole table, which
    // grows with every figure ever entered.
    const spans = new Map<string, { from: string; to: string }>();
    for (const f of figures) {
      const s = spans.get(f.measureId);
      spans.set(f.measureId, s ? { from: f.date < s.from ? f.date : s.from, to: f.date > s.to ? f.date : s.to } : { from: f.date, to: f.date });
    }
    await Promise.all(
      [...spans].map(async ([measureId, span]) => {
        const filter = odata`PartitionKey eq ${PK} and RowKey ge ${`${measureId}~${span.from}`} and RowKey le ${`${measureId}~${span.to}`}`;
        for await (const row of this.table.listEntities<FigureRow>({ queryOptions: { filter } })) {
          if (keys.has(row.rowKey!)) out.set(row.rowKey!, row as FigureRow & { etag: string });
        }
      }),
    );
    return out;
  }

  /**
   * Who had entered the figures save `saveId` replaced, as their rows say now (a `forget` since shows the stand-in;
   * '' for one replaced again since). One point read each: an import names only its first few.
   */
  async replacedBy(figures: readonly Pick<Figure, 'measureId' | 'date'>[], saveId: string): Promise<string[]> {
    return Promise.all(
      figures.map(async (f) => {
        const row = await readEntity<FigureRow>(this.table, PK, `${f.measureId}~${f.date}`);
        return row?.replacedIn === saveId ? String(row.replacedBy ?? '') : '';
      }),
    );
  }

  /**
   * The figures of these measures dated `from` or later, and for a measure with none since, its latest before
   * (looked for a year back, then further): what the overview charts and rates, not every figure ever entered.
   */
  async since(measureIds: readonly string[], from: string): Promise<Figure[]> {
    const range = (id: string, lo: string, hi: string) =>
      this.query(odata`PartitionKey eq ${PK} and RowKey ge ${`${id}~${lo}`} and RowKey lt ${`${id}~${hi}`}`);
    const yearBefore = new Date(Date.parse(`${from}T00:00:00Z`) - 366 * 86_400_000).toISOString().slice(0, 10);
    const per = await Promise.all(
      measureIds.map(async (id) => {
        const recent = await range(id, from, '~');
        if (recent.length) return recent;
        const earlier = (await range(id, yearBefore, from)).at(-1) ?? (await range(id, '', yearBefore)).at(-1);
        return earlier ? [earlier] : [];
      }),
    );
    return per.flat().sort(byMeasureAndDate);
  }

  /** Every figure, oldest date first per measure. */
  async all(): Promise<Figure[]> {
    return (await this.query(odata`PartitionKey eq ${PK}`)).sort(byMeasureAndDate);
  }

  private async query(filter: string): Promise<Figure[]> {
    const rows = await collect(this.table.listEntities<FigureRow>({ queryOptions: { filter } }));
    return rows
      .map((r) => ({
        measureId: r.measureId,
        date: r.date,
        value: Number(r.value),
        enteredBy: r.enteredBy,
        ...(r.enteredById ? { enteredById: r.enteredById } : {}),
        enteredAt: r.enteredAt,
        via: r.via,
        ...(r.replacedValue !== undefined
          ? { replaced: { value: Number(r.replacedValue), enteredBy: String(r.replacedBy ?? ''), ...(r.replacedById ? { enteredById: r.replacedById } : {}) } }
          : {}),
      }));
  }

  /** Puts `by` where the enterer of the figure it replaced was (privacy `forget`): what it replaced stays. */
  async replaceReplacedBy(figure: Pick<Figure, 'measureId' | 'date'>, by: { id: string; name: string }): Promise<void> {
    await this.table.updateEntity(
      { partitionKey: PK, rowKey: `${figure.measureId}~${figure.date}`, replacedBy: by.name, replacedById: by.id },
      'Merge',
    );
  }

  /** Puts `by` where the figure's enterer was (privacy `forget`): the value stays. */
  async replaceEnteredBy(figure: Pick<Figure, 'measureId' | 'date'>, by: { id: string; name: string }): Promise<void> {
    await this.table.updateEntity(
      { partitionKey: PK, rowKey: `${figure.measureId}~${figure.date}`, enteredBy: by.name, enteredById: by.id },
      'Merge',
    );
  }
}
