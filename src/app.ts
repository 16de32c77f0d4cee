import type { AddressInfo } from 'node:net';
import type { Server } from 'restify';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { PostStore } from './conversations/posts.js';
import { ConversationStore } from './conversations/store.js';
import { ExportStore } from './exports/store.js';
import { ModelAnswerer } from './faq/ai/answerer.js';
import { createModelClient } from './faq/ai/client.js';
import { GuidanceLibrary } from './faq/docs/library.js';
import { buildIndex } from './faq/engine/index.js';
import { QuestionStore } from './faq/questions.js';
import { FaqService } from './faq/service.js';
import { createHttpServer } from './http/server.js';
import { IssueStore, SlaCheck, SlaMarks } from './issues/index.js';
import { createLogger, type Logger } from './log.js';
import { Roles } from './roles/roles.js';
import { LeaseStore } from './scheduler/lease.js';
import { Scheduler } from './scheduler/runner.js';
import { openStorageAccount } from './storage/account.js';
import { DedupeStore } from './storage/dedupe.js';
import { type TableAccount, Tables } from './storage/tables.js';
import { activityRunner, createAdapter } from './teams/adapter.js';
import { RolloutDeskBot } from './teams/bot.js';
import { notifyNewlyAnswered, registerFaq } from './teams/faq.js';
import { registerIssues, scheduleIssueJobs } from './teams/issues.js';
import { TeamsRosterReader } from './teams/roster.js';
import { ProactiveSender } from './teams/sender.js';

export interface AppOptions {
  log?: Logger;
  clock?: Clock;
}

export interface App {
  config: Config;
  log: Logger;
  url: string;
  tables: Tables;
  /** Where storage is, for tools and tests (a connection string, or an endpoint with a credential). */
  account: TableAccount;
  bot: RolloutDeskBot;
  sender: ProactiveSender;
  faq: FaqService;
  issues: IssueStore;
  scheduler: Scheduler;
  library: GuidanceLibrary<ReturnType<typeof buildIndex>>;
  stop(): Promise<void>;
}

/** The composition root: config → storage → features → transport. */
export async function startApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const log = opts.log ?? createLogger(config.env.LOG_LEVEL);
  const clock = opts.clock ?? systemClock;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const storage = await openStorageAccount(config.storage, log);
    cleanups.push(() => storage.close());
    const account = storage.account;
    const tables = new Tables(account, config.env.TABLE_PREFIX);
    const conversations = await ConversationStore.open(tables, clock);
    const dedupe = await DedupeStore.open(tables, clock);

    const adapter = createAdapter(config.auth, log);
    const botAppId = config.auth.kind === 'local' ? '' : config.auth.appId;
    const roles = new Roles(
      {
        championIds: config.env.CHAMPION_IDS,
        rolloutTeamIds: config.env.ROLLOUT_TEAM_IDS,
        championsTeamId: config.env.CHAMPIONS_TEAM_ID,
        cacheMs: config.env.ROLE_CACHE_SECONDS * 1000,
      },
      new TeamsRosterReader(adapter, botAppId, conversations),
      () => clock.now().getTime(),
      (err) => log.warn({ err }, 'could not read the champions team roster; using the last known list'),
    );
    const sender = new ProactiveSender(
      adapter,
      botAppId,
      conversations,
      log,
      config.env.TENANT_SENDS_PER_SECOND,
    );
    const bot = new RolloutDeskBot({
      log,
      roles,
      conversations,
      dedupe,
      systemName: config.env.SYSTEM_NAME,
      localMode: config.auth.kind === 'local',
    });

    const library = await GuidanceLibrary.open(config.guidanceDir, {
      buildIndex: (sections) => buildIndex(sections),
      onWarning: (message) => log.warn({ guidanceDir: config.guidanceDir }, message),
    });
    cleanups.push(async () => library.close());
    log.info(
      {
        guidanceDir: config.guidanceDir,
        docs: library.current.docs.length,
        sections: library.current.sections.length,
      },
      'guidance loaded',
    );
    const model = config.model
      ? new ModelAnswerer(createModelClient(config.model), config.model, log)
      : undefined;
    if (config.model)
      log.info({ provider: config.model.provider }, 'FAQ answers are written by a model over the guidance');
    const faq = new FaqService(library, await QuestionStore.open(tables, clock), {
      baseUrl: config.env.GUIDANCE_BASE_URL,
      model,
      warn: (details, msg) => log.warn(details, msg),
    });
    const faqWiring = { faq, sender, log };
    registerFaq(bot, faqWiring);
    library.on('reloaded', (event) => {
      log.info({ changed: event.changed }, 'guidance reloaded');
      notifyNewlyAnswered(faqWiring).catch((err: unknown) =>
        log.error({ err }, 'could not check newly answered questions'),
      );
    });

    const sla = {
      untriagedReminderMinutes: config.env.SLA_UNTRIAGED_MINUTES,
      escalationMinutes: config.env.SLA_BLOCKING_MINUTES,
    };
    const issues = await IssueStore.open(tables, {
      config: { refPrefix: config.env.ISSUE_REF_PREFIX, categories: config.env.ISSUE_CATEGORIES, sla },
      clock,
      onIndexError: (err, ref) =>
        log.warn({ err, ref }, 'issue index rows not written; the repair job will fix them'),
    });
    const exports = await ExportStore.open(tables, clock);
    const issueWiring = {
      issues,
      faq,
      roles,
      conversations,
      posts: await PostStore.open(tables),
      exports,
      sender,
      log,
      clock,
      categories: config.env.ISSUE_CATEGORIES,
      rolloutTeamIds: config.env.ROLLOUT_TEAM_IDS,
      publicBaseUrl: '', // set once the server listens (below)
    };
    registerIssues(bot, issueWiring);
    const scheduler = new Scheduler(await LeaseStore.open(tables), clock, log);
    scheduleIssueJobs(
      scheduler,
      new SlaCheck(issues, await SlaMarks.open(tables), sla, clock),
      issueWiring,
      config.env.SCHEDULER_INTERVAL_SECONDS * 1000,
    );
    scheduler.add({
      name: 'dedupe.purge',
      everyMs: 3600_000,
      run: async () => {
        const deleted = await dedupe.purgeExpired();
        if (deleted) log.info({ deleted }, 'expired dedupe rows deleted');
      },
    });
    scheduler.start(config.env.SCHEDULER_INTERVAL_SECONDS * 1000);
    cleanups.push(() => scheduler.stop());

    const server: Server = createHttpServer({
      log,
      processActivity: activityRunner(adapter, (ctx) => bot.run(ctx), log),
      ready: () => tables.ping(),
      download: (token) => exports.read(token),
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.env.PORT, config.env.HOST, () => resolve());
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive sockets would hold close() open; in-flight requests have had their chance.
          setTimeout(resolve, 2_000).unref();
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const url = `http://localhost:${port}`;
    // Download links must reach this server: the configured public URL, else where it listens locally.
    issueWiring.publicBaseUrl = config.env.PUBLIC_BASE_URL ?? url;
    if (config.auth.kind === 'local') {
      log.warn(
        'LOCAL MODE: no MicrosoftAppId is set, so requests are NOT authenticated. Use only with the Agents Playground.',
      );
    } else {
      log.info(
        { appType: config.auth.kind },
        'authenticated mode: requests need a valid Bot Framework token',
      );
    }
    return {
      config,
      log,
      url,
      tables,
      account,
      bot,
      sender,
      faq,
      library,
      issues,
      scheduler,
      async stop() {
        // Stop taking work first (server), then finish sends in flight, then storage.
        const serverClose = cleanups.pop();
        await serverClose?.();
        await sender.drain();
        for (const c of cleanups.reverse()) await c();
      },
    };
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    throw err;
  }
}
