import { odata } from '@azure/data-tables';
import { csvHeader, issueCsvLine } from './csv.js';
import { entityToIssue } from './entity.js';
import type { Issue } from './model.js';
import type { IssueTables } from './tables.js';

/** The CSV export: the only reader of the whole `Issues` table, a page at a time. */
export class IssueExport {
  constructor(private readonly t: Pick<IssueTables, 'main'>) {}

  /** Every issue, a page at a time. */
  async *allIssues(pageSize = 500): AsyncGenerator<Issue[]> {
    const iter = this.t.main
      .listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`kind eq ${'issue'}` } })
      .byPage({ maxPageSize: pageSize });
    for await (const page of iter) yield page.map((e) => entityToIssue(e));
  }

  /** The whole export as one CSV text, and how many issues it holds (not lines: a description may span several). */
  async csv(): Promise<{ csv: string; count: number }> {
    const parts = [csvHeader()];
    let count = 0;
    for await (const page of this.allIssues()) {
      count += page.length;
      parts.push(page.map(issueCsvLine).join(''));
    }
    return { csv: parts.join(''), count };
  }
}
