/**
 * One app instance's outbound worker and nothing else, for the broadcast bench and the crash test, which
 * kill it (SIGKILL) mid-send and start it again. Settings come from the environment:
 *   OUTBOUND_STORAGE   connection string (tables and queues)       OUTBOUND_PREFIX  table/queue prefix
 *   OUTBOUND_TENANT    per-tenant sends per second                OUTBOUND_ID      this instance's name
 *   OUTBOUND_WORKER    JSON of worker options (optional)
 *   OUTBOUND_WAIT      "1": load, then start only on a line on standard input (a test starts the next instance's
 *                      process ahead, so its load time does not fall between a kill and the take-over)
 * It prints one JSON line `{"ready":true}` when it takes messages, then its stats once a second; SIGTERM
 * stops it cleanly (in-flight sends finish, waiting ones go back to the queue).
 */
import { createLogger } from '../src/log.js';
import { startStandaloneOutbound } from '../src/teams/outbound.js';

const env = process.env;
if (env.OUTBOUND_WAIT === '1') await new Promise((resolve) => process.stdin.once('data', resolve));
const outbound = await startStandaloneOutbound({
  storage: env.OUTBOUND_STORAGE ?? '',
  prefix: env.OUTBOUND_PREFIX ?? '',
  tenantSendsPerSecond: Number(env.OUTBOUND_TENANT ?? 50),
  log: createLogger('warn'),
  worker: { id: env.OUTBOUND_ID ?? `w${process.pid}`, ...(env.OUTBOUND_WORKER ? JSON.parse(env.OUTBOUND_WORKER) : {}) },
});
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
const report = setInterval(() => process.stdout.write(`${JSON.stringify({ stats: outbound.worker.stats.snapshot() })}\n`), 1_000);
process.on('SIGTERM', () => {
  clearInterval(report);
  void outbound.stop(10_000).then(() => {
    process.stdout.write(`${JSON.stringify({ stats: outbound.worker.stats.snapshot(), stopped: true })}\n`);
    process.exit(0);
  });
});
