import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import type { Config } from '../config.js';
import { describeConnectionString, type Logger } from '../log.js';
import type { TableAccount } from './tables.js';

/** The Storage account the app uses, and how to let go of it (stops embedded Azurite). */
export interface OpenedAccount {
  account: TableAccount;
  close(): Promise<void>;
}

/** A real account by connection string or managed identity, or embedded Azurite for local use. */
export async function openStorageAccount(storage: Config['storage'], log: Logger): Promise<OpenedAccount> {
  if (storage.kind === 'account') {
    log.info({ storage: describeConnectionString(storage.connectionString) }, 'using Storage account');
    return { account: storage.connectionString, close: async () => {} };
  }
  if (storage.kind === 'identity') {
    const credential = storage.clientId
      ? new ManagedIdentityCredential({ clientId: storage.clientId })
      : new DefaultAzureCredential();
    log.info({ storage: storage.tableEndpoint }, 'using Storage account with managed identity');
    return { account: { endpoint: storage.tableEndpoint, credential }, close: async () => {} };
  }
  // Imported only here: production refuses embedded storage, and its image has no Azurite installed.
  const { startAzurite } = await import('./azurite.js');
  const azurite = await startAzurite({ location: storage.dataDir });
  log.info(
    { tablePort: azurite.tablePort, queuePort: azurite.queuePort, dataDir: storage.dataDir ?? '(in memory)' },
    'embedded Azurite started',
  );
  return { account: azurite.connectionString, close: () => azurite.stop() };
}
