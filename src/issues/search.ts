import type { IssueSummary } from './model.js';

/**
 * The tab's issue search, one rule for the open board and the done issues: every word of the search must
 * appear in the reference, title, site, category, assignee or reporter (case-insensitive). Undefined when
 * there is nothing to match, so a plain list reads only what it shows.
 */
export function issueMatcher(search?: string): ((r: IssueSummary) => boolean) | undefined {
  const words = (search ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return undefined;
  return (r) => {
    const hay = `${r.ref} ${r.title} ${r.site} ${r.category} ${r.assignee?.name ?? ''} ${r.reporter.name}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  };
}
