import type { Clock } from '../clock.js';
import type { Rollout } from '../rollout/model.js';
import type { Person } from '../roles/roles.js';
import type { Scheduler } from '../scheduler/runner.js';
import type { Tables } from '../storage/tables.js';
import type { Outbox } from '../outbound/message.js';
import type { AudienceDirectory } from './audience.js';
import { CelebrationService, CelebrationStore } from './celebrations.js';
import { AckStore, DeliveryRows } from './deliveries.js';
import type { BroadcastChannel, Plan } from './model.js';
import { BroadcastPersonalData } from './privacy.js';
import { BroadcastRunner, type ChatInfo, type RunnerSettings, TOPIC_PREFIX } from './runner.js';
import { SendStore } from './sends.js';
import { BroadcastService } from './service.js';
import { type IssueFacts, WinCheck, WinStore } from './wins.js';

export * from './cards.js';
export type { Caller, PlanAt } from './service.js';
export { BroadcastService } from './service.js';
export { CelebrationService } from './celebrations.js';
export { BROADCAST_COMMANDS, BROADCAST_VERBS } from './verbs.js';
export { openPlanFile, type PlanFile } from './plan-file.js';
export { SendStore } from './sends.js';
export { IssueLogFacts } from './issue-facts.js';
export { parseWorkingHours } from './working-hours.js';

export interface BroadcastSetup {
  tables: Tables;
  outbox: Outbox;
  clock: Clock;
  plan(): Plan;
  rollout(): Rollout;
  /** The audience lookups the store cannot answer itself (personal chats, rosters, role lists). */
  directory: Omit<AudienceDirectory, 'reachedUsers' | 'acknowledged' | 'rollout'>;
  chatOf(userKey: string): Promise<ChatInfo | undefined>;
  nameOf(id: string): Promise<string | undefined>;
  knownPeople(): Promise<{ id: string; name: string }[]>;
  /**
   * The person among the members of the team a broadcast channel is in (Teams' roster, read by id), if they are
   * one; throws when Teams did not answer. Celebrations vouch for colleagues with the support channel's.
   */
  channelMember?(role: BroadcastChannel, id: string): Promise<Person | undefined>;
  /** The conversation id of the channel set up for the role (a channel post's "Got it" is checked against it). */
  channelConversation?(role: BroadcastChannel): Promise<string | undefined>;
  /** Whether `setup <role>` was done: messages and celebrations for a channel are posted there. */
  channelReady(role: BroadcastChannel): Promise<boolean>;
  /** Tells the rollout team something once per key (a plan message due for a channel not set up). */
  tellRolloutTeam?(key: string, text: string): Promise<void>;
  facts: IssueFacts;
  settings: RunnerSettings & { graceMs: number; audienceCheckMs?: number };
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  sends?: SendStore;
}

export interface Broadcast {
  service: BroadcastService;
  celebrations: CelebrationService;
  runner: BroadcastRunner;
  wins: WinCheck;
  sends: SendStore;
  deliveries: DeliveryRows;
  /** What the plan's sends, acknowledgements and celebrations hold about a person (src/privacy). */
  personalData: BroadcastPersonalData;
  /** "Got it" per send (the adoption dashboard's acknowledged share reads it). */
  acks: AckStore;
  /** Who an audience is (a pulse to a user group uses the same rules). */
  directory: AudienceDirectory;
}

/** Builds the communication plan's stores, runner, services and win rules over one set of tables. */
export async function openBroadcast(s: BroadcastSetup): Promise<Broadcast> {
  const sends = s.sends ?? (await SendStore.open(s.tables));
  const deliveries = await DeliveryRows.open(s.tables);
  const acks = await AckStore.open(s.tables);
  const directory: AudienceDirectory = {
    ...s.directory,
    rollout: s.rollout,
    reachedUsers: (id) => deliveries.reachedUsers(id),
    acknowledged: (id) => acks.who(id),
  };
  const runner = new BroadcastRunner({
    sends,
    deliveries,
    acks,
    outbox: s.outbox,
    directory,
    chatOf: s.chatOf,
    rollout: s.rollout,
    clock: s.clock,
    settings: s.settings,
    log: s.log,
    tellRolloutTeam: s.tellRolloutTeam,
  });
  // How each recipient's message ended comes back onto its delivery row (and the sender's progress card).
  s.outbox.onResult(TOPIC_PREFIX, (message, result) => runner.onResult(message, result));
  const service = new BroadcastService({
    sends,
    deliveries,
    acks,
    runner,
    plan: s.plan,
    rollout: s.rollout,
    directory,
    chatOf: s.chatOf,
    channelReady: s.channelReady,
    channelConversation: s.channelConversation,
    tellRolloutTeam: s.tellRolloutTeam,
    clock: s.clock,
    graceMs: s.settings.graceMs,
    audienceCheckMs: s.settings.audienceCheckMs,
  });
  const celebrationStore = await CelebrationStore.open(s.tables);
  const celebrations = new CelebrationService({
    store: celebrationStore,
    outbox: s.outbox,
    clock: s.clock,
    nameOf: s.nameOf,
    knownPeople: s.knownPeople,
    supportTeamMember: s.channelMember && ((id) => s.channelMember!('support', id)),
    supportChannelReady: () => s.channelReady('support'),
  });
  const winStore = await WinStore.open(s.tables);
  const wins = new WinCheck({
    wins: winStore,
    facts: s.facts,
    celebrations,
    plan: s.plan,
    rollout: s.rollout,
    championIds: s.directory.championIds,
    sends: () => sends.all(),
    deliveries,
    acks,
    clock: s.clock,
    supportChannelReady: () => s.channelReady('support'),
  });
  const personalData = new BroadcastPersonalData({ sends, deliveries, acks, celebrations: celebrationStore, wins: winStore });
  return { service, celebrations, runner, wins, sends, deliveries, personalData, acks, directory };
}

/** The plan's job (due messages, running sends) and the wins' job, on whichever instance holds each lease. */
export function scheduleBroadcastJobs(scheduler: Scheduler, b: Broadcast, everyMs: number): void {
  scheduler.add({ name: 'broadcast.plan', everyMs, run: () => b.service.tick() });
  scheduler.add({ name: 'broadcast.wins', everyMs: Math.max(everyMs, 10 * 60_000), run: async () => void (await b.wins.run()) });
}

