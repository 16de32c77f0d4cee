import type { IssueQueries } from '../issues/queries.js';
import type { IssueRepository } from '../issues/repository.js';
import type { IssueFacts } from './wins.js';

/** How many list pages a count may read before it settles for what it has (a rule run stays bounded). */
const MAX_PAGES = 400;
const PAGE = 50;

/**
 * The win rules' view of the issue log, through its own read APIs (the archive and queue lists, and one
 * issue's history), so the issue log itself is not changed for it.
 */
export class IssueLogFacts implements IssueFacts {
  constructor(
    private readonly queries: Pick<IssueQueries, 'triageQueue'>,
    private readonly repository: Pick<IssueRepository, 'get'>,
  ) {}

  async resolvedCount(atLeast: number): Promise<number> {
    let count = 0;
    for (const status of ['resolved', 'closed'] as const) {
      let token: string | null = null;
      for (let pages = 0; pages < MAX_PAGES && count < atLeast; pages++) {
        const page = await this.queries.triageQueue({ status }, { limit: PAGE, token });
        count += page.items.length;
        token = page.next;
        if (!token) break;
      }
    }
    return count;
  }

  async openP1(): Promise<number> {
    let n = 0;
    let token: string | null = null;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page = await this.queries.triageQueue({}, { limit: PAGE, token });
      n += page.items.filter((i) => i.priority === 'P1').length;
      token = page.next;
      if (!token) break;
    }
    return n;
  }

  async anyIssues(): Promise<boolean> {
    if ((await this.queries.triageQueue({}, { limit: 1 })).items.length) return true;
    return (await this.resolvedCount(1)) > 0;
  }

  async resolvedBy(since: Date): Promise<Map<string, { name: string; count: number }>> {
    const out = new Map<string, { name: string; count: number }>();
    const from = since.toISOString();
    for (const status of ['resolved', 'closed'] as const) {
      let token: string | null = null;
      scan: for (let pages = 0; pages < MAX_PAGES; pages++) {
        // The archive lists the most recently closed first: stop at the first closed before `since`.
        const page = await this.queries.triageQueue({ status }, { limit: PAGE, token });
        for (const summary of page.items) {
          const issue = await this.repository.get(summary.ref);
          if (!issue?.closedAt) continue;
          if (issue.closedAt < from) break scan;
          const resolved = [...issue.history].reverse().find((h) => h.what === 'status' && h.to === 'resolved');
          if (!resolved || resolved.at < from) continue;
          const prev = out.get(resolved.by.id) ?? { name: resolved.by.name, count: 0 };
          out.set(resolved.by.id, { name: prev.name, count: prev.count + 1 });
        }
        token = page.next;
        if (!token) break;
      }
    }
    return out;
  }
}
