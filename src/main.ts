import path from 'node:path';
import v8 from 'node:v8';
import type { App } from './app.js';
import type { Config } from './config.js';
import type { RunningPlayground } from './devtools/playground.js';
import { startTelemetry } from './telemetry/index.js';

/**
 * Starts Rollout Desk (and, locally, Azurite and the Agents Playground); Ctrl-C or SIGTERM stops all cleanly.
 * Everything but telemetry is imported dynamically: OpenTelemetry instruments modules as they load, so it
 * starts first, and the local-only tools are never loaded in production.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const env = { ...process.env };
  const telemetry = await startTelemetry(env);
  const { ConfigError, loadConfig } = await import('./config.js');
  const { createLogger } = await import('./log.js');
  const { guardUnhandledRejections } = await import('./http/process-guard.js');
  const load = (source: Record<string, string | undefined>): Config =>
    loadConfig(source, { inMemory: args.includes('--in-memory') });
  let config: Config;
  try {
    config = load(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      await telemetry.shutdown();
      process.exit(1);
    }
    throw err;
  }
  // Set here, not on node's command line, so every way of running the server (npm start, start:prod, the image) has it.
  if (config.env.HEAP_GROWING_PERCENT > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.env.HEAP_GROWING_PERCENT}`);
  const local = config.auth.kind === 'local';
  const withPlayground = local && config.env.PLAYGROUND && !args.includes('--no-playground');
  const devtools = withPlayground ? await import('./devtools/playground.js') : undefined;
  const demoRoles = Boolean(devtools && !config.env.CHAMPION_IDS.length && !config.env.ROLLOUT_TEAM_IDS.length);
  if (devtools && demoRoles) {
    // Demo roles so the playground's users can try every part: Alex runs the rollout, Megan is a champion.
    // They are settings like any other, read through the one schema (the config is never changed after it).
    config = load({
      ...env,
      ROLLOUT_TEAM_IDS: devtools.PLAYGROUND_USERS.alex.aadObjectId,
      CHAMPION_IDS: devtools.PLAYGROUND_USERS.megan.aadObjectId,
    });
  }
  const log = createLogger(config.env.LOG_LEVEL);
  guardUnhandledRejections(log);
  if (demoRoles) {
    log.warn(
      'demo roles: Alex Wilber is rollout team, Megan Bowen is a champion (set CHAMPION_IDS/ROLLOUT_TEAM_IDS); "demo as staff" switches',
    );
  }

  const { startApp } = await import('./app.js');
  const app: App = await startApp(config, { log });
  let playground: RunningPlayground | undefined;
  if (devtools) {
    playground = await devtools.startPlayground({
      botEndpoint: `${app.url}/api/messages`,
      port: config.env.PLAYGROUND_PORT,
      workDir: path.resolve(config.env.DATA_DIR, 'playground'),
    });
  }

  const lines = [
    '',
    `Rollout Desk is running (${local ? 'LOCAL, unauthenticated' : `authenticated, ${config.auth.kind}`}).`,
    `  Bot endpoint:      ${app.url}/api/messages`,
    `  Health:            ${app.url}/healthz   ${app.url}/readyz`,
    `  Dashboard tab:     ${app.url}/tab/index.html${local ? '   (outside Teams: choose a demo user)' : ''}`,
    `  Storage:           ${describeStorage(config.storage)}`,
    `  Telemetry:         ${telemetry.description}`,
    playground ? `  Agents Playground: ${playground.url}   ← open this to chat with the bot` : '',
    '  Stop with Ctrl-C.',
    '',
  ];
  process.stderr.write(`${lines.filter((l) => l !== '').join('\n')}\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const boundMs = config.env.SHUTDOWN_TIMEOUT_SECONDS * 1000;
    log.info({ signal, boundSeconds: config.env.SHUTDOWN_TIMEOUT_SECONDS }, 'shutting down');
    // What is still running after the bound is abandoned: queued work is picked up again by another
    // instance or after restart (leases expire, queue messages reappear); a turn is retried by Teams.
    const force = setTimeout(() => {
      log.error({ boundSeconds: config.env.SHUTDOWN_TIMEOUT_SECONDS }, 'shutdown bound reached; exiting with work unfinished');
      process.exit(1);
    }, boundMs);
    force.unref();
    await playground?.stop().catch((err: unknown) => log.error({ err }, 'playground stop failed'));
    await app.stop().catch((err: unknown) => log.error({ err }, 'app stop failed'));
    await telemetry.shutdown().catch((err: unknown) => log.warn({ err }, 'telemetry flush failed'));
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

function describeStorage(storage: Config['storage']): string {
  if (storage.kind === 'account') return 'Azure Storage account (connection string)';
  if (storage.kind === 'identity') return `Azure Storage account ${storage.tableEndpoint} (managed identity)`;
  return `embedded Azurite, ${storage.dataDir ?? 'in memory'}`;
}

main().catch((err: unknown) => {
  console.error('Rollout Desk could not start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
