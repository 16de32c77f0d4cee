import type { AddressInfo } from 'node:net';
import type { Server } from 'restify';
import {
  AdoptionRollup,
  AdoptionService,
  AggregateStore,
  DigestJob,
  defaultAudienceResolver,
  EventStore,
  FigureStore,
  IssueEventRecorder,
  MeasuresFile,
  PulseService,
  PulseStore,
  pulseCard,
  StateStore,
} from './adoption/index.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { PostStore } from './conversations/posts.js';
import { ConversationStore } from './conversations/store.js';
import { ExportStore } from './exports/store.js';
import { ModelAnswerer } from './faq/ai/answerer.js';
import { createModelClient } from './faq/ai/client.js';
import { CuratedStore } from './faq/curated.js';
import { CuratedAnswers } from './faq/curated-answers.js';
import type { GuidanceLibrary } from './faq/docs/library.js';
import { type FaqIndex, openFaqLibrary } from './faq/engine/index.js';
import { QuestionStore } from './faq/questions.js';
import { FaqService } from './faq/service.js';
import { PLAYGROUND_USERS } from './devtools/playground.js';
import { createHttpServer } from './http/server.js';
import { createTabApi } from './http/tab-api.js';
import { localAuthenticator, ssoAuthenticator } from './http/tab-auth.js';
import {
  IssueExport,
  IssueQueries,
  IssueRepository,
  IssueService,
  OfferStore,
  OpenIssues,
  openIssueTables,
  SlaCheck,
  SlaMarks,
  scheduleIssueJobs,
} from './issues/index.js';
import { createLogger, type Logger } from './log.js';
import { DemoRoles } from './roles/demo.js';
import { Roles } from './roles/roles.js';
import { LeaseStore } from './scheduler/lease.js';
import { Scheduler } from './scheduler/runner.js';
import { openStorageAccount } from './storage/account.js';
import { DedupeStore } from './storage/dedupe.js';
import { type TableAccount, Tables } from './storage/tables.js';
import { createAdapter } from './teams/adapter.js';
import { RolloutDeskBot } from './teams/bot.js';
import { DirectOutbox } from './teams/direct-outbox.js';
import { notifyNewlyAnswered, registerFaq } from './teams/faq.js';
import { registerAdoption } from './teams/adoption.js';
import { registerHelp } from './teams/help.js';
import { registerIssues } from './teams/issues.js';
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
  /** Questions asked, by day (the adoption roll-up reads them; tests seed them). */
  questions: QuestionStore;
  issues: IssueService;
  repository: IssueRepository;
  queries: IssueQueries;
  outbox: DirectOutbox;
  scheduler: Scheduler;
  library: GuidanceLibrary<FaqIndex>;
  adoption: {
    service: AdoptionService;
    pulses: PulseService;
    rollup: AdoptionRollup;
    digest: DigestJob;
    measures: MeasuresFile;
  };
  stop(): Promise<void>;
}

const CURATED_REBUILD = 'curated';

/** The Agents Playground's users, by Entra id, as the tab's local demo names them. */
function demoUserName(id: string): string | undefined {
  return Object.values(PLAYGROUND_USERS).find((u) => u.aadObjectId === id)?.name;
}

/** What a Teams SSO token's `aud` may be: the app id (v2 tokens), or the manifest's `api://<domain>/<app id>` (v1). */
function ssoAudiences(appId: string, publicBaseUrl: string | undefined): string[] {
  const host = publicBaseUrl ? new URL(publicBaseUrl).host : undefined;
  return host ? [appId, `api://${host}/${appId}`] : [appId];
}
const CURATED_REFRESH_MS = 60_000;

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
    const localMode = config.auth.kind === 'local';
    // Local demo only: "demo as champion" lets one Playground user see each role.
    const demo = localMode ? new DemoRoles(roles) : undefined;
    const bot = new RolloutDeskBot({
      log,
      roles: demo ?? roles,
      conversations,
      dedupe,
      systemName: config.env.SYSTEM_NAME,
      localMode,
    });
    registerHelp(bot, { conversations, demo, localMode });
    const outbox = new DirectOutbox(sender, conversations, await PostStore.open(tables), log);

    // Champions' answers are ranked with the guidance: the index is built from both.
    const curated: { answers?: CuratedAnswers } = {};
    const library = await openFaqLibrary(config.guidanceDir, {
      glossaryFile: config.glossaryFile,
      extraSections: () => curated.answers?.engineSections() ?? [],
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
    const questions = await QuestionStore.open(tables, clock);
    const curatedAnswers = new CuratedAnswers(
      await CuratedStore.open(tables, clock),
      questions,
      () => library.current.sections,
      () => library.rebuild(CURATED_REBUILD),
    );
    curated.answers = curatedAnswers;
    await curatedAnswers.refresh();
    // Another instance may add or retire an answer: each instance reloads them now and then.
    const curatedTimer = setInterval(() => {
      curatedAnswers.refresh().catch((err: unknown) => log.warn({ err }, 'could not reload curated answers'));
    }, CURATED_REFRESH_MS);
    curatedTimer.unref();
    cleanups.push(async () => clearInterval(curatedTimer));
    const faq = new FaqService(library, questions, {
      baseUrl: config.env.GUIDANCE_BASE_URL,
      model,
      warn: (details, msg) => log.warn(details, msg),
      curated: {
        activeAnswer: (id) => curatedAnswers.activeAnswer(id),
        showAuthor: config.env.FAQ_CURATED_SHOW_AUTHOR,
      },
    });
    const faqWiring = { faq, curated: curatedAnswers, outbox, log, showAuthor: config.env.FAQ_CURATED_SHOW_AUTHOR };
    registerFaq(bot, faqWiring);
    library.on('reloaded', (event) => {
      // A new curated answer tells its own askers (CuratedAnswers.whoMustBeTold); only doc changes look again.
      if (event.changed.length === 1 && event.changed[0] === CURATED_REBUILD) return;
      log.info({ changed: event.changed }, 'guidance reloaded');
      notifyNewlyAnswered(faqWiring).catch((err: unknown) =>
        log.error({ err }, 'could not check newly answered questions'),
      );
    });

    const sla = {
      untriagedReminderMinutes: config.env.SLA_UNTRIAGED_MINUTES,
      escalationMinutes: config.env.SLA_BLOCKING_MINUTES,
    };
    const issueTables = await openIssueTables(tables);
    // Adoption figures are recorded where issues change (the service's observer) and rolled up later.
    const adoptionEvents = await EventStore.open(tables);
    const issueEvents = new IssueEventRecorder(adoptionEvents, (err, ref) =>
      log.warn({ err, ref }, 'adoption event not recorded; the weekly rebuild restores it'),
    );
    const repository = new IssueRepository(issueTables, {
      config: { refPrefix: config.env.ISSUE_REF_PREFIX, categories: config.env.ISSUE_CATEGORIES, sla },
      clock,
      onIndexError: (err, ref) =>
        log.warn({ err, ref }, 'issue index rows not written; the repair job will fix them'),
    });
    const queries = new IssueQueries(issueTables, repository.counter, clock);
    const issues = new IssueService({
      repository,
      queries,
      exporter: new IssueExport(issueTables),
      offers: await OfferStore.open(tables, clock),
      outbox,
      champions: () => roles.championList((id) => conversations.personName(id)),
      reachable: async (userKey) => Boolean(await conversations.personalChat(userKey)),
      rolloutTeamIds: config.env.ROLLOUT_TEAM_IDS,
      categories: config.env.ISSUE_CATEGORIES,
      observer: issueEvents,
    });
    const issueWiring = {
      issues,
      faq,
      exports: await ExportStore.open(tables, clock),
      outbox,
      log,
      clock,
      publicBaseUrl: '', // set once the server listens (below)
    };
    registerIssues(bot, issueWiring);
    const scheduler = new Scheduler(await LeaseStore.open(tables), clock, log);
    scheduleIssueJobs(
      scheduler,
      new SlaCheck(queries, await SlaMarks.open(tables), sla, clock),
      { issues, repository, log },
      config.env.SCHEDULER_INTERVAL_SECONDS * 1000,
    );

    // ---- adoption: measures, figures, pulses, the roll-up and the weekly digest ----------------------
    const measures = await MeasuresFile.open(config.measuresFile, {
      onWarning: (message) => log.warn({ file: config.measuresFile }, message),
    });
    cleanups.push(async () => measures.close());
    const adoptionState = await StateStore.open(tables);
    const aggregates = await AggregateStore.open(tables);
    const dashboard = { url: '' }; // set once the server listens (below)
    const pulses = new PulseService({
      store: await PulseStore.open(tables),
      outbox,
      resolveAudience: defaultAudienceResolver({
        people: () => conversations.people(),
        championIds: () => roles.championIds(),
        rolloutTeamIds: config.env.ROLLOUT_TEAM_IDS,
      }),
      clock,
      minAnswers: config.env.PULSE_MIN_ANSWERS,
      openDays: config.env.PULSE_OPEN_DAYS,
      questionCard: (pulse, answers, notice) => pulseCard(pulse, config.env.PULSE_MIN_ANSWERS, answers, notice),
    });
    const adoption = new AdoptionService({
      measures,
      figures: await FigureStore.open(tables),
      aggregates,
      state: adoptionState,
      clock,
      providers: { pulse: pulses },
      weeks: config.env.ADOPTION_WEEKS,
    });
    const openIssues = new OpenIssues(issueTables);
    const rollup = new AdoptionRollup({
      events: adoptionEvents,
      aggregates,
      state: adoptionState,
      sources: {
        questionsOn: (day) => questions.askedOn(day),
        openIssues: () => openIssues.all(),
        allIssues: () => new IssueExport(issueTables).allIssues(),
      },
      sla,
      clock,
      backfillDays: config.env.ADOPTION_BACKFILL_DAYS,
    });
    const digest = new DigestJob({
      adoption,
      state: adoptionState,
      outbox,
      clock,
      schedule: {
        weekday: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].indexOf(config.env.DIGEST_WEEKDAY) + 1,
        hour: config.env.DIGEST_HOUR,
        timeZone: config.env.DIGEST_TIME_ZONE,
      },
      refresh: () => rollup.run(),
      dashboardUrl: () => dashboard.url,
    });
    registerAdoption(bot, { adoption, pulses, clock, dashboardUrl: () => dashboard.url });
    scheduler.add({ name: 'adoption.rollup', everyMs: config.env.ADOPTION_ROLLUP_MINUTES * 60_000, run: async () => void (await rollup.run()) });
    scheduler.add({ name: 'adoption.digest', everyMs: config.env.SCHEDULER_INTERVAL_SECONDS * 1000, run: async () => void (await digest.run()) });

    scheduler.start(config.env.SCHEDULER_INTERVAL_SECONDS * 1000);
    cleanups.push(() => scheduler.stop());

    const tabRoles = demo ?? roles;
    const tabApi = createTabApi({
      auth:
        config.auth.kind === 'local'
          ? localAuthenticator(async (id) => demoUserName(id) ?? (await conversations.personName(id)))
          : ssoAuthenticator({
              tenantId: config.auth.tenantId,
              audiences: ssoAudiences(config.env.TAB_SSO_APP_ID ?? config.auth.appId, config.env.PUBLIC_BASE_URL),
              jwksUrl: config.env.TAB_SSO_JWKS_URL ?? `https://login.microsoftonline.com/${config.auth.tenantId}/discovery/v2.0/keys`,
            }),
      roles: tabRoles,
      adoption,
      pulses,
      issues,
      board: openIssues,
      champions: () => roles.championList((id) => conversations.personName(id)),
      log,
      demoUsers: async () => {
        const ids = [...Object.values(PLAYGROUND_USERS).map((u) => u.aadObjectId), ...config.env.ROLLOUT_TEAM_IDS, ...config.env.CHAMPION_IDS];
        return Promise.all(
          [...new Set(ids)].map(async (id) => ({
            id,
            name: demoUserName(id) ?? (await conversations.personName(id)) ?? id,
            role: await tabRoles.roleOf({ aadObjectId: id, id }),
          })),
        );
      },
    });

    const server: Server = createHttpServer({
      log,
      processActivity: (req, res) => adapter.process(req, res, (ctx) => bot.run(ctx)),
      ready: () => tables.ping(),
      download: (token) => issueWiring.exports.read(token),
      tabApi,
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
    dashboard.url = config.env.TEAMS_APP_ID
      ? `https://teams.microsoft.com/l/entity/${encodeURIComponent(config.env.TEAMS_APP_ID)}/dashboard`
      : `${issueWiring.publicBaseUrl.replace(/\/+$/, '')}/tab/index.html`;
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
      questions,
      library,
      issues,
      repository,
      queries,
      outbox,
      scheduler,
      adoption: { service: adoption, pulses, rollup, digest, measures },
      async stop() {
        // Stop taking work first (server), then finish sends in flight, then storage.
        const serverClose = cleanups.pop();
        await serverClose?.();
        await outbox.drain();
        await sender.drain();
        for (const c of cleanups.reverse()) await c();
      },
    };
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    throw err;
  }
}
