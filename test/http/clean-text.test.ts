import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { cleanStrings } from '../../src/http/clean-text.js';
import { cleanText } from '../../src/text/clean.js';
import { execute, invokeText, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';

describe('cleanText', () => {
  it('removes control characters but keeps tab and line feed; CR LF and lone CR become LF', () => {
    expect(cleanText('a\u0000b\u0007c\u001bd\u007fe\u0085f\u009fg')).toBe('abcdefg');
    expect(cleanText('line 1\r\nline 2\rline 3\n\tindented')).toBe('line 1\nline 2\nline 3\n\tindented');
  });

  it('replaces lone surrogates and keeps paired ones, RTL text, zero-width joiners and 4-byte emoji', () => {
    expect(cleanText('x\uD800y\uDC00z')).toBe('x\uFFFDy\uFFFDz');
    expect(cleanText('end\uD83D')).toBe('end\uFFFD');
    const fine = 'مرحبا \u200F👩\u200D💻 😀 e\u0301 日本';
    expect(cleanText(fine)).toBe(fine);
  });

  it('removes direction overrides, embeddings and isolates, keeping the RLM and LRM marks', () => {
    expect(cleanText('Sam \u202Eevil\u202C \u2066x\u2069\u202A\u202B\u202D\u2067\u2068\u206A')).toBe('Sam evil x');
    expect(cleanText('\u200Fمرحبا\u200E')).toBe('\u200Fمرحبا\u200E');
  });

  it('returns the very same string when there is nothing to clean', () => {
    const s = 'plain text, nothing odd';
    expect(cleanText(s)).toBe(s);
  });
});

describe('cleanStrings', () => {
  it('cleans every string of a nested value, keys included, without recursion limits', () => {
    const value = JSON.parse(
      '{"text":"hi\\u0000","from":{"name":"Sam\\u0007"},"list":["a\\ud800",{"k\\u0001":"v\\u0002"}],"n":1,"b":true,"z":null}',
    );
    expect(cleanStrings(value)).toEqual({
      text: 'hi',
      from: { name: 'Sam' },
      list: ['a\uFFFD', { k: 'v' }],
      n: 1,
      b: true,
      z: null,
    });
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    cleanStrings(deep);
    let node = deep;
    while (Array.isArray(node)) node = node[0];
    expect(node).toBe('bottom');
  });

  it('keeps a "__proto__" key a plain property instead of changing the prototype', () => {
    const value = JSON.parse('{"__proto__\\u0000":{"polluted":true}}') as Record<string, unknown>;
    cleanStrings(value);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(value)).toEqual(['__proto__']);
  });
});

describe('incoming text is cleaned before the bot sees it', () => {
  let app: App;
  beforeAll(async () => {
    ({ app } = await startTestApp());
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('stores and exports a reported issue without control characters or lone surrogates', async () => {
    const res = await execute(app, USERS.staff, 'issue.submit', {
      title: 'Printer\u0000 jams\u0007 \uD800',
      description: 'First line\r\nsecond\u001b[31m line',
      location: 'Ward\u0008 3',
      category: 'Sync / offline',
      severity: 'minor',
      site: 'Marula\u200F district',
    });
    const ref = /R-\d{4}/.exec(invokeText(res.body))?.[0] ?? '';
    expect(ref).not.toBe('');
    const issue = await app.repository.get(ref);
    expect(issue).toMatchObject({
      title: 'Printer jams \uFFFD',
      description: 'First line\nsecond[31m line',
      location: 'Ward 3',
      site: 'Marula\u200F district',
    });
    const lead = { id: USERS.lead.aadObjectId, name: USERS.lead.name };
    const exported = await app.issues.exportCsv({ person: lead, reporter: lead, role: 'rolloutTeam' });
    const csv = exported?.csv ?? '';
    expect(csv).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/);
    expect(csv).toContain('Printer jams');
  });

  it('stores a name and a pulse answer without a direction override typed or pasted into them', async () => {
    const rana: TestUser = { id: '29:rana-bidi', aadObjectId: 'aad-rana-bidi', name: 'Rana \u202Eqaf\u202C Haddad' };
    await say(app, rana, 'whoami');
    const res = await execute(app, rana, 'issue.submit', {
      title: 'Sync stops',
      description: 'It stops at 90%',
      location: 'Ward 3',
      category: 'Sync / offline',
      severity: 'minor',
      site: 'Marula district',
    });
    const ref = /R-\d{4}/.exec(invokeText(res.body))?.[0] ?? '';
    expect((await app.repository.get(ref))?.reporter.name).toBe('Rana qaf Haddad');

    const sent = await execute(app, USERS.lead, 'adoption.pulse.send', {
      title: 'Bidi check',
      q1Kind: 'text',
      q1Text: 'What would help?',
      audience: 'people',
      people: rana.aadObjectId,
    });
    expect(invokeText(sent.body)).toContain('Sent to 1 person');
    const pulseId = (await app.adoption.pulses.pulse({ from: '2000-01-01', to: '2100-01-01' })).pulses.find((p) => p.title === 'Bidi check')?.id ?? '';
    const answered = await execute(app, rana, 'adoption.pulse.answer', { pulseId, q1: 'More \u202Etraining\u2069 please' });
    expect(invokeText(answered.body)).toContain('More training please');
    const caller = { person: { id: rana.aadObjectId, name: 'Rana' }, role: 'staff' as const };
    expect(await app.adoption.pulses.answerForm(caller, pulseId)).toMatchObject({ kind: 'form', answers: { q1: 'More training please' } });
  });

  it('answers a question asked with control characters as the same question without them', async () => {
    const clean = readable(await say(app, USERS.staff, 'whoami'));
    const dirty = readable(await say(app, USERS.staff, 'who\u0000am\u0007i'));
    expect(clean).toContain('Staff');
    expect(dirty).toBe(clean);
  });
});
