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
});
