import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { LocalTokenService } from './botframework-auth.js';
import { productionBuild } from './build.js';
import { LocalManagedIdentity } from './managed-identity.js';

/** The bot's Microsoft App ID in production tests (the managed identity's client id in UserAssignedMsi mode). */
export const PRODUCTION_APP_ID = '33333333-3333-4333-8333-333333333333';
export const PRODUCTION_TENANT_ID = '44444444-4444-4444-8444-444444444444';

/**
 * What a bot in Azure talks to about its identity, run locally: Bot Framework's OpenID metadata and keys
 * (incoming tokens, minted here) and App Service's managed identity endpoint (outgoing tokens).
 */
export class LocalBotIdentity {
  readonly channel = new LocalTokenService();
  readonly msi = new LocalManagedIdentity();

  async start(): Promise<this> {
    await Promise.all([this.channel.start(), this.msi.start()]);
    return this;
  }

  /** A channel token for the production bot, as Teams sends with an activity from `serviceUrl`. */
  token(serviceUrl: string, opts?: Parameters<LocalTokenService['token']>[2]): string {
    return this.channel.token(PRODUCTION_APP_ID, serviceUrl, opts);
  }

  /** Settings of an authenticated (UserAssignedMsi) bot that trusts this identity stand-in. */
  env(): Record<string, string> {
    return {
      MicrosoftAppType: 'UserAssignedMsi',
      MicrosoftAppId: PRODUCTION_APP_ID,
      MicrosoftAppTenantId: PRODUCTION_TENANT_ID,
      BotOpenIdMetadata: this.channel.metadataUrl,
      ...this.msi.env(),
    };
  }

  async stop(): Promise<void> {
    await Promise.all([this.channel.stop(), this.msi.stop()]);
  }
}

export interface ProductionOptions {
  identity: LocalBotIdentity;
  connectionString: string;
  tablePrefix: string;
  /** Folder holding `dist/main.js` (and what it reads beside it); default: a build of the current sources. */
  root?: string;
  /** More settings, or overrides (a value of '' removes a setting). */
  env?: Record<string, string>;
  /** Arguments to `node` (default: the production start, `--enable-source-maps dist/main.js`). */
  nodeArgs?: string[];
}

export interface ProductionInstance {
  /** http://127.0.0.1:PORT */
  url: string;
  child: ChildProcess;
  /** Everything the process wrote so far (JSON log lines and the start-up banner). */
  output(): string;
  /** Sends a signal (default SIGTERM) and resolves with the exit code once the process has ended. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL: the instance dies at once, as on a crash or a lost VM. */
  kill(): Promise<void>;
}

/**
 * Only what the app needs from the parent's environment: a developer's own Azure, OpenAI or Application
 * Insights settings must never leak into a test's child process.
 */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])));
}

/** The settings `startProduction` gives the process (before `opts.env`). */
export function productionEnv(opts: ProductionOptions): Record<string, string> {
  return {
    ...baseEnv(),
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    AZURE_STORAGE_CONNECTION_STRING: opts.connectionString,
    TABLE_PREFIX: opts.tablePrefix,
    ...opts.identity.env(),
  };
}

/**
 * Starts a production build (`node dist/main.js`) as a child process: NODE_ENV=production, authenticated as
 * a UserAssignedMsi bot against the local identity stand-in, on the given Storage account and table prefix.
 * Resolves once it listens; rejects with its output if it exits first.
 */
export async function startProduction(opts: ProductionOptions): Promise<ProductionInstance> {
  const root = opts.root ?? (await productionBuild());
  const env: Record<string, string> = { ...productionEnv(opts), ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === '') delete env[k];
  const child = spawn(process.execPath, opts.nodeArgs ?? ['--enable-source-maps', path.join('dist', 'main.js')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  // Generous: it only waits this long on a machine busy with other test files (it returns once listening).
  const end = Date.now() + 90_000;
  let port: string | undefined;
  while (!(port = /Bot endpoint: +http:\/\/localhost:(\d+)\//.exec(out)?.[1])) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the production build exited (${child.exitCode ?? child.signalCode}) before listening:\n${out}`);
    }
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`the production build did not start within 90 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs a production build to completion (for settings it must refuse) and returns its exit code and output. */
export async function runProductionToExit(
  root: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [path.join('dist', 'main.js')], {
    cwd: root,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}
