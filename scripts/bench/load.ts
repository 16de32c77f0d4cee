/**
 * npm run bench:load -- [--users 200] [--seconds 60] [--think-ms 1000] [--connections 20] [--capacity-seconds 20]
 *                       [--warmup 5] [--seed 1] [--cpu-prof DIR] [--turns-only] [--mix faq] [--compiled] [--json]
 *
 * 1. Starts the app (`src/main.ts`, a fresh in-memory embedded Azurite, LOG_LEVEL=info as in production) as a
 *    child process, with a local connector stand-in for what it posts (triage cards, notices).
 * 2. Load: --users simulated users for --seconds (after --warmup: the same load, not counted; a turn counts when it
 *    begins inside the window, and the warm-up's slowest turn is shown apart), each pausing a random think
 *    time (exponential, mean --think-ms) between activities: staff ask FAQ questions, vote, log issues, "+1"
 *    similar ones, list their issues; champions (every tenth user) triage on the cards posted to the channel.
 *    Replies come back in the HTTP response (deliveryMode expectReplies; card actions in the invoke response).
 *    → throughput, p50/p95/p99 per kind, errors, peak RSS. With --mix faq, users only ask questions (the
 *    bot's core path, without the issue log's channel posts), in this step and the next.
 * 3. Capacity, on a second fresh app: the same mix from --connections clients with no think time (each sends its next activity as soon as it has the reply) for
 *    --capacity-seconds → the most activities/s the app serves.
 * 4. A short sequential run, on a fresh quiet app, counting the app's storage requests per activity kind (a
 *    preloaded counter, scripts/bench/storage-counter.ts: by method and table), the time they took and the CPU
 *    time of the app and of embedded Azurite per kind. The outbound path's calls (queue, delivery rows,
 *    budgets, posts) run at their own pace after the turn: they are shown apart, per message sent. Last, all the
 *    counted turns' calls together, per turn by target (what a change to one path saves of the whole mix).
 *    `--turns-only` runs only this step (a minute or two; the figures depend little on the machine's load).
 * 5. A bare botbuilder echo bot (scripts/bench/echo-bot.ts) driven like step 3: the reference rate.
 * --compiled runs steps 2 and 3 on the compiled build (`dist/main.js`, made by `npm run build` first) with plain
 * node, as the Dockerfile runs it: without tsx's loader (a second V8 isolate that compiles TypeScript, ~100 MB
 * of RSS) and without the storage counter (step 4 keeps both, to count calls).
 * --app-node-options passes node options to the app (e.g. "--max-old-space-size=128", to see what a heap cap
 * does to RSS). --json prints the same figures as one JSON object. Targets (one instance): capacity ≥ 25% of the echo
 * bot's, FAQ p95 ≤ 100 ms under the load of step 2, no errors, RSS ≤ 300 MB.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { percentile } from '../../src/faq/engine/evaluation.js';
import { RecordingConnector } from '../../test/support/connector.js';
import { cpuProfileSummary } from './cpu-profile.js';
import { echoStep, faqStep, type Kind, nextStep, rememberTriageCard, type Shared, type SimUser, simUsers, type Step } from './users.js';
import { rngFor } from '../fuzz/generate.js';
import { setUpTriageChannel } from '../lib/setup.js';
import { LOCAL_ONLY, liveHeapTrend, mb, ROOT, rssMonitor, type ServerProcess, startServerProcess } from '../lib/app-process.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '60' },
    'think-ms': { type: 'string', default: '1000' },
    connections: { type: 'string', default: '20' },
    'capacity-seconds': { type: 'string', default: '20' },
    mix: { type: 'string', default: 'all' },
    'app-node-options': { type: 'string', default: '' },
    warmup: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    'cpu-prof': { type: 'string' },
    'turns-only': { type: 'boolean', default: false },
    compiled: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const USERS = Number(values.users);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const THINK_MS = Number(values['think-ms']);
const CONNECTIONS = Number(values.connections);
const CAPACITY_SECONDS = Number(values['capacity-seconds']);
const MIX = values.mix === 'faq' ? 'faq' : 'all';
const SEQUENTIAL_STEPS = 240;
/** After a turn: its storage calls are counted once the counter has not moved for this long (work after the reply). */
const QUIET_MS = 150;
const TRIAGE = '19:bench-triage@thread.tacv2';
const LEAD = { id: '29:bench-lead', aadObjectId: 'aad-bench-lead', name: 'Bench Lead' };
const triageSetup = (serviceUrl: string) => ({ serviceUrl, lead: LEAD, channelId: TRIAGE, teamId: '19:bench-team@thread.tacv2' });
const say = (line: string) => {
  if (!values.json) console.log(line);
};

interface KindStats {
  count: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
}
interface PhaseResult {
  seconds: number;
  /** Turns begun in the warm-up (not counted below) and the slowest of them. */
  warmup: { activities: number; slowestMs: number };
  activities: number;
  perSecond: number;
  errors: number;
  errorSamples: string[];
  kinds: Record<string, KindStats>;
  rss: { startMb: number; peakMb: number; endMb: number; storagePeakMb?: number };
  /** CPU time per activity, ms: the server process, and its children (embedded Azurite). */
  cpuMsPerActivity: { server: number; storage: number };
}

async function main(): Promise<void> {
  const connector = await new RecordingConnector().start();
  const users = simUsers(USERS);
  const shared: Shared = { serviceUrl: connector.url, triageCards: new Map(), rand: rngFor(Number(values.seed), 0) };
  const profileDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;

  const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
  say(
    `bench:load — ${USERS} users thinking ~${THINK_MS} ms for ${SECONDS} s (+${WARMUP} s warm-up); capacity and echo bot: ${CONNECTIONS} connections, ${CAPACITY_SECONDS} s; ${cpus().length} CPUs, load average ${load()}`,
  );
  if (values['turns-only']) {
    printTurnCosts(await turnCosts(users, shared, connector));
    await connector.stop();
    return;
  }
  const app = await startApp(users, { profileDir, compiled: values.compiled });
  await setUpTriageChannel(app.url, triageSetup(connector.url));
  let stopWatching = watchTriageChannel(connector, shared);
  const mixStep = MIX === 'faq' ? (u: SimUser) => faqStep(u, shared) : (u: SimUser) => nextStep(u, shared);
  const appResult = await drive(app, users, shared, mixStep, SECONDS, THINK_MS);
  say(phaseText(`app under load (${USERS} users${MIX === 'faq' ? ', questions only' : ''})`, appResult));
  stopWatching();
  const loadErrorsLogged = app.errors.length;
  const liveHeapMb = liveHeapMax(app);
  say(`\napp live heap after major GCs: max ${liveHeapMb ?? '?'} MB (RSS above it is V8's headroom and native memory)`);
  await app.stop();
  const profile = profileDir ? cpuProfileSummary(newestProfile(profileDir)) : undefined;
  if (profile) {
    say('\nwhere the app spent its CPU time (self time, load phase):');
    for (const p of profile.slice(0, 15)) say(`  ${p.share.toFixed(1).padStart(5)}%  ${p.where}`);
  }
  shared.triageCards.clear();
  const storage = await turnCosts(users, shared, connector);
  printTurnCosts(storage);
  const turnErrorsLogged = storage.errorsLogged;

  // Capacity on a fresh app: nothing left over from the load phase (queued channel posts, a grown store).
  shared.triageCards.clear();
  const fresh = await startApp(users, { compiled: values.compiled });
  await setUpTriageChannel(fresh.url, triageSetup(connector.url));
  stopWatching = watchTriageChannel(connector, shared);
  const capacity = await drive(fresh, users.slice(0, CONNECTIONS), shared, mixStep, CAPACITY_SECONDS, 0);
  stopWatching();
  const appErrorsLogged = loadErrorsLogged + turnErrorsLogged + fresh.errors.length;
  // What the app's error lines say, most frequent first (the message and its error's type and message).
  const errorKinds = [...[...app.errors, ...fresh.errors].reduce((m, l) => {
    const err = l.err as { type?: string; message?: string } | undefined;
    const what = `${l.msg ?? ''}${err ? ` — ${err.type ?? ''}: ${(err.message ?? '').slice(0, 100)}` : ''}`;
    return m.set(what, (m.get(what) ?? 0) + 1);
  }, new Map<string, number>())].sort((a, b) => b[1] - a[1]).slice(0, 8);
  await fresh.stop();
  say(phaseText(`app capacity (${MIX === 'faq' ? 'questions only' : 'same mix'}, ${CONNECTIONS} connections, no think time)`, capacity));

  const echo = await startServerProcess({ entry: 'scripts/bench/echo-bot.ts', env: { PORT: '0' }, ready: /Echo bot listening: (\S+)/ });
  const echoResult = await drive(echo, users.slice(0, CONNECTIONS), shared, (u) => echoStep(u, shared), CAPACITY_SECONDS, 0);
  await echo.stop();
  say(phaseText(`echo bot (reference, ${CONNECTIONS} connections)`, echoResult));
  await connector.stop();

  const ratio = capacity.perSecond / echoResult.perSecond;
  const faqP95 = appResult.kinds.faq?.p95 ?? Number.NaN;
  const targets = {
    ratioAtLeast25Percent: ratio >= 0.25,
    faqP95AtMost100Ms: faqP95 <= 100,
    noErrors: appResult.errors === 0 && capacity.errors === 0 && appErrorsLogged === 0,
    rssAtMost300Mb: Math.max(appResult.rss.peakMb, capacity.rss.peakMb) <= 300,
  };
  say(`\napp capacity / echo bot: ${(ratio * 100).toFixed(1)}% (${capacity.perSecond.toFixed(0)} vs ${echoResult.perSecond.toFixed(0)} activities/s)`);
  say(`errors logged by the app: ${appErrorsLogged}; load average at the end ${load()} (other work on this machine skews both runs)`);
  for (const [what, n] of errorKinds) say(`  ${String(n).padStart(5)} × ${what}`);
  say(`targets: ${Object.entries(targets).map(([k, ok]) => `${k} ${ok ? 'met' : 'MISSED'}`).join(', ')}`);
  if (values.json) {
    console.log(
      JSON.stringify({
        users: USERS,
        seconds: SECONDS,
        thinkMs: THINK_MS,
        connections: CONNECTIONS,
        app: { ...appResult, errorsLogged: appErrorsLogged, errorKinds, liveHeapMaxMb: liveHeapMb },
        mix: MIX,
        capacity,
        echo: echoResult,
        ratio,
        storagePerKind: storage.kinds,
        cpuProfile: profile?.slice(0, 15),
        targets,
        loadAverage: loadavg(),
        cpus: cpus().length,
      }),
    );
  }
}

/** N users, each a closed loop (send, read the reply, send the next), for warm-up + `seconds`. */
async function drive(
  server: ServerProcess,
  users: SimUser[],
  shared: Shared,
  step: (u: SimUser) => Step,
  seconds: number,
  thinkMs: number,
): Promise<PhaseResult> {
  const memory = rssMonitor(server);
  const times = new Map<Kind, number[]>();
  const errors = new Map<Kind, number>();
  const samples: string[] = [];
  const start = performance.now();
  const countFrom = start + WARMUP * 1000;
  const end = countFrom + seconds * 1000;
  let warm = false;
  let cpuAtStart = server.cpuSeconds();
  // The warm-up's turns (begun before the counted window) are the same load, not counted; their slowest is shown
  // apart: it is a fresh app's start-up, which would otherwise fall into the window's first seconds.
  const warmup = { activities: 0, slowestMs: 0 };
  const loop = async (u: SimUser) => {
    // Users do not all start at once.
    if (thinkMs) await sleep(shared.rand() * thinkMs);
    while (performance.now() < end) {
      const s = step(u);
      const t0 = performance.now();
      const counted = t0 >= countFrom;
      if (counted && !warm) {
        warm = true;
        memory.restart();
        cpuAtStart = server.cpuSeconds();
      }
      const outcome = await send(server.url, s.body);
      const ms = performance.now() - t0;
      if (!counted) {
        warmup.activities++;
        warmup.slowestMs = Math.max(warmup.slowestMs, ms);
        s.after?.(outcome.reply);
      } else {
        (times.get(s.kind) ?? times.set(s.kind, []).get(s.kind)!).push(ms);
        if (outcome.error) {
          errors.set(s.kind, (errors.get(s.kind) ?? 0) + 1);
          if (samples.length < 5) samples.push(`${s.kind}: ${outcome.error}`);
        } else s.after?.(outcome.reply);
      }
      if (thinkMs) await sleep(-Math.log(1 - shared.rand()) * thinkMs);
    }
  };
  await Promise.all(users.map(loop));
  const rss = memory.stop();
  const cpu = server.cpuSeconds();
  const kinds: Record<string, KindStats> = {};
  let activities = 0;
  for (const [kind, list] of times) {
    list.sort((a, b) => a - b);
    activities += list.length;
    kinds[kind] = {
      count: list.length,
      errors: errors.get(kind) ?? 0,
      p50: round(percentile(list, 0.5)),
      p95: round(percentile(list, 0.95)),
      p99: round(percentile(list, 0.99)),
    };
  }
  return {
    seconds,
    warmup: { activities: warmup.activities, slowestMs: round(warmup.slowestMs) },
    activities,
    perSecond: activities / seconds,
    errors: [...errors.values()].reduce((a, b) => a + b, 0),
    errorSamples: samples,
    kinds,
    rss: { startMb: mb(rss.start), peakMb: mb(rss.peak), endMb: mb(rss.last), storagePeakMb: mb(rss.childrenPeak) },
    cpuMsPerActivity: {
      server: round(((cpu.self - cpuAtStart.self) * 1000) / Math.max(1, activities)),
      storage: round(((cpu.children - cpuAtStart.children) * 1000) / Math.max(1, activities)),
    },
  };
}

/**
 * The app as it runs for real, on a fresh in-memory Azurite: from source with the storage counter preloaded,
 * or (`compiled`) the build as production runs it.
 */
function startApp(users: SimUser[], opts: { profileDir?: string; compiled?: boolean } = {}): Promise<ServerProcess> {
  const { profileDir, compiled = false } = opts;
  if (compiled && !existsSync(path.join(ROOT, 'dist/main.js'))) {
    throw new Error('--compiled: no dist/main.js; run `npm run build` first');
  }
  return startServerProcess({
    entry: compiled ? 'dist/main.js' : 'src/main.ts',
    compiled,
    args: ['--in-memory', '--no-playground'],
    env: {
      ...LOCAL_ONLY,
      NODE_ENV: 'development',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      PLAYGROUND: 'false',
      CHAMPION_IDS: users.filter((u) => u.champion).map((u) => u.aadObjectId).join(','),
      ROLLOUT_TEAM_IDS: LEAD.aadObjectId,
      // The SLA sweep would add its own storage calls to the per-activity counts.
      SCHEDULER_INTERVAL_SECONDS: '3600',
    },
    ready: /Bot endpoint:\s+(\S+)\/api\/messages/,
    nodeArgs: [
      '--trace-gc',
      ...(compiled ? [] : ['--import', './scripts/bench/storage-counter.ts']),
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      ...(values['app-node-options'] ?? '').split(/\s+/).filter(Boolean),
    ],
  });
}

/** The largest live heap after a major GC (MB): what the app really keeps, apart from V8's headroom. */
function liveHeapMax(app: ServerProcess): number | undefined {
  const trend = liveHeapTrend(app.liveHeapAfterGc);
  return trend ? Math.max(trend.firstHalfMax, trend.secondHalfMax) : undefined;
}

async function send(url: string, body: Record<string, unknown>): Promise<{ reply?: unknown; error?: string }> {
  try {
    const res = await fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (res.status !== 200) return { error: `HTTP ${res.status} ${text.slice(0, 200)}` };
    // The app's own failure answers (a turn that threw), not words that happen to be in an answer.
    if (/something went wrong on my side|did not go through because of a problem on my side/.test(text))
      return { error: `failure reply: ${text.slice(0, 200)}` };
    return { reply: text ? JSON.parse(text) : undefined };
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

interface StorageCounts {
  [method: string]: { count: number; ms: number };
}

/** The outbound path's storage (queue, delivery rows, budgets, posts, the recipient's conversation): it runs
 * in the background at its own pace, so it is counted apart from the turn that enqueued the message. */
const OUTBOUND_TARGET = /^\S+ [a-z0-9]*?(outbound|Outbound\w*|Posts)$|^GET [a-z0-9]*?Conversations$/;

interface TurnCost {
  n: number;
  /** The turn's own storage calls: everything but the outbound path's. */
  own: number;
  calls: number;
  writes: number;
  reads: number;
  storageMs: number;
  turnMs: number;
  /** CPU time per turn (ms, /proc's 10 ms ticks averaged over n): the app process, and embedded Azurite. */
  appCpuMs: number;
  azuriteCpuMs: number;
  /** Storage calls per turn by method and table or queue (the table prefix left off). */
  by: Record<string, number>;
}

/**
 * On a fresh, quiet app: runs activities one at a time and attributes the app's storage requests and CPU
 * time to each by kind, waiting after each reply until the storage counter stops moving (work the turn left
 * running, e.g. a notice). The outbox's idle queue poll (about one GET a second) may add a fraction of a call.
 */
async function turnCosts(users: SimUser[], shared: Shared, connector: RecordingConnector) {
  const app = await startApp(users);
  await setUpTriageChannel(app.url, triageSetup(connector.url));
  const stopWatching = watchTriageChannel(connector, shared);
  let targets: Record<string, number> = {};
  const read = async (): Promise<StorageCounts> => {
    const line = app.nextStderrLine(/^STORAGE_CALLS /);
    const byTarget = app.nextStderrLine(/^STORAGE_TARGETS /);
    process.kill(app.pid, 'SIGUSR2');
    targets = JSON.parse((await byTarget).slice('STORAGE_TARGETS '.length)) as Record<string, number>;
    return JSON.parse((await line).slice('STORAGE_CALLS '.length)) as StorageCounts;
  };
  const total = (c: StorageCounts, methods?: string[]) =>
    Object.entries(c)
      .filter(([m]) => !methods || methods.includes(m))
      .reduce((a, [, v]) => ({ count: a.count + v.count, ms: a.ms + v.ms }), { count: 0, ms: 0 });
  const quiet = async (): Promise<StorageCounts> => {
    let last = await read();
    for (let waited = 0; waited < 3_000; waited += QUIET_MS) {
      await sleep(QUIET_MS);
      const now = await read();
      if (total(now).count === total(last).count) return now;
      last = now;
    }
    return last;
  };
  const acc = new Map<Kind, Omit<TurnCost, 'n' | 'by'> & { n: number }>();
  let outboundCalls = 0;
  const sentBefore = connector.calls.length;
  const targetsOf = new Map<Kind, Record<string, number>>();
  const staff = users.find((u) => !u.champion)!;
  const champion = users.find((u) => u.champion)!;
  // What the app spends doing nothing (timers, the outbox's queue poll), taken off each turn's CPU time.
  await quiet();
  const idle0 = app.cpuSeconds();
  const idleStart = performance.now();
  await sleep(3_000);
  const idle1 = app.cpuSeconds();
  const idlePerMs = {
    self: (idle1.self - idle0.self) / (performance.now() - idleStart),
    children: (idle1.children - idle0.children) / (performance.now() - idleStart),
  };
  // The first activities of a fresh process load code and fill caches: not counted.
  let before = await quiet();
  let targetsBefore = targets;
  for (let i = 0; i < SEQUENTIAL_STEPS + 20; i++) {
    const user = i % 3 === 2 ? champion : staff;
    const s = MIX === 'faq' ? faqStep(user, shared) : nextStep(user, shared);
    const cpu0 = app.cpuSeconds();
    const t0 = performance.now();
    const outcome = await send(app.url, s.body);
    const turnMs = performance.now() - t0;
    const after = await quiet();
    const cpu1 = app.cpuSeconds();
    const elapsedMs = performance.now() - t0;
    if (!outcome.error) s.after?.(outcome.reply);
    const diff = (methods?: string[]) => {
      const x = total(after, methods);
      const y = total(before, methods);
      return { count: x.count - y.count, ms: x.ms - y.ms };
    };
    const counted = i >= 20;
    if (counted) {
      const all = diff();
      const e = acc.get(s.kind) ?? { n: 0, own: 0, calls: 0, writes: 0, reads: 0, storageMs: 0, turnMs: 0, appCpuMs: 0, azuriteCpuMs: 0 };
      e.n++;
      e.calls += all.count;
      e.writes += diff(['POST', 'PUT', 'PATCH', 'MERGE', 'DELETE']).count;
      e.reads += diff(['GET']).count;
      e.storageMs += all.ms;
      e.turnMs += turnMs;
      e.appCpuMs += (cpu1.self - cpu0.self - idlePerMs.self * elapsedMs) * 1000;
      e.azuriteCpuMs += (cpu1.children - cpu0.children - idlePerMs.children * elapsedMs) * 1000;
      acc.set(s.kind, e);
      const t = targetsOf.get(s.kind) ?? {};
      for (const [k, v] of Object.entries(targets)) {
        const d = v - (targetsBefore[k] ?? 0);
        if (!d) continue;
        if (OUTBOUND_TARGET.test(k)) outboundCalls += d;
        else e.own += d;
        const name = k.replace(/ [a-z0-9]*?(?=[A-Z$])/, ' ');
        t[name] = (t[name] ?? 0) + d;
      }
      targetsOf.set(s.kind, t);
    }
    before = after;
    targetsBefore = targets;
  }
  stopWatching();
  // Messages the connector stand-in received (sends and updates) in the counted run, for the outbound cost per message.
  const delivered = connector.calls.length - sentBefore;
  const errorsLogged = app.errors.length;
  await app.stop();
  const kinds: Record<string, TurnCost> = {};
  for (const [kind, e] of acc) {
    kinds[kind] = {
      n: e.n,
      own: e.own / e.n,
      calls: e.calls / e.n,
      writes: e.writes / e.n,
      reads: e.reads / e.n,
      storageMs: e.storageMs / e.n,
      turnMs: e.turnMs / e.n,
      appCpuMs: e.appCpuMs / e.n,
      azuriteCpuMs: e.azuriteCpuMs / e.n,
      by: Object.fromEntries(
        Object.entries(targetsOf.get(kind) ?? {})
          .map(([k, v]) => [k, Math.round((v / e.n) * 10) / 10] as const)
          .filter(([, v]) => v >= 0.1)
          .sort((x, y) => y[1] - x[1]),
      ),
    };
  }
  // Every counted turn together (the mix as run), by target: what a change to one path saves of the whole.
  const all: Record<string, number> = {};
  for (const t of targetsOf.values()) for (const [k, v] of Object.entries(t)) all[k] = (all[k] ?? 0) + v;
  const turns = [...acc.values()].reduce((n, e) => n + e.n, 0);
  return {
    kinds,
    all: { turns, by: all },
    errorsLogged,
    outbound: { calls: outboundCalls, delivered },
    idleCpuMsPerSecond: { app: idlePerMs.self * 1e6, azurite: idlePerMs.children * 1e6 },
  };
}

function printTurnCosts(costs: {
  kinds: Record<string, TurnCost>;
  all: { turns: number; by: Record<string, number> };
  outbound: { calls: number; delivered: number };
  idleCpuMsPerSecond: { app: number; azurite: number };
}): void {
  say(
    `\nper activity, sequential on a fresh quiet app (storage calls and CPU include work left running after the reply; idle CPU, ${costs.idleCpuMsPerSecond.app.toFixed(1)} + ${costs.idleCpuMsPerSecond.azurite.toFixed(1)} ms/s, taken off):`,
  );
  for (const [kind, s] of Object.entries(costs.kinds)) {
    say(
      `  ${kind.padEnd(16)} n=${String(s.n).padStart(3)}  ${s.own.toFixed(1)} own calls; with the outbound path's: ${s.calls.toFixed(1)} calls (${s.writes.toFixed(1)} writes, ${s.reads.toFixed(1)} reads), ${s.storageMs.toFixed(1)} ms in storage, ${s.turnMs.toFixed(1)} ms per turn; CPU ${s.appCpuMs.toFixed(1)} ms app + ${s.azuriteCpuMs.toFixed(1)} ms Azurite`,
    );
    say(`  ${''.padEnd(16)} ${Object.entries(s.by).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  const { calls, delivered } = costs.outbound;
  say(`  the outbound path: ${calls} storage calls for ${delivered} messages sent or updated (${(calls / Math.max(1, delivered)).toFixed(1)} per message)`);
  const { turns, by } = costs.all;
  const total = Object.values(by).reduce((a, b) => a + b, 0);
  say(
    `  all ${turns} turns: ${(total / Math.max(1, turns)).toFixed(2)} storage calls per turn (the outbound path's: ${((100 * calls) / Math.max(1, total)).toFixed(0)}%); per turn: ${Object.entries(by)
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k} ${(v / Math.max(1, turns)).toFixed(2)}`)
      .join(', ')}`,
  );
}

/** Champions see what the app posts to (and updates in) the triage channel. */
function watchTriageChannel(connector: RecordingConnector, shared: Shared): () => void {
  let seen = 0;
  const timer = setInterval(() => {
    const calls = connector.calls;
    for (; seen < calls.length; seen++) {
      const call = calls[seen]!;
      if (call.conversationId?.startsWith(TRIAGE)) rememberTriageCard(shared, call.body);
    }
    // The stand-in keeps every call; the cards are all the bench needs.
    if (calls.length > 5_000) {
      calls.splice(0, calls.length);
      seen = 0;
    }
  }, 200);
  return () => clearInterval(timer);
}

/** The main thread's profile of the last run (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile, thread 0). */
function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))
    .sort();
  if (!files.length) throw new Error(`no main-thread .cpuprofile in ${dir}`);
  return readFileSync(path.join(dir, files[files.length - 1]!), 'utf8');
}

function phaseText(name: string, r: PhaseResult): string {
  const lines = [
    `\n${name}: ${r.activities} activities in ${r.seconds} s = ${r.perSecond.toFixed(1)}/s, errors ${r.errors}; RSS start ${r.rss.startMb} MB, peak ${r.rss.peakMb} MB, end ${r.rss.endMb} MB${r.rss.storagePeakMb ? ` (embedded Azurite peak ${r.rss.storagePeakMb} MB)` : ''}`,
    `  CPU per activity: ${r.cpuMsPerActivity.server} ms in the server${r.cpuMsPerActivity.storage ? `, ${r.cpuMsPerActivity.storage} ms in embedded Azurite` : ''}`,
    `  warm-up (not counted): ${r.warmup.activities} activities begun, the slowest ${r.warmup.slowestMs} ms`,
    `  ${'kind'.padEnd(16)} ${'count'.padStart(7)} ${'errors'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`,
    ...Object.entries(r.kinds).map(
      ([k, s]) =>
        `  ${k.padEnd(16)} ${String(s.count).padStart(7)} ${String(s.errors).padStart(7)} ${String(s.p50).padStart(8)} ${String(s.p95).padStart(8)} ${String(s.p99).padStart(8)}`,
    ),
    ...r.errorSamples.map((e) => `  error: ${e}`),
  ];
  return lines.join('\n');
}

const round = (n: number) => Math.round(n * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
