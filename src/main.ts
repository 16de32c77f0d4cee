import path from 'node:path';
import { startApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { PLAYGROUND_USERS, type RunningPlayground, startPlayground } from './devtools/playground.js';
import { createLogger } from './log.js';

/** Starts Rollout Desk (and, locally, Azurite and the Agents Playground); Ctrl-C or SIGTERM stops all cleanly. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const env = { ...process.env };
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env, { inMemory: args.includes('--in-memory') });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.env.LOG_LEVEL);
  const local = config.auth.kind === 'local';
  const withPlayground = local && config.env.PLAYGROUND && !args.includes('--no-playground');
  if (withPlayground && !config.env.CHAMPION_IDS.length && !config.env.ROLLOUT_TEAM_IDS.length) {
    // Demo roles so the playground's users can try every part: Alex runs the rollout, Megan is a champion.
    config.env.ROLLOUT_TEAM_IDS = [PLAYGROUND_USERS.alex.aadObjectId];
    config.env.CHAMPION_IDS = [PLAYGROUND_USERS.megan.aadObjectId];
    log.warn(
      'demo roles: Alex Wilber is rollout team, Megan Bowen is a champion (set CHAMPION_IDS/ROLLOUT_TEAM_IDS)',
    );
  }

  const app = await startApp(config, { log });
  let playground: RunningPlayground | undefined;
  if (withPlayground) {
    playground = await startPlayground({
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
    playground ? `  Agents Playground: ${playground.url}   ← open this to chat with the bot` : '',
    '  Stop with Ctrl-C.',
    '',
  ];
  process.stderr.write(`${lines.filter((l) => l !== '').join('\n')}\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await playground?.stop().catch((err: unknown) => log.error({ err }, 'playground stop failed'));
    await app.stop().catch((err: unknown) => log.error({ err }, 'app stop failed'));
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
