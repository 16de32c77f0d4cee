import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CARDS_DIR,
  escapeText,
  renderCard,
  TEAMS_MESSAGE_LIMIT_BYTES,
  utf16Bytes,
} from '../../src/cards/template.js';
import { validationErrors } from '../support/cards.js';

const names = readdirSync(CARDS_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''));


describe('card templates', () => {
  it('has at least one card', () => {
    expect(names.length).toBeGreaterThan(0);
  });

  for (const name of names) {
    describe(name, () => {
      const raw = JSON.parse(readFileSync(path.join(CARDS_DIR, `${name}.json`), 'utf8'));
      const examplePath = path.join(CARDS_DIR, 'examples', `${name}.data.json`);

      it('targets schema 1.5 and has example data', () => {
        expect(raw.version).toBe('1.5');
        expect(() => readFileSync(examplePath)).not.toThrow();
      });

      it('fills from its example into a valid card under 40 KB', () => {
        const data = JSON.parse(readFileSync(examplePath, 'utf8'));
        const card = renderCard(name, data);
        expect(JSON.stringify(card)).not.toContain('${');
        expect(validationErrors(card)).toEqual([]);
        expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
      });
    });
  }
});

describe('escapeText', () => {
  it('neutralises markdown and mentions in user text', () => {
    const out = escapeText('**bold** [link](http://x) <at>Boss</at>\n1. not a list\n- nor this');
    expect(out).not.toContain('<at>');
    expect(out).not.toContain('**');
    expect(out).not.toContain('](');
    expect(out).not.toMatch(/^(\d+\.|-) /m);
    // No backslash escapes: some Teams clients show them.
    expect(out).not.toContain('\\');
  });

  it('leaves ordinary text alone', () => {
    expect(escapeText('It is already assigned to you.')).toBe('It is already assigned to you.');
    expect(escapeText('no issue R-9999 (file_name.csv)')).toBe('no issue R-9999 (file_name.csv)');
  });
});

describe('escapeText for screen paths', () => {
  it('shows "a > b" without a stray backslash', () => {
    expect(escapeText('Monthly report > Review')).toBe('Monthly report › Review');
  });
});
