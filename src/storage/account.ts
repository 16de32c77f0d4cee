import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import type { Config } from '../config.js';
import { describeConnectionString, type Logger } from '../log.js';
import type { EmbeddedStorage, StorageHealth } from './embedded.js';
import type { TableAccount, TablesOptions } from './tables.js';

/** The Storage account the app uses, and how to let go of it (stops embedded Azurite). */
export interface OpenedAccount {
  account: TableAccount;
  /** For `new Tables(...)`: embedded storage adds its journal and restart gate. */
  tablesOptions: TablesOptions;
  /** Whether storage is up; a real account is the platform's to watch, so it is always "ok" here. */
  health(): StorageHealth;
  /** Embedded storage, when the app runs it (tests kill its processes). */
  embedded?: EmbeddedStorage;
  close(): Promise<void>;
}

const alwaysOk = (): StorageHealth => ({ status: 'ok' });

/** A real account by connection string or managed identity, or embedded Azurite for local use. */
export async function openStorageAccount(storage: Config['storage'], log: Logger): Promise<OpenedAccount> {
  if (storage.kind === 'account') {
    log.info({ storage: describeConnectionString(storage.connectionString) }, 'using Storage account');
    return { account: storage.connectionString, tablesOptions: {}, health: alwaysOk, close: async () => {} };
  }
  if (storage.kind === 'identity') {
    const credential = storage.clientId
      ? new ManagedIdentityCredential({ clientId: storage.clientId })
      : new DefaultAzureCredential();
    log.info({ storage: storage.tableEndpoint }, 'using Storage account with managed identity');
    return {
      account: { endpoint: storage.tableEndpoint, credential },
      tablesOptions: {},
      health: alwaysOk,
      close: async () => {},
    };
  }
  // Imported only here: production refuses embedded storage, and its image has no Azurite installed.
  const { EmbeddedStorage } = await import('./embedded.js');
  const embedded = await EmbeddedStorage.start({ location: storage.dataDir, log });
  log.info(
    {
      tablePort: embedded.tablePort,
      queuePort: embedded.queuePort,
      dataDir: storage.dataDir ?? '(in memory)',
      journal: storage.dataDir ? 'on' : 'off',
    },
    'embedded Azurite started',
  );
  return {
    account: embedded.connectionString,
    tablesOptions: embedded.tablesOptions(),
    health: () => embedded.health(),
    embedded,
    close: () => embedded.stop(),
  };
}
