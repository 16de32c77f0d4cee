/**
 * npm run bench:broadcast [-- --recipients 10000 --json --tenant 50 --seed 7 --latency 30 --kill-at 0.4 --runs 1,2,3
 *                            --worker '{"leaseEveryMs":25}' --probe --cpu-prof DIR]
 *
 * Sends one message to N 1:1 recipients through the real outbound path (QueueOutbox → Storage queue →
 * outbound worker processes → botbuilder connector client) against the Teams connector stand-in
 * (test/support/teams-connector.ts: Teams' published limits enforced as sliding windows, seeded faults:
 * 2% 429, 1% 502, 0.5% of recipients blocked), each run on its own fresh in-memory Azurite. Three runs:
 *   1. one instance;
 *   2. one instance, SIGKILLed at `--kill-at` of the recipients and started again;
 *   3. two instances, one of them SIGKILLed at `--kill-at` and started again.
 * For each: requests/s at the connector and its ratio to the tenant limit, 429s the sender caused itself
 * (a limit passed) apart from injected ones, duplicates, recipients missed, wall time, and what the workers
 * measured of what a kill can leave unsure (request → recorded answer; how far the send lease reached: attempts
 * planned within it stay unconfirmed, later ones are sent again — `resumed` in the workers' counts).
 * Targets: ≥ 95% of the tenant limit, 0 self-caused 429s, 0 duplicates, 0 missed.
 *
 * Where the rate goes (broadcast-probe.ts): every run prints each process's CPU per 10 s (share of one core:
 * Azurite's table and queue processes, the workers, this process with the stand-in); `--probe` also counts the
 * workers' storage calls per 10 s by table or queue with their mean ms; `--cpu-prof DIR` writes V8 profiles of
 * Azurite's table process and the workers into DIR and prints their busiest functions.
 * Quicker iteration: `--runs 1` (one instance only), `--recipients 4000`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/clock.js';
import { PostStore } from '../../src/conversations/posts.js';
import { ConversationStore, type StoredConversation } from '../../src/conversations/store.js';
import { DeliveryStore } from '../../src/outbound/deliveries.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { QueueOutbox } from '../../src/outbound/outbox.js';
import { OutboundQueue } from '../../src/outbound/queue.js';
import { percentiles, type StatsSnapshot } from '../../src/outbound/stats.js';
import type { WorkerOptions } from '../../src/outbound/worker.js';
import { startAzurite } from '../../src/storage/azurite.js';
import { openQueue, queueName } from '../../src/storage/queues.js';
import { Tables } from '../../src/storage/tables.js';
import { WorkerProcess } from '../../test/support/outbound-child.js';
import { TeamsConnectorStandIn } from '../../test/support/teams-connector.js';
import { CPU_PROFILE_PRELOAD, Probe, type ProbeSample, profilesOf, STORAGE_COUNTER, StorageTally, topFunctions } from './broadcast-probe.js';

const { values } = parseArgs({
  options: {
    recipients: { type: 'string', default: '10000' },
    tenant: { type: 'string', default: '50' },
    seed: { type: 'string', default: '7' },
    latency: { type: 'string', default: '30' },
    'kill-at': { type: 'string', default: '0.4' },
    runs: { type: 'string', default: '1,2,3' },
    /** Worker options for the sending processes (JSON), to measure a setting before changing its default. */
    worker: { type: 'string', default: '{}' },
    probe: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(values.recipients);
const TENANT = Number(values.tenant);
const KILL_AT = Number(values['kill-at']);
const PROFILE_DIR = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;
if (PROFILE_DIR) {
  mkdirSync(PROFILE_DIR, { recursive: true });
  process.env.CPU_PROF_DIR = PROFILE_DIR; // read by the preload in the processes profiled (NODE_OPTIONS below)
}
/** Runs `fn` with extra NODE_OPTIONS for the processes it starts. */
async function withNodeOptions<T>(extra: string, fn: () => T | Promise<T>): Promise<T> {
  const before = process.env.NODE_OPTIONS;
  if (extra) process.env.NODE_OPTIONS = `${before ?? ''} ${extra}`.trim();
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = before;
  }
}
const say = (line: string) => {
  if (!values.json) console.log(line);
};

const connector = await new TeamsConnectorStandIn({
  tenantPerSecond: TENANT,
  seed: Number(values.seed),
  p429: 0.02,
  p502: 0.01,
  pBlocked: 0.005,
  latencyMs: Number(values.latency),
}).start();
const prefix = 'bench';

// N people who have the bot in personal scope.
const chats: Omit<StoredConversation, 'updatedAt'>[] = Array.from({ length: N }, (_, i) => ({
  conversationId: `a:chat-${i}`,
  conversationType: 'personal',
  serviceUrl: connector.url,
  tenantId: 'tenant-bench',
  channelId: 'msteams',
  bot: { id: '28:bot' },
  user: { id: `29:user-${i}`, aadObjectId: `aad-${i}`, name: `User ${i}` },
}));

/**
 * Each run gets its own in-memory Azurite, seeded afresh: embedded Azurite's writes slow down as its tables grow
 * (a second run on the first run's 20,000 rows recorded answers about 10× slower), which a Storage account does
 * not; separate stores keep the runs comparable.
 */
async function freshStore() {
  const azurite = await withNodeOptions(PROFILE_DIR ? `--import ${CPU_PROFILE_PRELOAD}` : '', () =>
    startAzurite(),
  );
  const tables = new Tables(azurite.connectionString, prefix);
  const t0 = Date.now();
  const conversations = await ConversationStore.open(tables, systemClock);
  await conversations.rememberAll(chats);
  say(`  seeded ${N} personal chats in a fresh in-memory Azurite in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const queue = new OutboundQueue(await openQueue(azurite.connectionString, queueName(prefix, 'outbound')));
  const deliveries = await DeliveryStore.open(tables);
  const outbox = new QueueOutbox(queue, deliveries, await PostStore.open(tables), { parallel: 32 });
  return { azurite, queue, deliveries, outbox };
}
type Store = Awaited<ReturnType<typeof freshStore>>;

interface RunResult {
  run: string;
  recipients: number;
  enqueuePerSecond: number;
  requests: number;
  requestsPerSecond: number;
  ratioToTenantLimit: number;
  /** Median of the per-10-second request rates while sending (the sustained rate). */
  sustainedPerSecond: number;
  sustainedRatio: number;
  busiestSecond: number;
  selfCaused429: number;
  /** When each self-caused 429 arrived, s from the first request. */
  selfCausedAtSeconds: number[];
  /** The longest event-loop stall of this process (the stand-in's) within 1 s of each self-caused 429, ms. */
  standInStallAt429: number[];
  /** p99 over the run of each second's longest stall of this process, ms. */
  standInStallP99: number;
  injected429: number;
  injected502: number;
  blocked403: number;
  delivered: number;
  duplicates: number;
  missed: number;
  blockedRecipients: number;
  rows: Record<string, number>;
  wallSeconds: number;
  killedAt?: number;
  resumedRequestsPerSecond?: number;
  /** Median of the per-10-second request rates from the restart to the last request (the resumed phase alone). */
  resumedSustainedPerSecond?: number;
  /** Seconds from the restart to the last request (the resumed phase, including any wait for the killed worker's work). */
  resumedSeconds?: number;
  /** Requests per 10 s window from the first request, per second (where the rate went). */
  timeline: number[];
  /** CPU per process and (with --probe) the workers' storage calls, per 10 s from the workers' start. */
  probe: ProbeSample[];
  workerPids: (number | undefined)[];
  workerCounts: Record<string, number>;
  window: {
    requestToAnswerP99: number;
    requestToAnswerMax: number;
    /** ms from a request's slot to its leaving (at most maxLateMs, 20): p99 and max over the workers. */
    lateP99: number;
    lateMax: number;
    answerToRecordP50: number;
    answerToRecordP99: number;
    leaseReachP50: number;
    leaseReachMax: number;
    exposedShare: number;
  };
}

async function queueEmpty(queue: Store['queue']): Promise<boolean> {
  const props = await queue.client.getProperties();
  return (props.approximateMessagesCount ?? 1) === 0;
}

async function waitDone(queue: Store['queue']): Promise<void> {
  for (;;) {
    if (await queueEmpty(queue)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function run(name: string, instances: number, kill: boolean, store: Store): Promise<RunResult> {
  const { azurite, deliveries, outbox, queue } = store;
  connector.reset();
  const topic = `broadcast:bench-${name}`;
  const messages: OutboundMessage[] = chats.map((c, i) => ({
    op: 'send',
    key: `${topic}:${i}`,
    to: { kind: 'user', userKey: `aad-${i}` },
    content: 'FieldLedger goes live on Monday 18 January. Your login arrives by SMS the Friday before.',
    topic,
  }));
  const e0 = Date.now();
  await outbox.enqueue(messages);
  const enqueuePerSecond = N / ((Date.now() - e0) / 1000);
  say(`  run ${name}: enqueued ${N} in ${((Date.now() - e0) / 1000).toFixed(1)} s`);

  const workerNodeOptions = [
    values.probe ? `--import tsx --import ${STORAGE_COUNTER}` : '', // tsx first: the counter is TypeScript
    PROFILE_DIR ? `--import ${CPU_PROFILE_PRELOAD}` : '',
  ].join(' ').trim();
  const tallies: { child: WorkerProcess['child']; tally: StorageTally; retired?: boolean }[] = [];
  const spawnWorker = async (id: string) => {
    const w = await withNodeOptions(workerNodeOptions, () =>
      new WorkerProcess({ storage: azurite.connectionString, prefix, tenant: TENANT, id, worker: JSON.parse(values.worker) as Partial<WorkerOptions> }),
    );
    tallies.push({ child: w.child, tally: new StorageTally(w.child) });
    return w;
  };
  const workers = await Promise.all(Array.from({ length: instances }, (_, i) => spawnWorker(`${name}-w${i + 1}`)));
  await Promise.all(workers.map((w) => w.ready));
  const everyWorker = [...workers];
  const probe = new Probe(
    () => ({
      'azurite table': azurite.pid('table'),
      'azurite queue': azurite.pid('queue'),
      'bench + stand-in': process.pid,
      ...Object.fromEntries(everyWorker.map((w, i) => [`workers-${i}`, w.child.pid])),
    }),
    // Only workers with the storage counter get SIGUSR2 (without its handler, the signal would end them).
    () => (values.probe ? tallies : []),
  );
  probe.start();
  const start = Date.now();
  // The stand-in stamps each request's arrival from this process's event loop: a stall here (GC) stamps the
  // requests that arrived meanwhile late and close together, which can look like a burst. Kept per second.
  const loopStalls: { at: number; maxMs: number }[] = [];
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const loopTimer = setInterval(() => {
    loopStalls.push({ at: Date.now(), maxMs: loop.max / 1e6 });
    loop.reset();
  }, 1_000);
  const finished: StatsSnapshot[] = [];
  let killedAt: number | undefined;
  let restartAt: number | undefined;
  if (kill) {
    while (connector.counts.delivered < N * KILL_AT) await new Promise((r) => setTimeout(r, 20));
    const victim = workers[0]!;
    await victim.kill();
    killedAt = connector.counts.delivered;
    if (victim.stats) finished.push(victim.stats);
    say(`  run ${name}: SIGKILL of ${victim.child.pid} after ${killedAt} deliveries; starting it again`);
    restartAt = Date.now();
    const killedTally = tallies.find((t) => t.child === victim.child);
    if (killedTally) killedTally.retired = true;
    workers[0] = await spawnWorker(`${name}-w1-restarted`);
    everyWorker.push(workers[0]);
    await workers[0].ready;
  }
  await waitDone(queue);
  const wallSeconds = (Date.now() - start) / 1000;
  probe.stop();
  clearInterval(loopTimer);
  loop.disable();
  for (const t of tallies) t.retired = true; // no more SIGUSR2: the workers stop now
  await Promise.all(
    workers.map(async (w) => {
      await w.stop();
      if (w.stats) finished.push(w.stats);
    }),
  );

  const times = [...(connector.tenantTimes.get('tenant-bench') ?? [])].sort((a, b) => a - b);
  const first = times[0] ?? start;
  const last = times.at(-1) ?? start;
  const requestsPerSecond = times.length / Math.max(0.001, (last - first) / 1000);
  const perTen = tenSecondRates(times, first, last);
  const sustained = percentiles(perTen).p50 || requestsPerSecond;
  const resumed = restartAt === undefined ? undefined : times.filter((t) => t >= restartAt);
  const resumedFirst = resumed?.[0];
  const resumedLast = resumed?.at(-1);
  const resumedSustained =
    resumed && resumedFirst !== undefined && resumedLast !== undefined
      ? percentiles(tenSecondRates(resumed, resumedFirst, resumedLast)).p50
      : undefined;
  const tally = connector.tally(chats.map((c) => c.conversationId));
  const rows = await deliveries.tally(topic);
  const worst = (f: (s: StatsSnapshot) => number) => Math.max(0, ...finished.map(f));
  return {
    run: name,
    recipients: N,
    enqueuePerSecond: round(enqueuePerSecond),
    requests: times.length,
    requestsPerSecond: round(requestsPerSecond),
    ratioToTenantLimit: round(requestsPerSecond / TENANT, 3),
    sustainedPerSecond: round(sustained),
    sustainedRatio: round(sustained / TENANT, 3),
    busiestSecond: connector.busiest().tenantPerWindow,
    selfCaused429: connector.counts.selfCaused429,
    selfCausedAtSeconds: connector.selfCausedAt.map((t) => round((t - first) / 1000)),
    // The stand-in's own event-loop stall in the second before each self-caused 429 (ms), and its p99 over the run.
    standInStallAt429: connector.selfCausedAt.map((t) => round(Math.max(0, ...loopStalls.filter((l) => l.at >= t - 1_000 && l.at <= t + 1_000).map((l) => l.maxMs)))),
    standInStallP99: round(percentiles(loopStalls.map((l) => l.maxMs)).p99),
    injected429: connector.counts.injected429,
    injected502: connector.counts.injected502,
    blocked403: connector.counts.blocked403,
    delivered: tally.delivered,
    duplicates: tally.duplicates,
    missed: tally.missed,
    blockedRecipients: tally.blocked,
    rows,
    wallSeconds: round(wallSeconds),
    ...(killedAt !== undefined ? { killedAt } : {}),
    ...(resumed && resumed.length > 1
      ? { resumedRequestsPerSecond: round(resumed.length / (((resumed.at(-1) ?? 0) - (resumed[0] ?? 0)) / 1000)) }
      : {}),
    ...(resumedSustained ? { resumedSustainedPerSecond: round(resumedSustained) } : {}),
    ...(restartAt !== undefined && resumedLast !== undefined ? { resumedSeconds: round((resumedLast - restartAt) / 1000) } : {}),
    timeline: tenSecondRates(times, first, last + 10_000).map((r) => round(r)),
    probe: probe.samples,
    workerPids: everyWorker.map((w) => w.child.pid),
    workerCounts: finished.reduce<Record<string, number>>((sum, f) => {
      for (const [k, v] of Object.entries(f.counts)) sum[k] = (sum[k] ?? 0) + v;
      return sum;
    }, {}),
    window: {
      requestToAnswerP99: worst((s) => s.sendMs.p99),
      requestToAnswerMax: worst((s) => s.sendMs.max),
      lateP99: worst((s) => s.lateMs.p99),
      lateMax: worst((s) => s.lateMs.max),
      answerToRecordP50: worst((s) => s.recordMs.p50),
      answerToRecordP99: worst((s) => s.recordMs.p99),
      leaseReachP50: worst((s) => s.leaseReachMs?.p50 ?? 0),
      leaseReachMax: worst((s) => s.leaseReachMs?.max ?? 0),
      exposedShare: round(worst((s) => s.exposedShare), 3),
    },
  };
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** Requests per second in each whole 10 s window from `first` while the window ends by `last`. */
function tenSecondRates(times: readonly number[], first: number, last: number): number[] {
  const rates: number[] = [];
  for (let at = first; at + 10_000 <= last; at += 10_000) rates.push(times.filter((t) => t >= at && t < at + 10_000).length / 10);
  return rates;
}

/** The probe's samples as lines: CPU per process (% of one core), then each storage target's calls and mean ms. */
function probeLines(samples: readonly ProbeSample[]): string[] {
  if (!samples.length) return [];
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.cpu)))];
  const lines = names.map((n) => `  cpu % ${n}: ${samples.map((s) => Math.round(s.cpu[n] ?? 0)).join(' ')}`);
  const targets = [...new Set(samples.flatMap((s) => Object.keys(s.calls)))].sort();
  for (const t of targets) {
    lines.push(`  calls/10 s ${t}: ${samples.map((s) => s.calls[t]?.n ?? 0).join(' ')}`);
    lines.push(`  mean ms ${t}: ${samples.map((s) => (s.calls[t] ? s.calls[t].ms.toFixed(1) : '-')).join(' ')}`);
  }
  return lines;
}

/** After a run with --cpu-prof: the busiest functions of Azurite's table process and of the workers. */
function profileLines(azuritePid: number | undefined, workerPids: readonly (number | undefined)[]): string[] {
  if (!PROFILE_DIR) return [];
  const lines: string[] = [];
  const show = (label: string, files: string[]) => {
    for (const f of files) {
      lines.push(`  profile ${label} (${path.basename(f)}), self time:`);
      for (const t of topFunctions(f, 20)) lines.push(`    ${String(t.share).padStart(5)}% ${String(t.ms).padStart(6)} ms  ${t.fn}`);
    }
  };
  show('azurite table', profilesOf(PROFILE_DIR, azuritePid));
  for (const pid of workerPids) show(`worker ${pid}`, profilesOf(PROFILE_DIR, pid));
  return lines;
}

const plan: [string, number, boolean][] = [
  ['1', 1, false],
  ['2', 1, true],
  ['3', 2, true],
];
const results: RunResult[] = [];
for (const [name, instances, kill] of plan.filter(([n]) => String(values.runs).split(',').includes(n))) {
  say(`run ${name}: ${instances} instance(s)${kill ? `, one SIGKILLed at ${KILL_AT * 100}% and restarted` : ''}`);
  const store = await freshStore();
  const azuritePid = store.azurite.pid('table');
  const r = await run(name, instances, kill, store).finally(async () => {
    if (PROFILE_DIR) {
      // Ends Azurite's processes with process.exit (cpu-profile-preload.mjs), which writes their profiles.
      for (const service of ['table', 'queue'] as const) {
        const pid = store.azurite.pid(service);
        if (pid) process.kill(pid, 'SIGHUP');
      }
      for (let i = 0; i < 100 && (store.azurite.pid('table') || store.azurite.pid('queue')); i++) await new Promise((res) => setTimeout(res, 100));
    }
    await store.azurite.stop();
  });
  results.push(r);
  say(
    [
      `  requests/s ${r.requestsPerSecond} (${(r.ratioToTenantLimit * 100).toFixed(1)}% of ${TENANT}/s), sustained ${r.sustainedPerSecond}/s (${(r.sustainedRatio * 100).toFixed(1)}%), busiest 1 s: ${r.busiestSecond}`,
      `  429 self-caused ${r.selfCaused429} (injected 429 ${r.injected429}, 502 ${r.injected502}, 403 ${r.blocked403})`,
      `  delivered ${r.delivered}/${N}, duplicates ${r.duplicates}, missed ${r.missed}, blocked ${r.blockedRecipients}; rows ${JSON.stringify(r.rows)}`,
      `  wall ${r.wallSeconds} s${r.killedAt !== undefined ? `; killed after ${r.killedAt} deliveries, resumed at ${r.resumedRequestsPerSecond ?? '?'} requests/s (sustained ${r.resumedSustainedPerSecond ?? '?'}/s, ${((r.resumedSustainedPerSecond ?? 0) / TENANT * 100).toFixed(1)}%; last request ${r.resumedSeconds ?? '?'} s after the restart)` : ''}`,
      `  per 10 s: ${r.timeline.join(' ')}`,
      ...probeLines(r.probe),
      `  workers: ${JSON.stringify(r.workerCounts)}`,
      ...profileLines(azuritePid, r.workerPids),
      `  slot→request p99 ${r.window.lateP99} / max ${r.window.lateMax} ms, request→answer max ${r.window.requestToAnswerMax} ms (stand-in answers after ${values.latency} ms); self-caused 429s at ${r.selfCausedAtSeconds.map((t, i) => `${t} s (stand-in's event loop stalled ${r.standInStallAt429[i]} ms within 1 s)`).join(', ') || '—'}; the stand-in's longest stall per second p99 ${r.standInStallP99} ms`,
      `  kill window: request→answer p99 ${r.window.requestToAnswerP99} ms, answer→record p50 ${r.window.answerToRecordP50} / p99 ${r.window.answerToRecordP99} ms, share of time a request was out unrecorded ${(r.window.exposedShare * 100).toFixed(1)}%; send lease reach p50 ${Math.round(r.window.leaseReachP50)} / max ${Math.round(r.window.leaseReachMax)} ms (a kill leaves unconfirmed what was planned within it)`,
    ].join('\n'),
  );
}
if (values.json) console.log(JSON.stringify({ tenantLimit: TENANT, recipients: N, runs: results }, null, 2));

await connector.stop();
