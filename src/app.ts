import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Server } from 'restify';
import {
  AdoptionPersonalData,
  AdoptionRollup,
  AdoptionService,
  AggregateStore,
  broadcastAudienceResolver,
  reachWithin,
  BroadcastCommunications,
  OfficeHoursFigures,
  DigestJob,
  EventStore,
  dropShownImportCards,
  FigureImports,
  FigureStore,
  hasCard,
  importCardUpdate,
  IssueEventRecorder,
  MeasuresFile,
  PulseService,
  PulseStore,
  pulseCard,
  StateStore,
} from './adoption/index.js';
import { type Clock, systemClock } from './clock.js';
import {
  type Broadcast,
  IssueLogFacts,
  openBroadcast,
  openPlanFile,
  parseWorkingHours,
  type PlanFile,
  scheduleBroadcastJobs,
  SendStore,
} from './broadcast/index.js';
import { planNotesNotice, planProblemNotice, rolloutTeamNotice } from './broadcast/notices.js';
import { markdownLink } from './cards/template.js';
import type { Config } from './config.js';
import { PostStore } from './conversations/posts.js';
import { ConversationStore } from './conversations/store.js';
import { ExportStore } from './exports/store.js';
import { ModelAnswerer } from './faq/ai/answerer.js';
import { createModelClient } from './faq/ai/client.js';
import { CuratedStore } from './faq/curated.js';
import { CuratedAnswers } from './faq/curated-answers.js';
import { CuratedTellJobs } from './faq/curated-tell.js';
import { curatedAnswerMessages } from './faq/notices.js';
import type { GuidanceLibrary } from './faq/docs/library.js';
import { type FaqIndex, openFaqLibrary } from './faq/engine/index.js';
import { QuestionPrivacy, QuestionStore } from './faq/questions.js';
import { FaqService } from './faq/service.js';
import { PLAYGROUND_USERS } from './devtools/playground.js';
import { InFlightRequests } from './http/inflight.js';
import { createHttpServer } from './http/server.js';
import { createTabApi } from './http/tab-api.js';
import { localAuthenticator, ssoAuthenticator } from './http/tab-auth.js';
import {
  IssueExport,
  IssueQueries,
  IssueRepository,
  type HeldReport,
  IssueService,
  OfferStore,
  OpenIssues,
  openIssueTables,
  SlaCheck,
  SlaMarks,
  scheduleIssueJobs,
} from './issues/index.js';
import type { Outbox } from './outbound/message.js';
import { createLogger, type Logger } from './log.js';
import {
  AgendaBuilder,
  agendaCard,
  BookingStore,
  bookingsAndAttendance,
  CalendarLinks,
  liveSchedule,
  OfficeHoursReminders,
  type HeldQuestion,
  OfficeHoursService,
  openScheduleFile,
  ReminderMarks,
  ScheduleChanges,
  scheduleOfficeHoursJobs,
  trainedBeforeGoLive,
} from './officehours/index.js';
import { ConversationPersonalData } from './conversations/privacy.js';
import { ExportPersonalData } from './exports/privacy.js';
import { FaqPersonalData } from './faq/privacy.js';
import { IssuePersonalData } from './issues/privacy.js';
import { OfficeHoursPersonalData } from './officehours/privacy.js';
import { OutboundPersonalData } from './outbound/privacy.js';
import { claimParts } from './outbound/worker.js';
import { ForgetLog, ForgetLogPersonalData } from './privacy/forget-log.js';
import { fileHeldReport, HeldReportsPersonalData } from './privacy/held-reports.js';
import { ForgottenKeys } from './privacy/forgotten-keys.js';
import { MyDataJobs, MyDataJobsPersonalData } from './privacy/my-data-jobs.js';
import { ForgetJobsPersonalData } from './privacy/jobs-personal-data.js';
import { ForgetJobs } from './privacy/jobs.js';
import { Pseudonyms } from './privacy/pseudonym.js';
import { PersonalDataRegistry } from './privacy/registry.js';
import { PrivacyService } from './privacy/service.js';
import { RolloutPersonalData } from './rollout/privacy.js';
import { DemoRoles } from './roles/demo.js';
import { Roles } from './roles/roles.js';
import { MembershipStore, openRolloutFile, RolloutDirectory } from './rollout/index.js';
import { LeaseStore } from './scheduler/lease.js';
import { Scheduler } from './scheduler/runner.js';
import { type OpenedAccount, openStorageAccount } from './storage/account.js';
import { DedupeStore } from './storage/dedupe.js';
import { DedupePersonalData } from './storage/dedupe-privacy.js';
import { DiskOutbox } from './storage/disk-outbox.js';
import { expiryJob } from './storage/expiry.js';
import { queueAccountOf } from './storage/queues.js';
import { type TableAccount, Tables } from './storage/tables.js';
import { activityRunner, createAdapter } from './teams/adapter.js';
import { RolloutDeskBot } from './teams/bot.js';
import { notifyNewlyAnswered, registerFaq } from './teams/faq.js';
import { registerAdoption } from './teams/adoption.js';
import { registerHelp } from './teams/help.js';
import { registerIssues } from './teams/issues.js';
import { registerBroadcast } from './teams/broadcast.js';
import { registerOfficeHours } from './teams/officehours.js';
import { registerPrivacy } from './teams/privacy.js';
import { registerRollout } from './teams/rollout.js';
import { startOutbound } from './teams/outbound.js';
import { TeamsRosterReader } from './teams/roster.js';
import { withCorrelation } from './telemetry/correlation.js';

export interface AppOptions {
  log?: Logger;
  clock?: Clock;
  /** How often held reports are tried again (ms; tests that look at held reports before they are filed set it long). */
  heldRetryMs?: number;
  /**
   * The FAQ's read bounds (production: 2,000 questions a gaps view or an answer's turn reads, 1,000 corrections in an
   * edit's turn); tests of what lies past them set them small rather than seed thousands of questions.
   */
  faqBounds?: { gapScanRows?: number; tellScanRows?: number; retoldInTurn?: number };
  /** Issues on a page of the tab's board (production: 20); tests of its paging set it small rather than log dozens. */
  boardPageSize?: number;
  /**
   * How long one storage call may take before storage counts as not answering (production: 4 s); tests that freeze
   * storage on purpose set it shorter, never so short that a call to storage that answers could reach it.
   */
  storageTimeoutMs?: number;
  /**
   * How long a storage call may take once one has timed out, until one is answered (production: 1 s); tests that
   * freeze storage on purpose set it shorter, and wait after thawing it until each app's storage answers again.
   */
  storageSuspectTimeoutMs?: number;
}

export interface App {
  config: Config;
  log: Logger;
  url: string;
  tables: Tables;
  /** Where storage is, for tools and tests (a connection string, or an endpoint with a credential). */
  account: TableAccount;
  /** The opened account: its health, and embedded Azurite when the app runs it. */
  storage: OpenedAccount;
  bot: RolloutDeskBot;
  /** The durable outbound path: features enqueue here; this instance's worker sends under Teams' limits. */
  outbox: Outbox;
  faq: FaqService;
  /** Questions asked, by day (the adoption roll-up reads them; tests seed them). */
  questions: QuestionStore;
  issues: IssueService;
  repository: IssueRepository;
  queries: IssueQueries;
  /** Waits until every message enqueued so far was sent or given up (tests and tools). */
  settled(): Promise<void>;
  /** Files the reports held while storage was down (also on a timer); for tests and tools. */
  fileHeldReports(): Promise<void>;
  broadcast: Broadcast;
  planFile: PlanFile;
  scheduler: Scheduler;
  library: GuidanceLibrary<FaqIndex>;
  adoption: {
    service: AdoptionService;
    pulses: PulseService;
    rollup: AdoptionRollup;
    digest: DigestJob;
    measures: MeasuresFile;
    /** Large figure imports, written off the turn (tests wait for them, and call the upkeep). */
    imports: FigureImports;
  };
  /** The rollout's cohorts, user groups and who is in them. */
  rollout: RolloutDirectory;
  officeHours: OfficeHoursService;
  /** `my data` and `forget`. */
  privacy: PrivacyService;
  /** Every feature's personal data (describe, export, forget, expire). */
  personalData: PersonalDataRegistry;
  /** `forget`'s durable background jobs (tests wait for them, and call the upkeep). */
  forgetJobs: ForgetJobs;
  /** `my data`'s durable background jobs (tests wait for them, and call the upkeep). */
  myDataJobs: MyDataJobs;
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

const HELD_RETRY_MS = 15_000;

/** Names this instance's own files (App Service sets WEBSITE_INSTANCE_ID; elsewhere the host name). */
function instanceName(instance: string | undefined): string {
  return (instance ?? hostname()).replace(/[^\w.-]/g, '_').slice(0, 64);
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
    const tablesOptions = {
      ...storage.tablesOptions,
      ...(opts.storageTimeoutMs ? { timeoutMs: opts.storageTimeoutMs } : {}),
      ...(opts.storageSuspectTimeoutMs ? { suspectTimeoutMs: opts.storageSuspectTimeoutMs } : {}),
    };
    const tables = new Tables(account, config.env.TABLE_PREFIX, tablesOptions);
    const conversations = await ConversationStore.open(tables, clock);
    const dedupe = await DedupeStore.open(tables, clock);

    const adapter = createAdapter(config.auth, log);
    const botAppId = config.auth.kind === 'local' ? '' : config.auth.appId;
    const roster = new TeamsRosterReader(adapter, botAppId, conversations);
    const roles = new Roles(
      {
        championIds: config.env.CHAMPION_IDS,
        rolloutTeamIds: config.env.ROLLOUT_TEAM_IDS,
        championsTeamId: config.env.CHAMPIONS_TEAM_ID,
        cacheMs: config.env.ROLE_CACHE_SECONDS * 1000,
      },
      roster,
      () => clock.now().getTime(),
      (err) => log.warn({ err }, 'could not read the champions team roster; using the last known list'),
    );
    const localMode = config.auth.kind === 'local';
    // Local demo only: "demo as champion" lets one Playground user see each role.
    const demo = localMode ? new DemoRoles(roles) : undefined;
    const posts = await PostStore.open(tables, conversations);
    const outbound = await startOutbound({
      tables,
      queueAccount: queueAccountOf(config.storage, account),
      prefix: config.env.TABLE_PREFIX,
      adapter,
      botAppId,
      conversations,
      posts,
      tenantSendsPerSecond: config.env.TENANT_SENDS_PER_SECOND,
      log,
      worker: { id: `${process.pid}-${randomUUID().slice(0, 8)}`, ...claimParts(config.env.OUTBOUND_CLAIM_SECONDS * 1_000) },
      clock,
    });
    cleanups.push(() => outbound.stop());
    const bot = new RolloutDeskBot({
      log,
      roles: demo ?? roles,
      conversations,
      dedupe,
      systemName: config.env.SYSTEM_NAME,
      localMode,
      clock,
    });
    registerHelp(bot, { conversations, demo, localMode });
    const outbox = outbound.outbox;

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
    const curatedStore = await CuratedStore.open(tables, clock);
    const curatedAnswers = new CuratedAnswers(
      curatedStore,
      questions,
      () => library.current.sections,
      () => library.rebuild(CURATED_REBUILD),
      opts.faqBounds,
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
      ...(opts.faqBounds?.gapScanRows ? { gapScanRows: opts.faqBounds.gapScanRows } : {}),
    });
    const faqWiring: Parameters<typeof registerFaq>[1] = {
      faq,
      curated: curatedAnswers,
      outbox,
      log,
      showAuthor: config.env.FAQ_CURATED_SHOW_AUTHOR,
    };
    library.on('reloaded', (event) => {
      // A new curated answer tells its own askers (CuratedAnswers.firstAskers); only doc changes look again.
      if (event.changed.length === 1 && event.changed[0] === CURATED_REBUILD) return;
      withCorrelation(() => {
        log.info({ changed: event.changed }, 'guidance reloaded');
        notifyNewlyAnswered(faqWiring).catch((err: unknown) =>
          log.error({ err }, 'could not check newly answered questions'),
        );
      });
    });

    const rolloutFile = await openRolloutFile(config.rolloutFile, {
      onWarning: (message) => log.warn({ rolloutFile: config.rolloutFile }, message),
    });
    cleanups.push(async () => rolloutFile.close());
    rolloutFile.on('changed', (r) => log.info({ cohorts: r.cohorts.length, groups: r.groups.length }, 'rollout file reloaded'));
    const memberships = await MembershipStore.open(tables, clock);
    const rollout = new RolloutDirectory(() => rolloutFile.current, memberships);
    registerRollout(bot, { directory: rollout, conversations });

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
      onFollowUpsDropped: (ref, versions) =>
        log.error({ ref, versions }, 'issue changes left unfinished too long: if this finish fails, their notices are never sent'),
    });
    const queries = new IssueQueries(issueTables, repository.counter, clock);
    // Reports that arrive while storage does not answer wait on this instance's disk, then are filed.
    const heldReports = await DiskOutbox.open<HeldReport>(
      path.resolve(config.env.DATA_DIR, 'held', `reports-${config.env.TABLE_PREFIX || 'main'}-${instanceName(config.env.WEBSITE_INSTANCE_ID)}.jsonl`),
    );
    const offers = await OfferStore.open(tables, clock);
    const pseudonyms = await Pseudonyms.open(tables, () => clock.now().getTime());
    // Forgets as every instance's held-report filer needs them: a forget on another instance cannot reach this disk.
    const forgottenKeys = await ForgottenKeys.open(tables, pseudonyms, () => clock.now().getTime());
    // With the margin the held-report filer allows for instances' clocks: the anonymised wording is the safer mistake.
    const forgottenSince = (ids: readonly string[], kept: Date) => forgottenKeys.since(ids, kept);
    // The champions for the Assign list (kept a minute per instance): one forgotten since the list was read, on any
    // instance (seen here within LATEST_KEPT_MS), or by the forget under way (which records them before its issues part
    // redraws their cards), shows as their pseudonym. Worked out once per list and forget, not per card.
    const champions = async () => {
      const list = await roles.championListRead((id) => conversations.personName(id));
      return forgottenKeys.asShown(list.people, list.at);
    };
    const slaMarks = await SlaMarks.open(tables);
    const issues = new IssueService({
      repository,
      queries,
      exporter: new IssueExport(issueTables),
      offers,
      outbox,
      champions,
      reachable: async (userKey) => Boolean(await conversations.personalChat(userKey)),
      rolloutTeamIds: config.env.ROLLOUT_TEAM_IDS,
      categories: config.env.ISSUE_CATEGORIES,
      observer: issueEvents,
      held: { keep: (key, report) => heldReports.add(key, report, clock.now()) },
    });
    const issuePersonalData = new IssuePersonalData({ repository, queries, offers, marks: slaMarks, service: issues });
    const fileHeldReportsNow = () =>
      heldReports.size
        ? heldReports.drain((_report, _key, entry) =>
            fileHeldReport(entry, {
              forgotten: forgottenKeys,
              file: (report) => issues.fileHeld(report),
              anonymiseFiled: (subject, pseudonym) => issuePersonalData.forget(subject, pseudonym),
            }),
          ).then((r) => {
            if (r.handled) log.info({ filed: r.handled }, 'held reports filed');
          })
        : Promise.resolve();
    const issueWiring = {
      issues,
      faq,
      exports: await ExportStore.open(tables, clock),
      outbox,
      log,
      clock,
      publicBaseUrl: '', // set once the server listens (below)
      conversations,
    };
    registerIssues(bot, issueWiring);

    // Office hours and training: the schedule file, built against the rollout's cohorts and groups.
    const scheduleFile = await openScheduleFile(config.officeHoursFile, {
      onWarning: (message) => log.warn({ officeHoursFile: config.officeHoursFile }, message),
    });
    cleanups.push(async () => scheduleFile.close());
    const schedule = liveSchedule(
      () => scheduleFile.current,
      () => rolloutFile.current,
      path.basename(config.officeHoursFile),
      // Each problem says what was done: the entry left out, kept without a field, or a change ignored.
      (problem) => log.warn({ officeHoursFile: config.officeHoursFile }, problem),
    );
    const logSchedule = () => log.info({ sessions: schedule().sessions.length }, 'office-hours schedule loaded');
    logSchedule();
    scheduleFile.on('changed', logSchedule);
    rolloutFile.on('changed', logSchedule);
    const bookings = await BookingStore.open(tables, clock);
    const reminderMarks = await ReminderMarks.open(tables);
    const scheduleChanges = await ScheduleChanges.open(tables, clock);
    // A host's "log as issue" on a brought question, pressed while storage did not answer, waits here likewise.
    const heldQuestions = await DiskOutbox.open<HeldQuestion>(
      path.resolve(config.env.DATA_DIR, 'held', `officehours-${config.env.TABLE_PREFIX || 'main'}-${instanceName(config.env.WEBSITE_INSTANCE_ID)}.jsonl`),
    );
    const officeHours = new OfficeHoursService({
      schedule,
      changes: scheduleChanges,
      bookings,
      directory: rollout,
      links: await CalendarLinks.open(tables, clock),
      outbox,
      clock,
      calendarUrl: (token) => `${issueWiring.publicBaseUrl.replace(/\/+$/, '')}/calendar/${token}`,
      systemName: config.env.SYSTEM_NAME,
      issues,
      forgottenSince,
      markGap: async (question, asker) => {
        await questions.record(question, { id: asker.id, name: asker.name }, { answered: false });
      },
      warn: (details, msg) => log.warn(details, msg),
      // The issues part of a forget, for an issue logged after it looked (officehours/service.ts logBrought).
      anonymiseIssues: (subject, pseudonym) => issuePersonalData.forget(subject, pseudonym),
      held: { keep: (key, item) => heldQuestions.add(key, item, clock.now()), hash: (text) => pseudonyms.keyHash(`officehours-held|${text}`) },
    });
    // Reports first: a brought question whose report the issue log held is then found filed, under the same key.
    const fileHeld = async () => {
      await fileHeldReportsNow();
      if (!heldQuestions.size) return;
      const r = await heldQuestions.drain((_item, _key, entry) => officeHours.fileHeldQuestion(entry));
      if (r.handled) log.info({ logged: r.handled }, 'held office-hours questions logged');
    };
    const heldTimer = setInterval(() => {
      fileHeld().catch((err: unknown) => log.warn({ err }, 'held reports not filed yet; trying again'));
    }, opts.heldRetryMs ?? HELD_RETRY_MS);
    heldTimer.unref();
    cleanups.push(async () => clearInterval(heldTimer));
    const agenda = new AgendaBuilder({
      bookings,
      issues: queries,
      gaps: (days) => faq.gaps(days),
      categories: config.env.ISSUE_CATEGORIES,
      now: () => clock.now(),
    });
    faqWiring.officeHours = registerOfficeHours(bot, { service: officeHours, agenda, directory: rollout, clock, log });
    faqWiring.downloads = issueWiring;
    registerFaq(bot, faqWiring);

    const scheduler = new Scheduler(await LeaseStore.open(tables), clock, log, { leaseMs: config.env.SCHEDULER_LEASE_SECONDS * 1000 });
    // People put in a group by @mention before memberships were keyed by Entra id: moved once their 1:1 chat gives it.
    // Hourly: a few such rows at most, each a point read a run, and a person waits at most an hour to be moved.
    scheduler.add({
      name: 'rollout.rekeyMentions',
      everyMs: Math.max(config.env.SCHEDULER_INTERVAL_SECONDS * 1000, 60 * 60_000),
      run: async () => {
        const moved = await rollout.rekeyTeamsIds(async (teamsId) => (await conversations.personalChat(teamsId))?.user?.aadObjectId);
        if (moved) log.info({ moved }, 'group memberships added by @mention moved from Teams ids to Entra ids');
      },
    });
    scheduleIssueJobs(
      scheduler,
      new SlaCheck(queries, slaMarks, sla, clock),
      { issues, repository, log },
      config.env.SCHEDULER_INTERVAL_SECONDS * 1000,
    );

    // The communication plan: the plan file, its audiences in the rollout's people, and the fan-out.
    const sendStore = await SendStore.open(tables);
    const rolloutTeamIds = config.env.ROLLOUT_TEAM_IDS;
    const rolloutTeamReachable = async () => {
      const reachable = new Set<string>();
      for (const id of rolloutTeamIds) if (await conversations.personalChat(id)) reachable.add(id);
      return reachable;
    };
    const planFile = await openPlanFile(config.commPlanFile, {
      rollout: () => rolloutFile.current,
      store: sendStore,
      onChange: (plan) => log.info({ file: config.commPlanFile, messages: plan.messages.length }, 'communication plan loaded'),
      onNotes: (notes) => {
        log.warn({ file: config.commPlanFile, notes }, 'communication plan taken, with dates it does not schedule');
        void (async () => {
          await outbox.enqueue(planNotesNotice(notes, rolloutTeamIds, await rolloutTeamReachable()));
        })().catch((err: unknown) => log.warn({ err }, 'could not tell the rollout team what the plan file leaves out'));
      },
      onInvalid: (problem, why) => {
        log.error({ file: config.commPlanFile, problem, why }, 'communication plan not used; the last good plan stays in force');
        void (async () => {
          await outbox.enqueue(planProblemNotice(problem, rolloutTeamIds, await rolloutTeamReachable(), why));
        })().catch((err: unknown) => log.warn({ err }, 'could not tell the rollout team about the plan file'));
      },
    });
    cleanups.push(async () => planFile.close());
    // The plan names the rollout file's cohorts and groups: a change there is a change to whether the plan fits.
    rolloutFile.on('changed', () =>
      void planFile.recheck().catch((err: unknown) => log.warn({ err }, 'could not check the communication plan again')),
    );
    const workingHours = config.env.BROADCAST_WORKING_HOURS.trim();
    const broadcast = await openBroadcast({
      tables,
      outbox,
      clock,
      plan: () => planFile.current,
      rollout: () => rolloutFile.current,
      sends: sendStore,
      directory: {
        personalChatUsers: (limit) => conversations.personalChatUsers(limit),
        teamMembers: (teamId, firstPage) => roster.members(teamId, firstPage),
        championIds: () => roles.championIds(),
        rolloutTeamIds,
        members: (kind, id) => rollout.members(kind, id),
      },
      chatOf: async (userKey) => {
        const chat = await conversations.personalChat(userKey);
        return chat ? { teamsUserId: chat.user?.id ?? userKey, timeZone: chat.timeZone } : undefined;
      },
      nameOf: async (id) =>
        (await conversations.personName(id)) ??
        rolloutFile.current.members.find((p) => p.id.toLowerCase() === id.toLowerCase())?.name,
      knownPeople: async () => {
        const people = new Map<string, { id: string; name: string }>();
        for (const p of rolloutFile.current.members) people.set(p.id.toLowerCase(), { id: p.id, name: p.name });
        for (const p of await conversations.knownPeople()) if (p.name) people.set(p.id.toLowerCase(), p);
        return [...people.values()].sort((a, b) => a.name.localeCompare(b.name));
      },
      // A colleague Teams' people picker offered who never spoke to the app: vouched for by the support team's roster.
      channelMember: async (role, id) => {
        const channel = await conversations.channelFor(role);
        return channel ? roster.memberOf(channel, id) : undefined;
      },
      channelReady: async (role) => Boolean(await conversations.channelFor(role)),
      channelConversation: async (role) => (await conversations.channelFor(role))?.conversationId,
      tellRolloutTeam: async (key, text) => outbox.enqueue(rolloutTeamNotice(key, text, rolloutTeamIds, await rolloutTeamReachable())),
      facts: new IssueLogFacts(queries, repository),
      settings: {
        batch: config.env.BROADCAST_BATCH,
        workingHours: /^(off|)$/i.test(workingHours) ? undefined : parseWorkingHours(workingHours),
        staleMs: config.env.BROADCAST_STALE_MINUTES * 60_000,
        progressEveryMs: config.env.BROADCAST_PROGRESS_SECONDS * 1000,
        graceMs: config.env.BROADCAST_GRACE_MINUTES * 60_000,
        footer: `From the ${config.env.SYSTEM_NAME} rollout team`,
      },
      log,
    });
    cleanups.push(async () => broadcast.runner.stop());
    registerBroadcast(bot, {
      broadcast: broadcast.service,
      celebrations: broadcast.celebrations,
      outbox,
      footer: `From the ${config.env.SYSTEM_NAME} rollout team`,
    });
    scheduleBroadcastJobs(scheduler, broadcast, config.env.SCHEDULER_INTERVAL_SECONDS * 1000);


    // The adoption stores that hold personal data (pulse answers, figures' enterers) are opened here for the registry.
    const pulseStore = await PulseStore.open(tables);
    const figures = await FigureStore.open(tables);
    // An import larger than one transaction is written off the turn, its card redrawn as batches land.
    const figureImports = await FigureImports.open(tables, {
      figures,
      clock,
      holderId: scheduler.holderId,
      log,
      progress: async (view) => {
        if (hasCard(view)) await outbox.enqueue([importCardUpdate(view)]);
      },
    });
    cleanups.push(() => figureImports.stop());
    // Also the expiry job's sweep of questions withdrawn past their undelete window.
    const questionPrivacy = await QuestionPrivacy.open(tables, clock);
    // Privacy duties: each feature's personal data, conversations last (the others still look up the person's chat).
    const personalData = new PersonalDataRegistry()
      // Before the issues part: a held report filed while its person is forgotten is then anonymised there. Before the
      // FAQ part: the curated answers job looks here after claiming an asker, so a forget it misses deletes that claim.
      .register(new HeldReportsPersonalData(heldReports, forgottenKeys, clock))
      .register(issuePersonalData)
      .register(new FaqPersonalData(questionPrivacy, curatedStore, { refresh: () => curatedAnswers.refresh(), outbox }))
      .register(new OfficeHoursPersonalData({ bookings, changes: scheduleChanges, schedule, clock, marks: reminderMarks, held: heldQuestions }))
      .register(new RolloutPersonalData(memberships, () => rolloutFile.current))
      .register(await OutboundPersonalData.open(tables, outbound.index, conversations))
      .register(broadcast.personalData)
      .register(new AdoptionPersonalData({ pulses: pulseStore, figures, imports: figureImports, events: adoptionEvents, clock }))
      .register(new DedupePersonalData(dedupe))
      // Jobs before the log: a job records its log row, then re-reads its own row (jobs.ts), so a lead forgotten
      // meanwhile is either taken off the row before that re-read or found in the log after the record.
      .register(await ForgetJobsPersonalData.open(tables))
      .register(await ForgetLogPersonalData.open(tables))
      .register(new ExportPersonalData(issueWiring.exports))
      .register(new ConversationPersonalData(conversations, posts));
    // `forget` runs as a durable job (resumed by the upkeep if its instance stops), so its click answers in time.
    const forgetJobs = await ForgetJobs.open(tables, {
      registry: personalData,
      pseudonyms,
      conclude: (subject, by, done, once) => privacy.conclude(subject, by, done, once),
      outbox,
      clock,
      holderId: scheduler.holderId,
      log,
    });
    const privacy = new PrivacyService({
      registry: personalData,
      pseudonyms,
      exports: issueWiring.exports,
      log: await ForgetLog.open(tables),
      conversations,
      roleOf: (aadObjectId) => roles.roleOf({ aadObjectId }),
      clock,
      jobs: forgetJobs,
    });
    // `my data` runs as a durable job too: the turn answers at once, the link follows 1:1 when the file is made.
    const myDataJobs = await MyDataJobs.open(tables, {
      make: (subject, userKey, progress) => privacy.myData(subject, userKey, progress),
      parts: () => personalData.partCount,
      posts,
      message: (token, expiresAt) =>
        `Everything Rollout Desk holds about you is ready: ${markdownLink('download it (JSON)', `${privacyWiring.publicBaseUrl.replace(/\/+$/, '')}/exports/${token}`)}. The link works until ${expiresAt.slice(0, 16).replace('T', ' ')} UTC; don't forward it.`,
      outbox,
      clock,
      holderId: scheduler.holderId,
      log,
    });
    personalData.register(new MyDataJobsPersonalData(myDataJobs));
    const privacyWiring = { service: privacy, jobs: forgetJobs, myData: myDataJobs, posts, inlineMs: config.env.FORGET_INLINE_SECONDS * 1000, outbox, publicBaseUrl: '', conversations };
    registerPrivacy(bot, privacyWiring);
    // A champion's answer reaches the month's askers past what its turn reads off the turn (resumed by the upkeep).
    const curatedTell = await CuratedTellJobs.open(tables, {
      answer: (id) => curatedStore.get(id),
      page: (day, since, next, size) => questions.dayPage(day, since, next, size),
      // An asker forgotten since the page was read is told nothing (looked for after the claim).
      askersIn: (answer, page, again) => curatedAnswers.askersIn(answer, page, again, forgottenSince),
      messages: (answer, tell, opts) => curatedAnswerMessages(answer, tell, (r) => faq.answerFromSection(`curated-answers#${answer.id}`, r.question, r.questionId), opts),
      corrections: (answer, size, next) => curatedAnswers.correctionsOf(answer, size, next),
      posts,
      hasChat: async (userKey) => Boolean(await conversations.personalChat(userKey)),
      outbox,
      clock,
      holderId: scheduler.holderId,
      log,
    });
    cleanups.push(() => curatedTell.stop());
    // The Save's turn reads this when pressed (registered above, before the scheduler that names this instance).
    faqWiring.tellJobs = curatedTell;
    scheduler.add({ name: 'faq.curatedTell', everyMs: config.env.SCHEDULER_INTERVAL_SECONDS * 1000, run: async () => void (await curatedTell.upkeep()) });
    scheduler.add({ name: 'privacy.myData', everyMs: config.env.SCHEDULER_INTERVAL_SECONDS * 1000, run: async () => void (await myDataJobs.upkeep()) });
    cleanups.push(() => myDataJobs.stop());
    scheduler.add({ name: 'privacy.forget', everyMs: config.env.SCHEDULER_INTERVAL_SECONDS * 1000, run: async () => void (await forgetJobs.upkeep()) });
    // Once per deployment's data: lists posts written before PostsByChat existed, a grace period after this
    // version's first run, so that instances of the old version still running in a rolling upgrade have stopped.
    scheduler.add({
      name: 'conversations.backfillPostsByChat',
      everyMs: Math.max(config.env.SCHEDULER_INTERVAL_SECONDS * 1000, 5 * 60_000),
      run: async () => {
        const result = await posts.backfillChatIndex(clock.now().getTime());
        if (result.done) log.info({ posts: result.posts }, "listed the cards in people's 1:1 chats written before they were listed per chat");
      },
    });
    cleanups.push(() => forgetJobs.stop());
    // Retention (RETENTION_DAYS) rides on the expiry job: lease-guarded, a bounded batch per store per run.
    const retention = config.env.RETENTION_DAYS ? personalData.retentionStores(config.env.RETENTION_DAYS) : [];
    scheduler.add(expiryJob([dedupe, issueWiring.exports, offers, questionPrivacy, ...retention], { log }));
    // ---- adoption: measures, figures, pulses, the roll-up and the weekly digest ----------------------
    const measures = await MeasuresFile.open(config.measuresFile, {
      onWarning: (message) => log.warn({ file: config.measuresFile }, message),
    });
    cleanups.push(async () => measures.close());
    const adoptionState = await StateStore.open(tables);
    const aggregates = await AggregateStore.open(tables);
    const dashboard = { url: '' }; // set once the server listens (below)
    const pulses = new PulseService({
      store: pulseStore,
      outbox,
      // Within the sender's turn: a point read per person, bounded in number and time (never a listing of every chat).
      resolveAudience: broadcastAudienceResolver(broadcast.directory, (keys) =>
        reachWithin(keys, async (k) => Boolean(await conversations.personalChat(k))),
      ),
      clock,
      minAnswers: config.env.PULSE_MIN_ANSWERS,
      openDays: config.env.PULSE_OPEN_DAYS,
      questionCard: (pulse, answers, notice) => pulseCard(pulse, config.env.PULSE_MIN_ANSWERS, answers, notice),
    });
    const officeHoursFacts = { service: officeHours, bookings, directory: rollout };
    const adoption = new AdoptionService({
      measures,
      figures,
      imports: figureImports,
      aggregates,
      state: adoptionState,
      clock,
      providers: {
        pulse: pulses,
        communications: new BroadcastCommunications({
          sends: () => broadcast.sends.all(),
          tally: (id) => broadcast.deliveries.tally(id),
          reachedUsers: (id) => broadcast.deliveries.reachedUsers(id),
          acknowledged: (id) => broadcast.acks.who(id),
        }),
        officeHours: new OfficeHoursFigures(
          {
            occurrences: (from, to) => bookingsAndAttendance(officeHoursFacts, from, to),
            trainedBeforeGoLive: () => trainedBeforeGoLive(officeHoursFacts),
          },
          clock,
        ),
      },
      weeks: config.env.ADOPTION_WEEKS,
    });
    const openIssues = new OpenIssues(issueTables);
    const rollup = new AdoptionRollup({
      events: adoptionEvents,
      aggregates,
      state: adoptionState,
      sources: {
        questionsBetween: (first, last) => questions.askedBetween(first, last),
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
      channelReady: async () => (await conversations.channelFor('rollout')) !== undefined,
    });
    registerAdoption(bot, { adoption, pulses, clock, dashboardUrl: () => dashboard.url, audiences: () => rolloutFile.current, posts, savedZone: async (key) => (await conversations.personalChat(key))?.timeZone });
    scheduler.add({
      name: 'adoption.figureImports',
      everyMs: config.env.SCHEDULER_INTERVAL_SECONDS * 1000,
      run: async () => {
        await figureImports.upkeep();
        await dropShownImportCards(posts);
      },
    });
    // Pulse results are counted here, off the turn: a look reads a summary row, never every answer.
    scheduler.add({ name: 'adoption.pulseResults', everyMs: config.env.SCHEDULER_INTERVAL_SECONDS * 1000, run: async () => void (await pulses.recountDue()) });
    scheduler.add({ name: 'adoption.rollup', everyMs: config.env.ADOPTION_ROLLUP_MINUTES * 60_000, run: async () => void (await rollup.run()) });
    scheduler.add({ name: 'adoption.digest', everyMs: config.env.SCHEDULER_INTERVAL_SECONDS * 1000, run: async () => void (await digest.run()) });

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
      champions,
      ...(opts.boardPageSize ? { boardPageSize: opts.boardPageSize } : {}),
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

    scheduleOfficeHoursJobs(
      scheduler,
      new OfficeHoursReminders({
        service: officeHours,
        bookings,
        agenda,
        agendaCard,
        marks: reminderMarks,
        outbox,
        reachable: async (userKey) => Boolean(await conversations.personalChat(userKey)),
        leads: { remind: config.env.OFFICE_HOURS_REMINDER_MINUTES, agenda: config.env.OFFICE_HOURS_AGENDA_MINUTES },
      }),
      log,
      config.env.SCHEDULER_INTERVAL_SECONDS * 1000,
    );
    scheduler.start(config.env.SCHEDULER_INTERVAL_SECONDS * 1000);
    cleanups.push(() => scheduler.stop());

    // Each activity is one turn: one correlation id for its log lines and for the sends it starts.
    const inFlight = new InFlightRequests({
      concurrent: config.env.TURN_CONCURRENCY,
      maxWaitMs: config.env.TURN_QUEUE_MS,
      maxWaiting: 10 * config.env.TURN_CONCURRENCY,
    });
    const runActivity = activityRunner(adapter, (ctx) => bot.run(ctx), log);
    const server: Server = createHttpServer({
      log,
      admit: (res, handle) => inFlight.run(res, handle),
      processActivity: (activity, authorization) => withCorrelation(() => runActivity(activity, authorization)),
      ready: async () => {
        const health = storage.health();
        if (health.status !== 'ok') throw new Error(health.reason);
        await tables.ping();
      },
      health: () => storage.health(),
      download: (token) => issueWiring.exports.read(token),
      tabApi,
      calendar: (token) => officeHours.calendar(token),
      tabFrameAncestors: config.env.TAB_FRAME_ANCESTORS,
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
    privacyWiring.publicBaseUrl = issueWiring.publicBaseUrl;
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
      storage,
      bot,
      faq,
      questions,
      library,
      rollout,
      officeHours,
      privacy,
      personalData,
      forgetJobs,
      myDataJobs,
      issues,
      repository,
      queries,
      outbox,
      fileHeldReports: fileHeld,
      broadcast,
      planFile,
      async settled() {
        if (!(await outbound.settled())) throw new Error('the outbound queue did not settle within 30 s');
      },
      scheduler,
      adoption: { service: adoption, pulses, rollup, digest, measures, imports: figureImports },
      async stop() {
        // Stop taking work first (new connections refused, new requests 503), let the turns in flight
        // finish, then the outbound worker (in-flight sends finish, waiting ones go back to the queue), then
        // jobs and storage. main.ts bounds the whole in time.
        const serverClose = cleanups.pop();
        const closed = serverClose?.();
        await inFlight.drain();
        await closed;
        await broadcast.runner.idle();
        for (const c of cleanups.reverse()) await c();
      },
    };
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    throw err;
  }
}
