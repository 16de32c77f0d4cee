import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { execute, invokeText, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { PULSE_LIMITS } from '../../src/adoption/pulse.js';

/*
 * The adoption feature from Teams, over HTTP: the measures card, the rollout team's edits and figures,
 * pulses sent 1:1 and answered from their card, the rollout channel. Each test makes what it needs.
 */

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;
let dir: string;
const where = (u: TestUser) => ({ serviceUrl: connector.url, conversation: { id: `a:chat-${u.aadObjectId}`, conversationType: 'personal', tenantId: 'tenant-1' } });
const text = (res: { body: Record<string, unknown> }) => invokeText(res.body);
const act = (u: TestUser, verb: string, data: Record<string, unknown>) => execute(app, u, verb, data, where(u));

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rd-adoption-'));
  copyFileSync('sample/measures.yaml', path.join(dir, 'measures.yaml'));
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({ MEASURES_FILE: path.join(dir, 'measures.yaml'), PULSE_MIN_ANSWERS: '2' }));
  for (const u of Object.values(USERS)) await say(app, u, 'whoami', where(u));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('measures from Teams', () => {
  it('shows everyone the measures; only the rollout team gets the buttons to change them', async () => {
    const staff = readable(await say(app, USERS.staff, 'adoption', where(USERS.staff)));
    expect(staff).toContain('Median days to submit the monthly report');
    expect(staff).toContain('Baseline 5 days (2026-09-01) → target 2 days by 2027-03-31');
    expect(staff).not.toContain('Enter a figure');
    const lead = await say(app, USERS.lead, 'adoption', where(USERS.lead));
    expect(readable(lead)).toContain('Enter a figure');
    expect(JSON.stringify(lead)).toContain('adoption.measures.form');
  });

  it('saves a figure from the rollout team, and refuses the same card data from staff (forged)', async () => {
    // The test clock is 5 Jan 2026.
    const forged = await act(USERS.staff, 'adoption.figures.enter', { measure: 'report-days', date: '2026-01-02', value: '4' });
    expect(text(forged)).toMatch(/rollout team only/);
    const saved = await act(USERS.lead, 'adoption.figures.enter', { measure: 'report-days', date: '2026-01-02', value: '4' });
    expect(text(saved)).toContain('Saved: 4 for Median days to submit the monthly report on 2026-01-02.');
    const typed = await act(USERS.lead, 'adoption.figures.enter', { measure: 'Report-Days', date: '2026-01-02', value: '4' });
    expect(text(typed)).toContain('Saved: 4 for Median days to submit the monthly report on 2026-01-02.');
    expect(text(saved)).toContain('Latest: 4 days (2026-01-02)');
    const future = await act(USERS.lead, 'adoption.figures.enter', { measure: 'report-days', date: '2026-02-01', value: '3' });
    expect(text(future)).toContain('Not saved: the date 2026-02-01 is in the future.');
    const bad = await act(USERS.lead, 'adoption.figures.import', { csv: 'measure,date,value\nreport-days,2026-01-03,3\nweekly-active,2026-01-03,3\n' });
    expect(text(bad)).toContain('Nothing was imported');
    expect(text(bad)).toContain('line 3: "weekly-active" is not a measure with figures from the IMS');
    expect((await app.adoption.service.figures()).map((f) => f.date)).toEqual(['2026-01-02']);
  });

  it('takes a figure dated today where the rollout team is, though it is still yesterday in UTC', async () => {
    const before = clock.now();
    try {
      clock.set('2026-01-05T20:00:00Z'); // Tue 6 Jan, 04:00 in Manila (UTC+8)
      const today = await act(USERS.lead, 'adoption.figures.enter', { measure: 'active-field-staff', date: '2026-01-06', value: '120' });
      expect(text(today)).toContain('Saved: 120 for');
      const csv = await act(USERS.lead, 'adoption.figures.import', { csv: 'measure,date,value\nactive-field-staff,2026-01-06,121\n' });
      expect(text(csv)).toContain('Imported 1 figure, replaced 1: active-field-staff on 2026-01-06 (120, by Lee Lead).');
      // A day no time zone has reached yet is still refused.
      const ahead = await act(USERS.lead, 'adoption.figures.enter', { measure: 'active-field-staff', date: '2026-01-07', value: '130' });
      expect(text(ahead)).toContain('Not saved: the date 2026-01-07 is in the future.');
    } finally {
      clock.set(before.toISOString());
    }
  });

  it('edits a measure in the file (comments kept), and a second card made before it is told to start again', async () => {
    const form = await act(USERS.lead, 'adoption.measures.form', { id: 'totals-matching' });
    const version = /"version":"([0-9a-f]{12})"/.exec(JSON.stringify(form.body))?.[1] ?? '';
    expect(version).toHaveLength(12);
    const fields = { name: 'Monthly totals that match the forms', unit: '%', baselineValue: '92', baselineDate: '2026-09-01', targetValue: '98', targetBy: '2027-05-03', source: 'ims' };
    const saved = await act(USERS.lead, 'adoption.measures.save', { mode: 'update', version, measureId: 'totals-matching', ...fields });
    expect(text(saved)).toContain('Saved to the measures file.');
    const file = readFileSync(path.join(dir, 'measures.yaml'), 'utf8');
    expect(file).toContain('name: Monthly totals that match the forms');
    expect(file).toContain('# week 6 of the pilot');
    const stale = await act(USERS.lead, 'adoption.measures.save', { mode: 'update', version, measureId: 'totals-matching', ...fields, targetValue: '97' });
    expect(text(stale)).toContain('Someone changed the measures since this card was made');
    expect(app.adoption.measures.current.find((m) => m.id === 'totals-matching')?.target.value).toBe(98);
    const invalid = await act(USERS.lead, 'adoption.measures.save', { mode: 'add', version: app.adoption.measures.version, ...fields, id: 'Bad Id', targetBy: '2027-13-01' });
    expect(text(invalid)).toContain('must be lower-case letters, digits and dashes');
    expect(text(invalid)).toContain('must be a date like 2027-03-31');
  });
});

describe('a page of the measures card (More measures)', () => {
  it('starts from the measure the button names, and leads back to the first', async () => {
    const page = text(await act(USERS.staff, 'adoption.measures.show', { from: 1 }));
    expect(page).not.toContain('Median days to submit the monthly report');
    expect(page).toContain('Field staff active in FieldLedger');
    expect(page).toMatch(/Measures 2–\d+ of \d+\./);
    expect(page).toContain('Back to the first measures');
  });
});

describe('the measures card\'s date of a figure', () => {
  it('is the reader\'s own day (from Teams\' time zone), not UTC\'s: 21:00 in Bogotá is not yet tomorrow', async () => {
    const was = clock.now();
    try {
      clock.set('2026-01-05T02:00:00Z'); // 21:00 on 4 Jan in Bogotá (UTC−5)
      const dateInput = (replies: unknown) => {
        let value: unknown;
        const walk = (n: unknown): void => {
          if (Array.isArray(n)) return n.forEach(walk);
          if (!n || typeof n !== 'object') return;
          const o = n as Record<string, unknown>;
          if (o.type === 'Input.Date' && o.id === 'date') value = o.value;
          Object.values(o).forEach(walk);
        };
        walk(replies);
        return value;
      };
      // No time zone from Teams, none saved for Lee yet: UTC's day, as before.
      expect(dateInput(await say(app, USERS.lead, 'adoption', where(USERS.lead)))).toBe('2026-01-05');
      const bogota = { ...where(USERS.lead), entities: [{ type: 'clientInfo', timezone: 'America/Bogota', locale: 'es-CO' }] };
      expect(dateInput(await say(app, USERS.lead, 'adoption', bogota))).toBe('2026-01-04');
      // A card press carries no time zone: the one Teams gave on Lee's message (saved with his chat) dates it.
      expect(dateInput(await act(USERS.lead, 'adoption.measures.show', {}))).toBe('2026-01-04');
    } finally {
      clock.set(was);
    }
  });
});

describe('spreadsheet cells pasted on the measures card (tab-separated)', () => {
  it('are read with the decimal comma where the reader\'s locale writes one, a number grouped by threes refused', async () => {
    const paste = async (locale: string, date: string, value: string) => {
      const res = await execute(app, USERS.lead, 'adoption.figures.import', { csv: `measure\tdate\tvalue\nreport-days\t${date}\t${value}` }, { ...where(USERS.lead), locale });
      const saved = (await app.adoption.service.figures()).find((f) => f.measureId === 'report-days' && f.date === date);
      return { text: text(res), saved: saved?.value };
    };
    // A German cell "1,234" is 1.234, an English reader's 1234: refused as read two ways, nothing saved.
    const refused = await paste('de-DE', '2010-02-01', '1,234');
    expect(refused.text).toMatch(/could be read two ways.*write 1234 or 1234,5/);
    expect(refused.saved).toBeUndefined();
    expect((await paste('de-DE', '2010-02-01', '1,25')).saved).toBe(1.25);
    expect((await paste('en-US', '2010-02-02', '1,234')).saved).toBe(1234);
  });
});

describe('a figure typed on the measures card', () => {
  it("is read with the decimal comma where the reader's locale writes one, as on the tab: a number grouped by threes refused", async () => {
    const enter = async (locale: string, date: string, value: string) => {
      const res = await execute(app, USERS.lead, 'adoption.figures.enter', { measure: 'report-days', date, value }, { ...where(USERS.lead), locale });
      const saved = (await app.adoption.service.figures()).find((f) => f.measureId === 'report-days' && f.date === date);
      return { text: text(res), saved: saved?.value };
    };
    // A German reader's "1,250" is 1.25 to them and 1250 to an English reader: refused, nothing saved (it was saved as 1250).
    const refused = await enter('de-DE', '2010-03-01', '1,250');
    expect(refused.text).toMatch(/could be read two ways.*write 1234 or 1234,5/);
    expect(refused.saved).toBeUndefined();
    expect((await enter('de-DE', '2010-03-01', '2,5')).saved).toBe(2.5);
    expect((await enter('en-US', '2010-03-02', '1,250')).saved).toBe(1250);
  });
});

describe('a CSV of 10,000 rows pasted on the measures card', () => {
  it('is checked at once, written off the turn with the card following it, and ends "Imported 10,000 figures, replaced N"', async () => {
    // A figure entered before, which the import replaces.
    await act(USERS.lead, 'adoption.figures.enter', { measure: 'active-field-staff', date: '2024-03-01', value: '7' });
    const before = (await app.adoption.service.figures()).length;
    const rows = Array.from({ length: 10_000 }, (_, i) => {
      const day = new Date(Date.UTC(2024, 11, 31) - Math.floor(i / 3) * 86_400_000).toISOString().slice(0, 10);
      return `${['report-days', 'active-field-staff', 'totals-matching'][i % 3]},${day},${i % 90}`;
    });
    const csv = ['measure,date,value', ...rows].join('\r\n');
    expect(csv.length).toBeGreaterThan(200_000);
    const started = Date.now();
    const res = await act(USERS.lead, 'adoption.figures.import', { csv });
    // The turn answers once the file is checked and staged, well inside Teams' 15 s, with a progress card.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(text(res)).toContain('Importing 10,000 figures');
    expect(text(res)).toMatch(/\d[\d,]* of 10,000 written so far/);
    const importId = /"importId":"([0-9a-f]{16})"/.exec(JSON.stringify(res.body))?.[1] ?? '';
    expect(importId).toHaveLength(16);
    await app.adoption.imports.idle();
    await app.settled();
    // The card the import came from was redrawn as the batches landed, ending with what was imported and replaced.
    const updates = connector.calls.filter((c) => c.method === 'PUT' && c.activityId === 'bot-message-1' && JSON.stringify(c.body).includes('Imported 10,000 figures'));
    expect(updates.length).toBe(1);
    expect(JSON.stringify(updates[0]!.body)).toContain('Imported 10,000 figures, replaced 1: active-field-staff on 2024-03-01 (7, by Lee Lead)');
    const refreshed = await act(USERS.lead, 'adoption.figures.importStatus', { importId });
    expect(text(refreshed)).toContain('Imported 10,000 figures, replaced 1');
    expect((await app.adoption.service.figures()).length).toBe(before + 10_000 - 1);
    // Another's status is the rollout team's only, as the import is.
    expect(text(await act(USERS.staff, 'adoption.figures.importStatus', { importId }))).toMatch(/rollout team/);
  }, 90_000);

  it('past 10,000 rows is refused with the bound named, not called an out-of-date card, and nothing is imported', async () => {
    const before = await app.adoption.service.figures();
    const rows = Array.from({ length: 10_001 }, (_, i) => `active-field-staff,2024-${String(1 + (i % 12)).padStart(2, '0')}-01,${i}`);
    const res = await act(USERS.lead, 'adoption.figures.import', { csv: ['measure,date,value', ...rows].join('\r\n') });
    expect(text(res)).not.toContain('out of date');
    expect(text(res)).toContain('Nothing was imported');
    expect(text(res)).toContain('import at most 10,000 at a time');
    expect(await app.adoption.service.figures()).toEqual(before);
  });

  it('a paste just over 1,000,000 characters is told its size, not called an out-of-date card', async () => {
    const before = await app.adoption.service.figures();
    const rows = Array.from({ length: 29_600 }, (_, i) => `active-field-staff,2024-${String(1 + (i % 12)).padStart(2, '0')}-01,${i % 1000}`);
    const csv = ['measure,date,value', ...rows].join('\n');
    expect(csv.length).toBeGreaterThan(1_000_000);
    expect(csv.length).toBeLessThan(1_010_000);
    const res = await act(USERS.lead, 'adoption.figures.import', { csv });
    expect(text(res)).not.toContain('out of date');
    expect(text(res)).toContain(`the file has about 29600 figures (${csv.length.toLocaleString('en-US')} characters, past 1,000,000)`);
    expect(await app.adoption.service.figures()).toEqual(before);
  });
});

describe('a figure entered over an earlier one for the same measure and date', () => {
  it('says which figure it replaced, on the card and after an import', async () => {
    const first = await act(USERS.lead, 'adoption.figures.enter', { measure: 'totals-matching', date: '2025-11-03', value: '90' });
    expect(text(first)).toContain('Saved: 90 for');
    expect(text(first)).not.toContain('It replaces');
    const second = await act(USERS.lead, 'adoption.figures.enter', { measure: 'totals-matching', date: '2025-11-03', value: '91' });
    expect(text(second)).toContain('It replaces 90 entered by Lee Lead.');
    const csv = await act(USERS.lead, 'adoption.figures.import', { csv: 'measure,date,value\ntotals-matching,2025-11-03,92\ntotals-matching,2025-11-04,93\n' });
    expect(text(csv)).toContain('Imported 2 figures, replaced 1: totals-matching on 2025-11-03 (91, by Lee Lead).');
  });
});

describe('what was typed, shown back on the measures card', () => {
  it('is shown as text: a link or markup typed as a measure name is not made live', async () => {
    const res = await act(USERS.lead, 'adoption.figures.enter', { measure: '[Open the report](https://evil.example/x) **now**', date: '2026-01-02', value: '4' });
    const card = JSON.stringify(res.body);
    expect(text(res)).toContain('is not a measure with figures from the IMS');
    expect(card).not.toContain('](https://evil.example');
    expect(card).not.toContain('**now**');
  });
});

describe('a measure whose unit was typed with markup, and a figure below 0.1', () => {
  it('shows the unit as text beside the latest figure, and the figure as entered (0.04, not 0.0)', async () => {
    const fields = { id: 'defect-rate', name: 'Defects per form', unit: '<at>Lee</at>**x**', baselineValue: '1', baselineDate: '2025-09-01', targetValue: '0.01', targetBy: '2027-01-31', source: 'ims' };
    expect(text(await act(USERS.lead, 'adoption.measures.save', { mode: 'add', version: app.adoption.measures.version, measureId: '', ...fields }))).toContain('Saved to the measures file.');
    try {
      const res = await act(USERS.lead, 'adoption.figures.enter', { measure: 'defect-rate', date: '2026-01-02', value: '0.04' });
      const lines = text(res).split('\n');
      const latest = lines.slice(lines.indexOf('Defects per form')).find((l) => l.startsWith('Latest: ')) ?? '';
      expect(latest).toMatch(/^Latest: 0\.04 /);
      expect(latest).not.toContain('<at>');
      expect(latest).not.toContain('**');
    } finally {
      await act(USERS.lead, 'adoption.measures.remove', { version: app.adoption.measures.version, measureId: 'defect-rate' });
    }
  });
});

describe('Save or Remove pressed twice on one measures card (a double click)', () => {
  it('says saved or removed both times, not that someone else changed the measures', async () => {
    const fields = { id: 'sandbox-logins', name: 'Staff who logged in to the sandbox', unit: '%', baselineValue: '0', baselineDate: '2026-09-01', targetValue: '90', targetBy: '2027-01-31', source: 'ims' };
    const version = app.adoption.measures.version;
    const add = { mode: 'add', version, measureId: '', ...fields };
    expect(text(await act(USERS.lead, 'adoption.measures.save', add))).toContain('Saved to the measures file.');
    const again = text(await act(USERS.lead, 'adoption.measures.save', add));
    expect(again).toContain('Saved to the measures file.');
    expect(again).not.toContain('Someone changed the measures');
    expect(app.adoption.measures.current.filter((m) => m.id === 'sandbox-logins')).toHaveLength(1);

    const v2 = app.adoption.measures.version;
    const update = { mode: 'update', version: v2, measureId: 'sandbox-logins', ...fields, targetValue: '95' };
    expect(text(await act(USERS.lead, 'adoption.measures.save', update))).toContain('Saved to the measures file.');
    expect(text(await act(USERS.lead, 'adoption.measures.save', update))).toContain('Saved to the measures file.');

    const v3 = app.adoption.measures.version;
    expect(text(await act(USERS.lead, 'adoption.measures.remove', { version: v3, measureId: 'sandbox-logins' }))).toContain('Removed "sandbox-logins".');
    const removedAgain = text(await act(USERS.lead, 'adoption.measures.remove', { version: v3, measureId: 'sandbox-logins' }));
    expect(removedAgain).toContain('Removed "sandbox-logins".');
    expect(app.adoption.measures.current.some((m) => m.id === 'sandbox-logins')).toBe(false);
  });
});

describe('a measure with a figure too large for the file', () => {
  it('is refused on the form, naming the field, and the file is left as it was', async () => {
    const before = readFileSync(path.join(dir, 'measures.yaml'), 'utf8');
    const fields = { name: 'Monthly totals', unit: '%', baselineValue: '92', baselineDate: '2026-09-01', targetValue: '1e10', targetBy: '2027-05-03', source: 'ims' };
    const res = await act(USERS.lead, 'adoption.measures.save', { mode: 'update', version: app.adoption.measures.version, measureId: 'totals-matching', ...fields });
    expect(text(res)).toContain('Target: "1e10" must be between -1,000,000,000 and 1,000,000,000');
    expect(readFileSync(path.join(dir, 'measures.yaml'), 'utf8')).toBe(before);
  });
});

describe('pulses from Teams', () => {
  it('sends a pulse 1:1, takes one answer per person from its card, and shows totals only from the minimum', async () => {
    const before = connector.calls.length;
    const sent = await act(USERS.lead, 'adoption.pulse.send', {
      title: 'Week 2 check-in',
      q1Kind: 'scale',
      q1Text: 'How confident are you?',
      q2Kind: 'text',
      q2Text: 'What would help?',
      audience: 'people',
      people: `${USERS.staff.aadObjectId}, ${USERS.champion.aadObjectId}`,
    });
    expect(text(sent)).toContain('Sent to 2 people (2 listed people).');
    expect(text(sent)).toContain('Results appear once 2 people have answered (0 so far)');
    await app.settled();
    const cards = connector.calls.slice(before).filter((c) => JSON.stringify(c.body).includes('adoption.pulse.answer'));
    expect(cards.map((c) => c.conversationId).sort()).toEqual([`a:chat-${USERS.champion.aadObjectId}`, `a:chat-${USERS.staff.aadObjectId}`]);
    const pulseId = /"pulseId":"(p-[\w-]+)"/.exec(JSON.stringify(cards[0]!.body))?.[1] ?? '';

    const first = await act(USERS.staff, 'adoption.pulse.answer', { pulseId, q1: '2', q2: 'More *training*' });
    expect(text(first)).toContain('Thank you: your answer is in.');
    expect(text(first)).toContain('2 of 5');
    const second = await act(USERS.staff, 'adoption.pulse.answer', { pulseId, q1: '4' });
    expect(text(second)).toContain('this one replaces the one you sent before');
    const outsider = await act(USERS.lead, 'adoption.pulse.answer', { pulseId, q1: '5' });
    expect(text(outsider)).toBe('This pulse was not sent to you.');

    // Refresh shows the answers as last counted, and asks for a count: the scheduled job makes it off the turn.
    const stale = await act(USERS.champion, 'adoption.pulse.results', { pulseId });
    expect(text(stale)).toMatch(/0 answered as of \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    await app.adoption.pulses.recountDue();
    const one = await act(USERS.champion, 'adoption.pulse.results', { pulseId });
    expect(text(one)).toContain('1 answered as of');
    expect(text(one)).toContain('Results appear once 2 people have answered (1 so far)');
    await act(USERS.champion, 'adoption.pulse.answer', { pulseId, q1: '5', q2: 'Office hours on Fridays' });
    const asked = await act(USERS.champion, 'adoption.pulse.results', { pulseId });
    // Counted a moment ago: the fresh count this press asked for comes a minute after the last (at most one a minute).
    expect(text(asked)).toMatch(/the next count is made after \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    await app.adoption.pulses.recountDue();
    expect(text(await act(USERS.champion, 'adoption.pulse.results', { pulseId }))).toContain('1 answered as of');
    clock.advance(60_000);
    await app.adoption.pulses.recountDue();
    const two = await act(USERS.champion, 'adoption.pulse.results', { pulseId });
    expect(text(two)).toContain('Average\n4.50');
    // Only the champion answered the free-text question (the staff member's second answer left it out).
    expect(text(two)).toContain('Fewer than 2 people answered this question (1 so far): not shown');
    expect(text(two)).not.toContain('Office hours on Fridays');
    expect(text(two)).not.toContain('Sam Staff');
    expect(text(await act(USERS.staff, 'adoption.pulse.results', { pulseId }))).toMatch(/champions and the rollout team/);
  });

  it('counts only those a pulse was sent to: a listed id with no chat with the bot is named as not reached', async () => {
    const before = connector.calls.length;
    const sent = await act(USERS.lead, 'adoption.pulse.send', {
      title: 'Reach check',
      q1Kind: 'scale',
      q1Text: 'How confident are you?',
      audience: 'people',
      people: `${USERS.staff.aadObjectId}, aad-never-opened-the-app`,
    });
    expect(text(sent)).toContain('Sent to 1 person (2 listed people); 1 could not be reached (no chat with the bot).');
    await app.settled();
    const cards = connector.calls.slice(before).filter((c) => JSON.stringify(c.body).includes('Reach check'));
    expect(cards.map((c) => c.conversationId)).toEqual([`a:chat-${USERS.staff.aadObjectId}`]);
    // A long list (looked up against the chats in one listing rather than one read each): the same count.
    const many = Array.from({ length: 250 }, (_, i) => `aad-listed-${i}`);
    const big = await act(USERS.lead, 'adoption.pulse.send', {
      title: 'Reach check, long list',
      q1Kind: 'scale',
      q1Text: 'How confident are you?',
      audience: 'people',
      people: [USERS.champion.aadObjectId, ...many].join(', '),
    });
    expect(text(big)).toContain('Sent to 1 person (251 listed people); 250 could not be reached (no chat with the bot).');
  });

  it('"Change my answer" on a closed pulse says it is closed and shows the answer recorded; a submit to it changes nothing', async () => {
    const before = connector.calls.length;
    await act(USERS.lead, 'adoption.pulse.send', {
      title: 'Closing soon',
      q1Kind: 'scale',
      q1Text: 'How is it going?',
      audience: 'people',
      people: `${USERS.staff.aadObjectId}, ${USERS.champion.aadObjectId}`,
    });
    await app.settled();
    const card = connector.calls.slice(before).find((c) => JSON.stringify(c.body).includes('Closing soon'));
    const pulseId = /"pulseId":"(p-[\w-]+)"/.exec(JSON.stringify(card?.body))?.[1] ?? '';
    expect(text(await act(USERS.staff, 'adoption.pulse.answer', { pulseId, q1: '3' }))).toContain('Thank you: your answer is in.');
    const pulse = (await app.adoption.pulses.pulse({ from: '2000-01-01', to: '2100-01-01' })).pulses.find((p) => p.id === pulseId)!;
    const was = clock.now();
    clock.set(pulse.closesAt); // the test clock moves to the moment it closes, and back at the end
    try {
      const change = await act(USERS.staff, 'adoption.pulse.change', { pulseId });
      expect(text(change)).toContain(`This pulse closed on ${pulse.closesAt.slice(0, 10)}; answers are no longer taken.`);
      expect(text(change)).toContain('3 of 5');
      expect(JSON.stringify(change.body)).not.toContain('adoption.pulse.answer'); // no form to send
      const none = await act(USERS.champion, 'adoption.pulse.change', { pulseId });
      expect(text(none)).toContain('This pulse closed on');
      expect(text(none)).toContain('You did not answer it.');
      expect(JSON.stringify(none.body)).not.toContain('adoption.pulse.answer');

      // The form's data sent anyway (a card kept open, or forged): refused, and the answers stay as they were.
      const late = await act(USERS.staff, 'adoption.pulse.answer', { pulseId, q1: '5' });
      expect(text(late)).toContain('This pulse closed on');
      expect(text(late)).toContain('3 of 5');
      await act(USERS.champion, 'adoption.pulse.answer', { pulseId, q1: '1' });
      await app.adoption.pulses.recountDue(); // closed since it was last counted: counted once more
      const results = await app.adoption.pulses.results({ person: { id: USERS.lead.aadObjectId, name: 'Lead' }, role: 'rolloutTeam' }, pulseId);
      expect(results?.answers).toBe(1);
      expect(text(await act(USERS.staff, 'adoption.pulse.change', { pulseId }))).toContain('3 of 5');
    } finally {
      clock.set(was);
    }
  });

  it('sends a pulse once when its compose card is sent twice (a double click, or the card pressed again)', async () => {
    const compose = await act(USERS.lead, 'adoption.pulse.compose', {});
    const draftId = /"draftId":"([\w-]+)"/.exec(JSON.stringify(compose.body))?.[1];
    expect(draftId).toBeDefined();
    const form = { draftId, title: 'Twice pressed', q1Kind: 'scale', q1Text: 'How is it going?', audience: 'people', people: USERS.staff.aadObjectId };
    const before = connector.calls.length;
    const [a, b] = await Promise.all([act(USERS.lead, 'adoption.pulse.send', form), act(USERS.lead, 'adoption.pulse.send', form)]);
    const again = await act(USERS.lead, 'adoption.pulse.send', form);
    for (const res of [a, b, again]) expect(text(res)).toContain('Pulse: Twice pressed');
    expect(text(again)).toContain('This pulse was already sent');
    await app.settled();
    const cards = connector.calls.slice(before).filter((c) => JSON.stringify(c.body).includes('Twice pressed'));
    expect(cards).toHaveLength(1);
    expect((await app.adoption.pulses.pulse({ from: '2000-01-01', to: '2100-01-01' })).pulses.filter((p) => p.title === 'Twice pressed')).toHaveLength(1);
  });

  it('shows the compose form again with the reasons when a pulse is not ready to send', async () => {
    const res = await act(USERS.lead, 'adoption.pulse.send', { title: '', q1Kind: 'choice', q1Text: 'Which one?', q1Options: 'Only one', audience: 'everyone' });
    expect(text(res)).toContain('Give the pulse a title.');
    expect(text(res)).toContain('Give 2 to 6 options, one per line.');
    const forged = await act(USERS.staff, 'adoption.pulse.send', { title: 'x', q1Kind: 'scale', q1Text: 'y', audience: 'everyone' });
    expect(text(forged)).toMatch(/rollout team only/);
  });
});

describe('a pulse\'s results with many long free-text answers', () => {
  it('fit one Teams card: a sample of each question\'s answers, the rest counted and left to the dashboard', async () => {
    // Three free-text questions, each answered by 40 people at the longest an answer may be (500 characters).
    const people: TestUser[] = Array.from({ length: 40 }, (_, i) => ({ id: `29:many-${i}`, aadObjectId: `aad-many-${i}`, name: `Person ${i}` }));
    for (const u of people) await say(app, u, 'whoami', where(u));
    const before = connector.calls.length;
    const sent = await act(USERS.lead, 'adoption.pulse.send', {
      title: 'L'.repeat(PULSE_LIMITS.title),
      ...Object.fromEntries(['q1', 'q2', 'q3'].flatMap((q) => [[`${q}Kind`, 'text'], [`${q}Text`, `${q} ${'?'.repeat(PULSE_LIMITS.question - 3)}`]])),
      audience: 'people',
      people: people.map((u) => u.aadObjectId).join(', '),
    });
    expect(text(sent)).toContain('Sent to 40 people');
    await app.settled();
    const card = connector.calls.slice(before).find((c) => JSON.stringify(c.body).includes('adoption.pulse.answer'));
    const pulseId = /"pulseId":"(p-[\w-]+)"/.exec(JSON.stringify(card?.body))?.[1] ?? '';
    for (const [i, u] of people.entries()) {
      const answer = (q: string) => `${q} answer ${String(i).padStart(2, '0')} "${'x'.repeat(PULSE_LIMITS.text)}`.slice(0, PULSE_LIMITS.text);
      expect(text(await act(u, 'adoption.pulse.answer', { pulseId, q1: answer('q1'), q2: answer('q2'), q3: answer('q3') }))).toContain('your answer is in');
    }
    await act(USERS.lead, 'adoption.pulse.results', { pulseId });
    await app.adoption.pulses.recountDue();
    const results = await act(USERS.lead, 'adoption.pulse.results', { pulseId });
    expect(results.status).toBe(200);
    expect(utf16Bytes(results.body.value)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const shown = text(results);
    for (const q of ['q1', 'q2', 'q3']) {
      // Each question shows some answers and counts the others, which the dashboard pages through.
      const onCard = shown.split('\n').filter((l) => l.includes(`${q} answer `)).length;
      expect(onCard, q).toBeGreaterThan(0);
      expect(shown).toContain(`… and ${40 - onCard} more on the dashboard.`);
    }
  });
});

describe('the rollout team’s channel', () => {
  it('is set up with "setup rollout" in a channel, for the weekly digest', async () => {
    const replies = await say(app, USERS.lead, '<at>Rollout Desk</at> setup rollout', {
      serviceUrl: connector.url,
      conversation: { id: '19:rollout@thread.tacv2;messageid=1', conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: '19:rollout@thread.tacv2' } },
    });
    expect(readable(replies)).toContain('this channel is now the rollout channel');
  });
});
