/**
 * One app instance's communication plan and outbound worker in a process of its own, for the crash test,
 * which kills it (SIGKILL) mid-send and starts another. Settings come from the environment:
 *   BC_STORAGE  connection string     BC_PREFIX  table/queue prefix     BC_ID  this instance's name
 *   BC_START    "1": confirm `send launch` (to everyone with a 1:1 chat) as it starts
 *   BC_LOG      log level (default warn; the crash test shows the last lines when the send does not finish)
 *   BC_WAIT     "1": load, then start only on a line on standard input (the crash test starts the second
 *               instance's process ahead, so its load time does not fall between the kill and its take-over)
 * It prints `{"ready":true}` (and `{"sendId":…}` when it started one), then runs the plan's job every second.
 */
import { systemClock } from '../../src/clock.js';
import { openBroadcast } from '../../src/broadcast/index.js';
import { parsePlan } from '../../src/broadcast/plan.js';
import { createLogger } from '../../src/log.js';
import { EMPTY_ROLLOUT } from '../../src/rollout/model.js';
import { startStandaloneOutbound } from '../../src/teams/outbound.js';
import { TEST_WORKER } from '../outbound/support.js';

const env = process.env;
const log = createLogger(env.BC_LOG || 'warn');
if (env.BC_WAIT === '1') await new Promise((resolve) => process.stdin.once('data', resolve));
const outbound = await startStandaloneOutbound({
  storage: env.BC_STORAGE ?? '',
  prefix: env.BC_PREFIX ?? '',
  tenantSendsPerSecond: 25,
  log,
  // Claims hold 3 × 1 s of re-planning (not 3 × 3 s) + the request's 3 s + 1 s: the attempts the kill cut off
  // are settled 6 s sooner, by the same rules.
  worker: { id: env.BC_ID ?? `bc${process.pid}`, ...TEST_WORKER, maxHoldMs: 1_000 },
});
const { tables, conversations } = outbound;
const plan = parsePlan(
  `messages:
  - id: launch
    stage: launch
    title: FieldLedger goes live on Monday
    body: Sign in once before Monday.
    audience: everyone
    when: manual
`,
  EMPTY_ROLLOUT,
);
const b = await openBroadcast({
  tables,
  outbox: outbound.outbox,
  clock: systemClock,
  plan: () => plan,
  rollout: () => EMPTY_ROLLOUT,
  directory: {
    personalChatUsers: () => conversations.personalChatUsers(),
    teamMembers: async () => [],
    championIds: async () => [],
    rolloutTeamIds: [],
    members: async () => [],
  },
  chatOf: async (userKey) => {
    const chat = await conversations.personalChat(userKey);
    return chat ? { teamsUserId: chat.user?.id ?? userKey } : undefined;
  },
  nameOf: async () => undefined,
  knownPeople: async () => [],
  channelReady: async (role) => role !== 'support',
  facts: { resolvedCount: async () => 0, openP1: async () => 0, anyIssues: async () => false, resolvedBy: async () => new Map() },
  // A message handed over whose answer has not come in 4 s is handed over again (under the same key).
  settings: { batch: 20, staleMs: 4_000, progressEveryMs: 1_000, graceMs: 0 },
  log,
});
if (env.BC_START === '1') {
  const res = await b.service.send({ person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' }, 'launch', 'crash-test', '');
  if (res.kind === 'started') process.stdout.write(`${JSON.stringify({ sendId: res.send.id })}\n`);
}
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
// As the app's scheduler runs it: one pass at a time (a slow pass is not joined by the next), errors left to the next.
let pass: Promise<void> | undefined;
setInterval(() => {
  pass ??= b.service
    .tick()
    .catch(() => {})
    .finally(() => (pass = undefined));
}, 1_000);
