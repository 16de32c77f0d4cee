import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { readable, say, startTestApp, USERS } from '../support/app.js';

/*
 * `groups` at the sizes the rollout file allows: 200 cohorts and 200 user groups with names of 120 characters
 * and descriptions of 300, and thousands of entries left out (each named in the file's problems). Every answer
 * must be one message Teams takes, and the pages must name every cohort and group once.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-groups-scale-'));
const ROLLOUT_FILE = path.join(dir, 'rollout.yaml');
const N = 200;
const long = (prefix: string, n: number) => `${prefix} ${'w'.repeat(n)}`.slice(0, n);
writeFileSync(
  ROLLOUT_FILE,
  `cohorts:\n${Array.from({ length: N }, (_, i) => `  - { id: c-${i}, name: "${long(`Cohort ${i}`, 120)}", goLive: 2027-03-01, zone: Africa/Lusaka }`).join('\n')}\n` +
    `groups:\n${Array.from({ length: N }, (_, i) => `  - { id: g-${i}, name: "${long(`Group ${i}`, 120)}", description: "${long('About', 300)}" }`).join('\n')}\n` +
    // Members naming a group the file does not have: each one is a problem the rollout team is told of.
    `members:\n${Array.from({ length: 3000 }, (_, i) => `  - { id: m-${i}, name: "${long(`Member ${i}`, 120)}", groups: [nope-${i}] }`).join('\n')}\n`,
);

let app: App;
beforeAll(async () => {
  ({ app } = await startTestApp({ ROLLOUT_FILE, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }));
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('groups, with every cohort and user group the rollout file allows', () => {
  it('answers each page in one message Teams takes, and its pages name every cohort and group once', async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 100; page++) {
      const replies = await say(app, USERS.champion, page === 1 ? 'groups' : `groups ${page}`);
      for (const r of replies) expect(utf16Bytes(r), `page ${page}`).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
      const text = readable(replies);
      seen.push(...(text.match(/`[cg]-\d+`/g) ?? []));
      if (page === 1) expect(text).toContain('The rollout file has 3000 entries left out');
      if (!text.includes(`groups ${page + 1}`)) break;
    }
    const all = [...Array.from({ length: N }, (_, i) => `\`c-${i}\``), ...Array.from({ length: N }, (_, i) => `\`g-${i}\``)];
    expect(seen).toEqual(all);
  });
});
