/**
 * npm run fuzz -- [--count 10000] [--seed N] [--only I] [--concurrency 2] [--url http://127.0.0.1:3978]
 *
 * Starts the app (`src/main.ts`, embedded in-memory Azurite, no Playground) as a child process with a local
 * connector stand-in for replies, then sends generated activities (scripts/fuzz/generate.ts): well-formed
 * ones of every kind and broken ones (missing fields, wrong types, huge and deep JSON, unicode edge cases,
 * compressed bodies and bombs, invalid card values, unknown invokes).
 * Pass: no 5xx, no well-formed activity refused, no hang, no crash, no unhandled rejection, memory flat.
 * Each failure prints its seed and index: `--seed N --only I` replays that one case.
 * With --url, an already running app is fuzzed instead (no crash, log or memory checks then).
 */
import { parseArgs } from 'node:util';
import { RecordingConnector } from '../test/support/connector.js';
import type { FuzzUsers } from './fuzz/generate.js';
import { runFuzz } from './fuzz/run.js';
import { setUpTriageChannel } from './lib/setup.js';
import {
  LOCAL_ONLY,
  type LogLine,
  mb,
  rssMonitor,
  type ServerProcess,
  startServerProcess,
} from './lib/app-process.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    seed: { type: 'string' },
    only: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    url: { type: 'string' },
  },
});
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 1_000_000);
const count = Number(values.count);
const only = values.only !== undefined ? Number(values.only) : undefined;
/**
 * Memory is flat when the heap after a full GC (forced at checkpoints, scripts/fuzz/heap-probe.ts) at the end
 * of the run is within this much of its value after the first tenth (warm-up: caches and indexes filled).
 * RSS alone says little: V8 lets the heap grow between collections (hundreds of MB under fuzzing).
 */
const FLAT_MARGIN_MB = 10;

const users: FuzzUsers = {
  staff: { id: '29:staff', aadObjectId: 'aad-staff', name: 'Sam Staff' },
  champion: { id: '29:champ', aadObjectId: 'aad-champ', name: 'Chris Champion' },
  lead: { id: '29:lead', aadObjectId: 'aad-lead', name: 'Lee Lead' },
};

async function main(): Promise<number> {
  const connector = await new RecordingConnector().start();
  let app: ServerProcess | undefined;
  let url = values.url;
  if (!url) {
    app = await startServerProcess({
      entry: 'src/main.ts',
      args: ['--in-memory', '--no-playground'],
      env: {
        NODE_ENV: 'development',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        PLAYGROUND: 'false',
        CHAMPION_IDS: users.champion.aadObjectId,
        ROLLOUT_TEAM_IDS: users.lead.aadObjectId,
        ...LOCAL_ONLY,
      },
      ready: /Bot endpoint:\s+(\S+)\/api\/messages/,
      nodeArgs: ['--expose-gc', '--import', './scripts/fuzz/heap-probe.ts'],
    });
    url = app.url;
  }
  await setUpTriageChannel(url, {
    serviceUrl: connector.url,
    lead: users.lead,
    channelId: '19:fuzz1@thread.tacv2',
    teamId: '19:team@thread.tacv2',
  });
  const memory = app ? rssMonitor(app) : undefined;
  memory?.restart();
  const heapAfterGc = async (): Promise<number | undefined> => {
    if (!app || app.exit) return undefined;
    const line = app.nextStderrLine(/^HEAP_AFTER_GC /);
    process.kill(app.pid, 'SIGUSR2');
    return Number((await line).split(' ')[1]) / 1024 / 1024;
  };
  const checkpoints: { cases: number; heapMb: number }[] = [];
  const checkpointEvery = Math.max(100, Math.floor(count / 10));
  console.log(`fuzz: seed ${seed}, ${only !== undefined ? `case ${only}` : `${count} cases`}, against ${url}`);
  const started = Date.now();
  let done = 0;
  const report = await runFuzz({
    url,
    seed,
    count,
    only,
    concurrency: Number(values.concurrency),
    ctx: { serviceUrl: connector.url, users },
    alive: () => !app?.exit,
    onCase: async () => {
      if (++done % checkpointEvery !== 0) return;
      const at = done;
      const heap = await heapAfterGc().catch(() => undefined);
      if (heap !== undefined) checkpoints.push({ cases: at, heapMb: Math.round(heap * 10) / 10 });
      const now = app?.rss();
      console.log(`  … ${at} cases${now ? `, app RSS ${mb(now.self)} MB` : ''}${heap !== undefined ? `, heap after GC ${heap.toFixed(1)} MB` : ''}`);
    },
  });
  const seconds = (Date.now() - started) / 1000;
  const rss = memory?.stop();
  // A crash is an exit during the run; what happens on SIGTERM afterwards is the app's shutdown.
  const crashed = app?.exit;
  const stopping = Date.now();
  await app?.stop();
  const shutdownSeconds = (Date.now() - stopping) / 1000;
  await connector.stop();

  console.log(`\nsent ${report.sent} requests in ${seconds.toFixed(1)} s; answers: ${JSON.stringify(report.byStatus)}`);
  for (const f of report.failures) {
    console.log(
      `FAIL seed=${f.seed} index=${f.index} kind=${f.kind} status=${f.status ?? '-'}: ${f.problem}\n     reproduce: npm run fuzz -- --seed ${f.seed} --only ${f.index}`,
    );
  }
  let failed = report.failures.length > 0;
  if (app) {
    const rejections = app.errors.filter((l) => l.msg?.startsWith('unhandled promise rejection'));
    const turnErrors = app.errors.filter((l) => !rejections.includes(l));
    if (crashed) {
      failed = true;
      console.log(`CRASH: the app ended (code ${crashed.code}, signal ${crashed.signal}):\n${app.stderrTail.join('\n')}`);
    }
    console.log(`shutdown after the run: ${shutdownSeconds.toFixed(1)} s (exit ${app.exit?.code ?? app.exit?.signal})`);
    console.log(`unhandled rejections: ${rejections.length}`);
    if (rejections.length) failed = true;
    for (const l of rejections.slice(0, 10)) console.log(`  ${describe(l)}`);
    console.log(`errors logged inside turns: ${turnErrors.length}`);
    for (const l of turnErrors.slice(0, 20)) console.log(`  ${describe(l)}`);
    if (rss) {
      console.log(
        `app RSS: start ${mb(rss.start)} MB, end ${mb(rss.last)} MB, peak ${mb(rss.peak)} MB (embedded Azurite peak ${mb(rss.childrenPeak)} MB)`,
      );
    }
    if (checkpoints.length >= 2) {
      const warm = checkpoints[0]!;
      const last = checkpoints[checkpoints.length - 1]!;
      const growth = last.heapMb - warm.heapMb;
      const flat = growth <= FLAT_MARGIN_MB;
      console.log(
        `app heap after a full GC: ${warm.heapMb} MB after ${warm.cases} cases, ${last.heapMb} MB after ${last.cases} (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB) — ${flat ? 'flat' : 'GREW'}`,
      );
      console.log(`  checkpoints: ${checkpoints.map((c) => `${c.cases}:${c.heapMb}`).join(' ')}`);
      if (!flat) failed = true;
    } else {
      console.log('app heap: too few checkpoints to judge (run more cases)');
    }
  }
  console.log(failed ? '\nfuzz: FAILED' : '\nfuzz: passed');
  return failed ? 1 : 0;
}

/** The case a log line belongs to, from the activity id the generator gave it. */
function describe(l: LogLine): string {
  const m = /^fuzz-(\d+)-(\d+)$/.exec(String(l.activityId ?? ''));
  const where = m ? `seed=${m[1]} index=${m[2]}` : 'no case';
  const err = l.err as { type?: string; message?: string; stack?: string } | undefined;
  // The app's own frames say where it failed (the first few, without node_modules).
  const at = (err?.stack ?? '')
    .split('\n')
    .filter((f) => /^\s+at /.test(f) && !f.includes('node_modules'))
    .slice(0, 3)
    .map((f) => `\n      ${f.trim()}`)
    .join('');
  return `${where}: ${l.msg ?? ''}${err ? ` — ${err.type ?? ''}: ${err.message ?? ''}${at}` : ''}`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
