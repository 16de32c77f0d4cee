import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const sources = files('src').map((file) => ({
  file: file.split(path.sep).join('/'),
  text: readFileSync(file, 'utf8'),
}));
const importsOf = (text: string) =>
  [...text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');

describe('the shape of the code', () => {
  it('imports botbuilder and botframework-* only in src/teams (a move to the Agents SDK is one folder)', () => {
    const stray = sources
      .filter((s) => !s.file.startsWith('src/teams/'))
      .filter((s) => importsOf(s.text).some((m) => /^(botbuilder|botframework-)/.test(m)))
      .map((s) => s.file);
    expect(stray).toEqual([]);
  });

  it('keeps features free of the transport: nothing outside src/teams, src/http and the composition root imports them', () => {
    const upward = sources
      .filter((s) => !/^src\/(teams|http)\//.test(s.file) && !['src/app.ts', 'src/main.ts'].includes(s.file))
      .filter((s) =>
        importsOf(s.text).some((m) => /\/(teams|http)\//.test(m) || /^\.\.?\/(teams|http)\//.test(m)),
      )
      .map((s) => s.file);
    expect(upward).toEqual([]);
  });

  it('fills card templates only in a feature\'s cards.ts, and each template in the feature its name starts with', () => {
    const fillers = sources.filter((s) => /\brenderCard\b\s*[<(]/.test(s.text)).map((s) => s.file);
    expect(fillers.filter((f) => !/^src\/[a-z]+\/cards\.ts$/.test(f) && f !== 'src/cards/template.ts')).toEqual([]);
    const templates = readdirSync('cards').filter((f) => f.endsWith('.json'));
    const misplaced = templates.filter((t) => {
      const prefix = t.split('-')[0] ?? '';
      const owner = [`src/${prefix}/cards.ts`, `src/${prefix}s/cards.ts`].find((f) =>
        sources.some((s) => s.file === f),
      );
      const name = t.replace(/\.json$/, '');
      return !owner || !sources.find((s) => s.file === owner)?.text.includes(`'${name}'`);
    });
    expect(misplaced).toEqual([]);
  });
});
