import { escapeText } from '../cards/template.js';
import { clip } from '../text/fit.js';
import { goLiveText } from './service.js';
import type { Rollout } from './model.js';

/**
 * What one page of a `groups` answer may hold (characters of its lines) and how many of the file's problems it
 * names. The rollout file allows 200 cohorts and 200 user groups (names of 120 characters, descriptions of
 * 300) and 25,000 members, each of which may be a problem: listed whole, the answer was far past the 40 KB
 * Teams takes, and the rollout team got nothing. Pages go through every cohort and group ("groups 2").
 */
const GROUPS_PAGE_CHARS = 8_000;
const GROUPS_PROBLEMS_SHOWN = 3;

/** Page `page` (from 1; past the end is the last) of the rollout's cohorts and user groups, as a message. */
export function groupsPage(r: Rollout, page: number): string {
  const entries: { section: 'Cohorts' | 'User groups'; line: string }[] = [
    ...r.cohorts.map((c) => ({ section: 'Cohorts' as const, line: `- ${escapeText(c.name)} (\`${c.id}\`): ${goLiveText(c)}` })),
    ...r.groups.map((g) => ({ section: 'User groups' as const, line: `- ${escapeText(g.name)} (\`${g.id}\`)${g.description ? `: ${escapeText(g.description)}` : ''}` })),
  ];
  const pages: (typeof entries)[] = [[]];
  let used = 0;
  for (const entry of entries) {
    if (used + entry.line.length > GROUPS_PAGE_CHARS && pages.at(-1)!.length) {
      pages.push([]);
      used = 0;
    }
    pages.at(-1)!.push(entry);
    used += entry.line.length + 1;
  }
  const at = Math.min(Math.max(1, page), pages.length);
  const shown = pages[at - 1]!;
  const lines: string[] = [];
  for (const section of ['Cohorts', 'User groups'] as const) {
    const of = shown.filter((e) => e.section === section).map((e) => e.line);
    // Each section's heading on the pages that list some of it, and "none yet" on the first when it is empty.
    if (of.length || (at === 1 && !entries.some((e) => e.section === section))) {
      if (lines.length) lines.push('');
      lines.push(`**${section}**`, ...(of.length ? of : ['- none yet']));
    }
  }
  if (pages.length > 1) lines.push('', `Page ${at} of ${pages.length}${at < pages.length ? `: type "groups ${at + 1}" for the next` : ''}.`);
  if (r.problems.length && at === 1) {
    const named = r.problems.slice(0, GROUPS_PROBLEMS_SHOWN).map((p) => clip(p, 200));
    const rest = r.problems.length - named.length;
    lines.push(
      '',
      `The rollout file has ${r.problems.length} entr${r.problems.length === 1 ? 'y' : 'ies'} left out: ${escapeText(named.join('; '))}${rest ? ` and ${rest} more (the log names each)` : ''}`,
    );
  }
  return lines.join('\n');
}
