import type { TokenCredential } from '@azure/core-auth';
import { QueueClient } from '@azure/storage-queue';
import type { Config } from '../config.js';
import type { TableAccount } from './tables.js';

/** How to reach the account's queue service: a connection string with a `QueueEndpoint`, or an endpoint plus credential. */
export type QueueAccount = string | { endpoint: string; credential: TokenCredential };

/**
 * The queue side of the account the app opened: a connection string names both services (Azurite's does);
 * with a managed identity the queue endpoint comes from the config, next to the table endpoint.
 */
export function queueAccountOf(storage: Config['storage'], account: TableAccount): QueueAccount {
  if (typeof account === 'string') return account;
  if (storage.kind !== 'identity') throw new Error('a credential account needs the identity storage settings');
  return { endpoint: storage.queueEndpoint, credential: account.credential };
}

/** Queue names are 3–63 lowercase letters, digits and dashes; the table prefix keeps tests and apps apart. */
export function queueName(prefix: string, name: string): string {
  return `${prefix}${name}`.toLowerCase().replace(/[^a-z0-9-]/g, '');
}

/** A client for one queue, created on first use. */
export async function openQueue(account: QueueAccount, name: string): Promise<QueueClient> {
  const client =
    typeof account === 'string'
      ? new QueueClient(account, name)
      : new QueueClient(`${account.endpoint.replace(/\/$/, '')}/${name}`, account.credential);
  await client.createIfNotExists();
  return client;
}
