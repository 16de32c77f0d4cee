/**
 * npm run bench:issues [-- --issues 100000 --samples 200 --parallel 4]
 *
 * Starts its own in-memory Azurite, bulk-loads N issues with transactions (a year of a rollout: most
 * older issues done, a realistic open backlog), then measures p50/p95 of each query the issue log
 * serves and of logging one issue end to end (counter, idempotency row, main row, index rows).
 * Targets on Azurite: each query p95 ≤ 100 ms, logging p95 ≤ 30 ms.
 */
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/clock.js';
import { DEFAULT_CATEGORIES, PRIORITIES, STATUSES, type Status } from '../../src/issues/model.js';
import { IssueQueries } from '../../src/issues/queries.js';
import { IssueRepository } from '../../src/issues/repository.js';
import { openIssueTables } from '../../src/issues/tables.js';
import { benchData } from './generate.js';
import { bulkLoadIssues } from './load-issues.js';
import { measure as measureOne, printRows, type Row } from './measure.js';
import { startAzurite } from '../../src/storage/azurite.js';
import { Tables } from '../../src/storage/tables.js';

const { values } = parseArgs({
  options: {
    issues: { type: 'string', default: '100000' },
    samples: { type: 'string', default: '200' },
    parallel: { type: 'string', default: '4' },
    seed: { type: 'string', default: '42' },
  },
});
const N = Number(values.issues);
const SAMPLES = Number(values.samples);
const PARALLEL = Number(values.parallel);

const { rand, pick, pickSkewed, phrase, makeIssue, SITES, CHAMPIONS, REPORTERS } = benchData(Number(values.seed) >>> 0 || 42);

const measure = (name: string, target: number | null, fn: (i: number) => Promise<unknown>) =>
  measureOne(name, target, fn, { samples: SAMPLES });

async function main() {
  const azurite = await startAzurite();
  try {
    const tables = new Tables(azurite.connectionString, 'bench');
    const issueTables = await openIssueTables(tables);
    const repo = new IssueRepository(issueTables, { clock: systemClock });
    const queries = new IssueQueries(issueTables, repo.counter, systemClock);
    const now = Date.now();

    let t0 = performance.now();
    const issues = Array.from({ length: N }, (_, i) => makeIssue(i + 1, now));
    const genMs = performance.now() - t0;
    const byStatus = new Map<Status, number>();
    for (const i of issues) byStatus.set(i.status, (byStatus.get(i.status) ?? 0) + 1);
    t0 = performance.now();
    await bulkLoadIssues(issueTables, repo.config.refPrefix, issues, { parallel: PARALLEL });
    const fillMs = performance.now() - t0;
    console.log(
      `Loaded ${N.toLocaleString('en')} issues in ${(fillMs / 1000).toFixed(1)} s ` +
        `(generated in ${(genMs / 1000).toFixed(1)} s; ${PARALLEL} transactions in flight).`,
    );
    console.log(`Statuses: ${STATUSES.map((s) => `${s} ${byStatus.get(s) ?? 0}`).join(', ')}\n`);

    const refs = issues.map((i) => i.ref);
    const queueTokens: string[] = [];
    const rows: Row[] = [];
    rows.push(await measure('by reference (point read)', 100, () => repo.get(pick(refs))));
    rows.push(
      await measure('triage queue, first page', 100, async () => {
        const page = await queries.triageQueue({}, { limit: 10 });
        if (page.next) queueTokens.push(page.next);
      }),
    );
    // Deeper pages: walk forward from the first page's token.
    let token: string | null = queueTokens[0] ?? null;
    rows.push(
      await measure('triage queue, next pages', 100, async () => {
        const page = await queries.triageQueue({}, { limit: 10, token });
        token = page.next ?? queueTokens[0] ?? null;
      }),
    );
    rows.push(
      await measure('queue by status (open)', 100, () =>
        queries.triageQueue({ status: pick(['new', 'triaged', 'in_progress', 'waiting'] as const) }),
      ),
    );
    rows.push(
      await measure('by status (done: archive)', 100, () =>
        queries.triageQueue({ status: pick(['resolved', 'closed', 'wont_fix', 'duplicate'] as const) }),
      ),
    );
    rows.push(await measure('by assignee (assigned)', 100, () => queries.listAssigned(pick(CHAMPIONS).id)));
    rows.push(await measure('by reporter (my issues)', 100, () => queries.listByReporter(pick(REPORTERS).id)));
    rows.push(
      await measure('by category', 100, () => queries.triageQueue({ category: pick(DEFAULT_CATEGORIES) })),
    );
    rows.push(await measure('by site', 100, () => queries.triageQueue({ site: pick(SITES) })));
    rows.push(
      await measure('category + site + status', 100, () =>
        queries.triageQueue({ category: pick(DEFAULT_CATEGORIES), site: pick(SITES), status: 'new' }),
      ),
    );
    rows.push(
      await measure('similar open issues', 100, () =>
        queries.findSimilarOpen({
          category: pick(DEFAULT_CATEGORIES),
          site: pickSkewed(SITES),
          title: phrase(4),
          description: phrase(20),
        }),
      ),
    );
    // The SLA job reads, once a minute, the New issues that crossed a threshold since its last run.
    const windows = () =>
      [240, 60].map((min) => ({
        from: new Date(Date.now() - 60_000 - (min + 5) * 60_000),
        to: new Date(Date.now() - min * 60_000),
      }));
    rows.push(await measure('SLA candidates (per-minute run)', 100, () => queries.untriaged(windows())));
    rows.push(await measure('SLA candidates (first run: all New)', null, () => queries.untriaged()));
    rows.push(
      await measure('log one issue (end to end)', 30, (i) =>
        repo.logIssue(
          {
            title: `Bench ${i} ${phrase(3)}`,
            description: phrase(20),
            location: 'Visit screen',
            category: pick(DEFAULT_CATEGORIES),
            severity: pick(['blocks', 'slows', 'minor']),
            site: pickSkewed(SITES),
          },
          pick(REPORTERS),
          { idempotencyKey: `bench-activity-${i}-${rand()}` },
        ),
      ),
    );
    rows.push(
      await measure('triage action (priority)', 100, () =>
        repo.act(pick(refs), { kind: 'priority', priority: pick([...PRIORITIES, null]) }, pick(CHAMPIONS)),
      ),
    );

    console.log(`Each line: ${SAMPLES} samples, sequential, after 5 warm-up calls.`);
    if (!printRows(rows)) process.exitCode = 1;
  } finally {
    await azurite.stop();
  }
}

await main();
