import type { Issue, Person, Priority, Reporter, Severity, Status } from '../../src/issues/model.js';
import { formatRef } from '../../src/issues/refs.js';
import { applyTriageAction, createIssue, type TriageAction } from '../../src/issues/rules.js';

/**
 * Bench data: a seeded generator (two runs load the same data) of a year of a rollout's issues — most
 * older ones done, a realistic open backlog, a few sites, reporters and champions carrying most of the
 * load. Shared by bench:issues and bench:adoption.
 */
export function benchData(initialSeed: number) {
  let seed = initialSeed;
  function rand(): number {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  /** Skewed pick: a few sites, reporters and champions carry most of the load, as in real life. */
  const pickSkewed = <T>(xs: readonly T[]): T => xs[Math.floor(rand() ** 2 * xs.length)]!;
  function weighted<T extends string>(weights: Record<T, number>): T {
    const entries = Object.entries(weights) as [T, number][];
    let r = rand() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) {
      r -= w;
      if (r <= 0) return k;
    }
    return entries[0]![0];
  }

  const SITES = Array.from({ length: 30 }, (_, i) => `Site ${String(i + 1).padStart(2, '0')}`);
  const CHAMPIONS: Person[] = Array.from({ length: 40 }, (_, i) => ({
    id: `29:champion-${i}`,
    name: `Champion ${i}`,
  }));
  const REPORTERS: Reporter[] = Array.from({ length: 5000 }, (_, i) => ({
    id: `29:staff-${i}`,
    name: `Staff ${i}`,
  }));
  const WORDS =
    'login password locked screen save form report export totals sync offline tablet slow timeout spinner training video dropdown missing field error crash duplicate record patient visit schedule print'.split(
      ' ',
    );
  const phrase = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');

  const DAY = 86_400_000;
  const OPEN_PATH: Record<Status, Status[]> = {
    new: [],
    triaged: ['triaged'],
    in_progress: ['triaged', 'in_progress'],
    waiting: ['triaged', 'in_progress', 'waiting'],
    resolved: ['triaged', 'in_progress', 'resolved'],
    closed: ['triaged', 'in_progress', 'resolved', 'closed'],
    wont_fix: ['triaged', 'wont_fix'],
    duplicate: [],
  };

  function makeIssue(n: number, now: number): Issue {
    const created = new Date(now - rand() * 365 * DAY);
    const recent = now - created.getTime() < 14 * DAY;
    // Recent issues are mostly still open; older ones mostly done.
    const status: Status =
      rand() < (recent ? 0.7 : 0.05)
        ? weighted({ new: 3, triaged: 2, in_progress: 3, waiting: 1 })
        : weighted({ closed: 60, resolved: 20, wont_fix: 8, duplicate: 12 });
    const input = {
      title: `${phrase(4)} on ${pick(['phone', 'laptop', 'tablet', 'desktop'])}`,
      description: phrase(25),
      location: `Screen ${pick(['Home', 'Visit', 'Report', 'Settings'])}`,
      category: weighted({
        'Access / login': 25,
        'Data entry': 20,
        Reports: 15,
        'Sync / offline': 10,
        Performance: 10,
        Training: 10,
        Other: 10,
      }),
      severity: weighted<Severity>({ blocks: 20, slows: 50, minor: 30 }),
      site: pickSkewed(SITES),
    };
    let issue = createIssue(input, pickSkewed(REPORTERS), formatRef('R-', n), n, created);
    let t = created.getTime();
    const step = (action: TriageAction, actor: Person) => {
      t += rand() * 2 * DAY;
      const at = new Date(Math.min(t, now - 1000));
      const out = applyTriageAction(issue, action, actor, at);
      if (out.ok) issue = out.issue;
    };
    if (status === 'new') return issue;
    const champion = pickSkewed(CHAMPIONS);
    if (rand() < 0.85) step({ kind: 'assignMe' }, champion);
    if (rand() < 0.85)
      step({ kind: 'priority', priority: weighted<Priority>({ P1: 5, P2: 20, P3: 45, P4: 30 }) }, champion);
    if (rand() < 0.4)
      step({ kind: 'comment', text: phrase(12), visibility: rand() < 0.5 ? 'public' : 'internal' }, champion);
    if (status === 'duplicate')
      step({ kind: 'duplicate', of: formatRef('R-', Math.max(1, n - 1 - Math.floor(rand() * 50))) }, champion);
    for (const s of OPEN_PATH[status]) step({ kind: 'status', status: s }, champion);
    return issue;
  }

  return { rand, pick, pickSkewed, weighted, phrase, makeIssue, SITES, CHAMPIONS, REPORTERS, WORDS };
}
