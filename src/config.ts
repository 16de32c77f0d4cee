import path from 'node:path';
import { DefaultAzureCredential, getBearerTokenProvider } from '@azure/identity';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { parseWorkingHours } from './broadcast/working-hours.js';
import { type ModelConfig, modelConfigFromEnv } from './faq/ai/modelConfig.js';
import { DEFAULT_CATEGORIES } from './issues/model.js';

/** Comma-separated list → trimmed, non-empty items. */
const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : ['true', '1', 'yes'].includes(v)));

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

/** A CSP host source an operator may add to the tab's frame-ancestors: scheme, host (a leading `*.` allowed), port. */
const FRAME_ANCESTOR_SOURCE = /^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?$/i;

/** Every setting the app reads, with its default; `.env.example` documents each one. */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3978, 0, 65535),
  PUBLIC_BASE_URL: optionalText.pipe(z.string().url().optional()),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** On SIGTERM: how long requests, sends and jobs in flight get to finish before the process exits anyway. */
  SHUTDOWN_TIMEOUT_SECONDS: int(20, 1, 600),
  /** Turns (activity requests) handled at once; more wait in line (src/http/inflight.ts). */
  TURN_CONCURRENCY: int(64, 1, 10_000),
  /** A turn that could not start within this many ms is answered 503 + Retry-After (well inside Teams' ~15 s). */
  TURN_QUEUE_MS: int(5_000, 0, 60_000),
  /**
   * How far (%) V8 lets the heap grow past what its last full collection kept before it collects again. V8's
   * own choice under load is up to 4×: ~80 MB live became 300+ MB of heap. 0 leaves it to V8.
   */
  HEAP_GROWING_PERCENT: int(50, 0, 300),
  /** Set → requests, dependencies, exceptions and the app's figures go to Application Insights. */
  APPLICATIONINSIGHTS_CONNECTION_STRING: optionalText,

  AZURE_STORAGE_CONNECTION_STRING: optionalText,
  AZURE_STORAGE_ACCOUNT_NAME: optionalText,
  AZURE_STORAGE_TABLE_ENDPOINT: optionalText.pipe(z.string().url().optional()),
  AZURE_STORAGE_QUEUE_ENDPOINT: optionalText.pipe(z.string().url().optional()),
  AZURE_CLIENT_ID: optionalText,
  DATA_DIR: z.string().default('.data'),
  /** Set by App Service for each instance: names this instance's own files (held reports). */
  WEBSITE_INSTANCE_ID: optionalText,
  STORAGE_IN_MEMORY: bool(false),
  TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{0,19}$|^$/, 'must be letters and digits, starting with a letter')
    .default(''),

  MicrosoftAppId: optionalText,
  MicrosoftAppPassword: optionalText,
  MicrosoftAppTenantId: optionalText,
  MicrosoftAppType: z.enum(['SingleTenant', 'UserAssignedMsi', 'MultiTenant']).optional(),
  /** Where channel tokens' signing keys are published; only sovereign clouds (and tests) change it. */
  BotOpenIdMetadata: optionalText.pipe(z.string().url().optional()),

  CHAMPION_IDS: list,
  ROLLOUT_TEAM_IDS: list,
  CHAMPIONS_TEAM_ID: optionalText,
  ROLE_CACHE_SECONDS: int(300, 0, 86_400),

  /** Hosts besides Teams and Microsoft 365 allowed to frame the tab (a dev or test host): CSP host sources. */
  TAB_FRAME_ANCESTORS: list.pipe(
    z.array(z.string().regex(FRAME_ANCESTOR_SOURCE, 'each must be an origin such as https://host.example:8443 (a leading *. allowed)')),
  ),
  PLAYGROUND: bool(true),
  PLAYGROUND_PORT: int(56150, 1, 65535),

  SYSTEM_NAME: z.string().default('FieldLedger'),
  GUIDANCE_DIR: z.string().default('sample/guidance'),
  GUIDANCE_BASE_URL: optionalText.pipe(z.string().url().optional()),
  GLOSSARY_FILE: z.string().default('sample/glossary.yaml'),
  FAQ_CURATED_SHOW_AUTHOR: bool(false),
  ROLLOUT_FILE: z.string().default('sample/rollout.yaml'),
  OFFICE_HOURS_FILE: z.string().default('sample/office-hours.yaml'),
  OFFICE_HOURS_REMINDER_MINUTES: int(60, 1, 10_080),
  OFFICE_HOURS_AGENDA_MINUTES: int(120, 1, 10_080),

  ISSUE_REF_PREFIX: z
    .string()
    .regex(/^[A-Z]{1,5}-?$/, 'must be 1–5 capital letters, optionally followed by a dash')
    .default('R-'),
  ISSUE_CATEGORIES: list,
  SLA_UNTRIAGED_MINUTES: int(240, 1, 100_000),
  SLA_BLOCKING_MINUTES: int(60, 1, 100_000),
  SCHEDULER_INTERVAL_SECONDS: int(60, 1, 86_400),
  /**
   * How long an instance's hold on a scheduled job lasts from its last run (at least two intervals): after an
   * instance stops, another takes its jobs over within this. A run longer than this may overlap one elsewhere.
   */
  SCHEDULER_LEASE_SECONDS: int(60, 5, 3_600),
  /** Delete closed issues, question logs, delivery rows and past bookings older than this many days; 0 keeps them. */
  RETENTION_DAYS: int(0, 0, 36_500),
  FORGET_INLINE_SECONDS: int(5, 0, 10),

  TENANT_SENDS_PER_SECOND: int(50, 1, 1000),
  /**
   * How long an instance's claim on a message it is sending lasts (src/outbound/worker.ts, `claimParts`): after an
   * instance stops mid-send, what it may have sent is settled once this runs out (recorded unconfirmed, never twice).
   * At least 27 s: 9 s to plan, 15 s for Teams' answer (never shortened: a slow answer would be sent again), 3 s to record it.
   */
  OUTBOUND_CLAIM_SECONDS: int(39, 27, 300),

  MEASURES_FILE: z.string().default('sample/measures.yaml'),
  ADOPTION_WEEKS: int(12, 2, 52),
  ADOPTION_ROLLUP_MINUTES: int(5, 1, 1440),
  ADOPTION_BACKFILL_DAYS: int(120, 7, 1000),
  PULSE_MIN_ANSWERS: int(5, 1, 1000),
  PULSE_OPEN_DAYS: int(14, 1, 365),
  DIGEST_WEEKDAY: z
    .enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'])
    .default('monday'),
  DIGEST_HOUR: int(8, 0, 23),
  DIGEST_TIME_ZONE: z
    .string()
    .default('UTC')
    .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone such as Africa/Lusaka or UTC'),
  TEAMS_APP_ID: optionalText,
  TAB_SSO_JWKS_URL: optionalText.pipe(z.string().url().optional()),
  /** The Entra app the tab's SSO tokens are for (webApplicationInfo.id); default MicrosoftAppId. */
  TAB_SSO_APP_ID: optionalText,
  COMM_PLAN_FILE: z.string().default('sample/communication-plan.yaml'),
  BROADCAST_BATCH: int(250, 1, 5000),
  BROADCAST_WORKING_HOURS: z
    .string()
    .default('Mon-Fri 08:00-18:00')
    .superRefine((v, ctx) => {
      if (/^(off|)$/i.test(v.trim())) return;
      try {
        parseWorkingHours(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${(err as Error).message}, or "off"` });
      }
    }),
  BROADCAST_GRACE_MINUTES: int(360, 0, 10_080),
  BROADCAST_STALE_MINUTES: int(15, 1, 1440),
  BROADCAST_PROGRESS_SECONDS: int(5, 1, 3600),
  FAQ_MODEL_TIMEOUT_MS: int(6000, 500, 14_000),
});

export type Env = z.infer<typeof schema>;

/** The name of every setting the app reads (the infrastructure test checks the Bicep's app settings against it). */
export const SETTING_NAMES: readonly string[] = Object.keys(schema.shape);

export type AuthMode =
  | { kind: 'local' }
  | { kind: 'SingleTenant'; appId: string; password: string; tenantId: string; openIdMetadataUrl?: string }
  | { kind: 'UserAssignedMsi'; appId: string; tenantId: string; openIdMetadataUrl?: string };

export interface Config {
  env: Env;
  auth: AuthMode;
  /** Storage: a real account (by connection string or managed identity), or embedded Azurite. */
  storage:
    | { kind: 'account'; connectionString: string }
    | { kind: 'identity'; tableEndpoint: string; queueEndpoint: string; clientId?: string }
    | { kind: 'azurite'; dataDir?: string };
  guidanceDir: string;
  /** The organisation's glossary for the FAQ engine (absolute path). */
  glossaryFile: string;
  /** The rollout's measures of success (absolute path). */
  measuresFile: string;
  /** The rollout's cohorts, user groups and members (absolute path). */
  rolloutFile: string;
  /** The office-hours and training schedule (absolute path). */
  officeHoursFile: string;
  /** The communication plan (absolute path). */
  commPlanFile: string;
  /** Set when OpenAI or Azure OpenAI is configured; the FAQ then has a model write answers. */
  model?: ModelConfig;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads and checks every setting once; a wrong value stops start-up with a message naming the variable. */
export function loadConfig(
  source: Record<string, string | undefined> = process.env,
  opts: { inMemory?: boolean; cwd?: string } = {},
): Config {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`));
  }
  const env = parsed.data;
  if (env.ISSUE_CATEGORIES.length === 0) env.ISSUE_CATEGORIES = [...DEFAULT_CATEGORIES];
  const problems: string[] = [];
  const auth = authMode(env, problems);
  if (auth.kind === 'local' && env.NODE_ENV === 'production') {
    problems.push(
      'MicrosoftAppId: required when NODE_ENV=production; local unauthenticated mode would accept any request',
    );
  }
  const identityStorage = env.AZURE_STORAGE_ACCOUNT_NAME || env.AZURE_STORAGE_TABLE_ENDPOINT;
  if (env.NODE_ENV === 'production' && !env.AZURE_STORAGE_CONNECTION_STRING && !identityStorage) {
    problems.push(
      'AZURE_STORAGE_CONNECTION_STRING: required when NODE_ENV=production, or AZURE_STORAGE_ACCOUNT_NAME for managed identity (embedded Azurite is for local use)',
    );
  }
  let model: ModelConfig | undefined;
  try {
    model = modelConfigFromEnv(source, {
      timeoutMs: env.FAQ_MODEL_TIMEOUT_MS,
      // Azure OpenAI without a key: the app's managed identity (or developer login) gets the tokens.
      azureADTokenProvider: lazyTokenProvider('https://cognitiveservices.azure.com/.default'),
    });
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  if (problems.length) throw new ConfigError(problems);
  const cwd = opts.cwd ?? process.cwd();
  const inMemory = opts.inMemory || env.STORAGE_IN_MEMORY;
  return {
    env,
    auth,
    storage: env.AZURE_STORAGE_CONNECTION_STRING
      ? { kind: 'account', connectionString: env.AZURE_STORAGE_CONNECTION_STRING }
      : identityStorage
        ? {
            kind: 'identity',
            tableEndpoint:
              env.AZURE_STORAGE_TABLE_ENDPOINT ??
              `https://${env.AZURE_STORAGE_ACCOUNT_NAME}.table.core.windows.net`,
            queueEndpoint:
              env.AZURE_STORAGE_QUEUE_ENDPOINT ??
              `https://${env.AZURE_STORAGE_ACCOUNT_NAME}.queue.core.windows.net`,
            clientId: env.AZURE_CLIENT_ID,
          }
        : inMemory
          ? { kind: 'azurite' }
          : { kind: 'azurite', dataDir: path.resolve(cwd, env.DATA_DIR) },
    guidanceDir: path.resolve(cwd, env.GUIDANCE_DIR),
    glossaryFile: path.resolve(cwd, env.GLOSSARY_FILE),
    measuresFile: path.resolve(cwd, env.MEASURES_FILE),
    rolloutFile: path.resolve(cwd, env.ROLLOUT_FILE),
    officeHoursFile: path.resolve(cwd, env.OFFICE_HOURS_FILE),
    commPlanFile: path.resolve(cwd, env.COMM_PLAN_FILE),
    model,
  };
}

function authMode(env: Env, problems: string[]): AuthMode {
  const { MicrosoftAppId: appId, MicrosoftAppPassword: password, MicrosoftAppTenantId: tenantId } = env;
  const type = env.MicrosoftAppType;
  if (!appId) {
    if (password || tenantId || type) {
      problems.push('MicrosoftAppId: must be set when MicrosoftAppPassword, -TenantId or -Type is set');
    }
    return { kind: 'local' };
  }
  if (type === 'MultiTenant') {
    problems.push(
      'MicrosoftAppType: MultiTenant bot registrations are deprecated; use SingleTenant or UserAssignedMsi',
    );
    return { kind: 'local' };
  }
  if (!tenantId) problems.push('MicrosoftAppTenantId: required with MicrosoftAppId');
  if ((type ?? 'SingleTenant') === 'SingleTenant') {
    if (!password) problems.push('MicrosoftAppPassword: required for MicrosoftAppType=SingleTenant');
    return withMetadata({ kind: 'SingleTenant', appId, password: password ?? '', tenantId: tenantId ?? '' }, env);
  }
  return withMetadata({ kind: 'UserAssignedMsi', appId, tenantId: tenantId ?? '' }, env);
}

function withMetadata<T extends AuthMode>(auth: T, env: Env): T {
  return env.BotOpenIdMetadata ? { ...auth, openIdMetadataUrl: env.BotOpenIdMetadata } : auth;
}

/** A token provider that builds its credential on first use, so config loading stays free of I/O. */
function lazyTokenProvider(scope: string): () => Promise<string> {
  let provider: (() => Promise<string>) | undefined;
  return () => {
    provider ??= getBearerTokenProvider(new DefaultAzureCredential(), scope);
    return provider();
  };
}
