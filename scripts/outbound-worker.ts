/**
 * One app instance's outbound worker and nothing else, for the broadcast bench and the crash test, which
 * kill it (SIGKILL) mid-send and start it again. Settings come from the environment:
 *   OUTBOUND_STORAGE   connection string (tables and queues)       OUTBOUND_PREFIX  table/queue prefix
 *   OUTBOUND_TENANT    per-tenant sends per second                OUTBOUND_ID      this instance's name
 *   OUTBOUND_WORKER    JSON of worker options (optional)
 * It prints one JSON line `{"ready":true}` when it takes messages, then its stats once a second; SIGTERM
 * stops it cleanly (in-flight sends finish, waiting ones go back to the queue).
 */
import { PostStore } from '../src/conversations/posts.js';
import { ConversationStore } from '../src/conversations/store.js';
import { systemClock } from '../src/clock.js';
import { createLogger } from '../src/log.js';
import { Tables } from '../src/storage/tables.js';
import { createAdapter } from '../src/teams/adapter.js';
import { startOutbound } from '../src/teams/outbound.js';

const env = process.env;
const storage = env.OUTBOUND_STORAGE ?? '';
const prefix = env.OUTBOUND_PREFIX ?? '';
const log = createLogger('warn');
const tables = new Tables(storage, prefix);
const outbound = await startOutbound({
  tables,
  queueAccount: storage,
  prefix,
  adapter: createAdapter({ kind: 'local' }, log),
  botAppId: '',
  conversations: await ConversationStore.open(tables, systemClock),
  posts: await PostStore.open(tables),
  tenantSendsPerSecond: Number(env.OUTBOUND_TENANT ?? 50),
  log,
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
