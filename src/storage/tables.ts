import type { TokenCredential } from '@azure/core-auth';
import { TableClient, TableServiceClient, type TableServiceClientOptions } from '@azure/data-tables';
import {
  CallBudget,
  type CallPolicyOptions,
  deadlinePolicy,
  gatePolicy,
  STORAGE_RETRY_OPTIONS,
} from './call-policy.js';
import type { TableJournal } from './journal.js';
import { journaled } from './journaled-client.js';

/** How to reach the account: a connection string (keys, or Azurite), or an endpoint plus an Entra credential. */
export type TableAccount = string | { endpoint: string; credential: TokenCredential };

export interface TablesOptions extends CallPolicyOptions {
  /** Embedded storage only: every write is journaled to disk before it returns (journal.ts). */
  journal?: TableJournal;
}

/**
 * Client options for every storage call: one deadline per call (all retries included), a few quick
 * retries, and `StorageUnavailableError` when storage does not answer (call-policy.ts).
 */
export function clientOptions(account: TableAccount, budget: CallBudget): TableServiceClientOptions {
  const target = typeof account === 'string' ? account : account.endpoint;
  return {
    allowInsecureConnection: target.includes('http://'),
    retryOptions: STORAGE_RETRY_OPTIONS,
    additionalPolicies: [
      { policy: deadlinePolicy(budget), position: 'perCall' },
      { policy: gatePolicy(budget.options), position: 'perRetry' },
    ],
  };
}

/** A client on one table of the account, with the bounded call options. */
export function tableClient(account: TableAccount, table: string, options: TableServiceClientOptions): TableClient {
  return typeof account === 'string'
    ? TableClient.fromConnectionString(account, table, options)
    : new TableClient(`${account.endpoint}`, table, account.credential, options);
}

/** Opens table clients on one Storage account and creates each table once. */
export class Tables {
  private readonly created = new Map<string, Promise<void>>();
  private readonly options: TableServiceClientOptions;
  constructor(
    private readonly account: TableAccount,
    /** Prefix for every table name, so tests and instances can share one account. */
    private readonly prefix = '',
    private readonly settings: TablesOptions = {},
  ) {
    this.options = clientOptions(account, new CallBudget(settings));
  }

  private client(table: string): TableClient {
    const client = tableClient(this.account, table, this.options);
    return this.settings.journal ? journaled(client, this.settings.journal) : client;
  }

  /** A client for `name` (prefixed); the table is created on first use. */
  async table(name: string): Promise<TableClient> {
    const full = `${this.prefix}${name}`;
    const client = this.client(full);
    let ready = this.created.get(full);
    if (!ready) {
      ready = client.createTable().catch((err: unknown) => {
        this.created.delete(full);
        throw err;
      });
      this.created.set(full, ready);
    }
    await ready;
    return client;
  }

  /** Reachability check for /readyz: one cheap call to the service. */
  async ping(): Promise<void> {
    const svc =
      typeof this.account === 'string'
        ? TableServiceClient.fromConnectionString(this.account, this.options)
        : new TableServiceClient(this.account.endpoint, this.account.credential, this.options);
    const iter = svc.listTables().byPage({ maxPageSize: 1 });
    await iter.next();
  }
}

export function statusOf(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'statusCode' in err) {
    const s = (err as { statusCode?: unknown }).statusCode;
    return typeof s === 'number' ? s : undefined;
  }
  return undefined;
}

export const isNotFound = (err: unknown) => statusOf(err) === 404;
export const isConflict = (err: unknown) => statusOf(err) === 409;
export const isPreconditionFailed = (err: unknown) => statusOf(err) === 412;

/**
 * Deletes a row that may be gone already (a re-run, a race with another delete): true when this call deleted
 * it, false when it was not there (404). Other errors are thrown.
 */
export async function deleteIfThere(table: TableClient, partitionKey: string, rowKey: string): Promise<boolean> {
  try {
    await table.deleteEntity(partitionKey, rowKey);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * An ETag-guarded merge: true when it landed, false when someone changed the entity first (412),
 * so the caller can re-read and decide. Other errors are thrown.
 */
export async function mergeIfUnchanged(
  table: TableClient,
  entity: { partitionKey: string; rowKey: string; [k: string]: unknown },
  etag: string,
): Promise<boolean> {
  try {
    await table.updateEntity(entity, 'Merge', { etag });
    return true;
  } catch (err) {
    if (isPreconditionFailed(err)) return false;
    throw err;
  }
}

/** PartitionKey/RowKey may not hold / \\ # ? or control characters; `~` is escaped too so the mapping stays one-to-one. */
export function safeKey(value: string): string {
  let out = '';
  for (const c of value) {
    const code = c.charCodeAt(0);
    const forbidden = code < 0x20 || (code >= 0x7f && code <= 0x9f) || '/\\#?~'.includes(c);
    out += forbidden ? `~${code.toString(16).padStart(2, '0')}` : c;
  }
  return out;
}

/** The value `safeKey` was made from (its `~xx` escapes undone). */
export function fromSafeKey(key: string): string {
  return key.replace(/~([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Whether Table storage can hold this as a PartitionKey/RowKey (see safeKey): a row under any other key cannot exist. */
export function isStorableKey(value: string): boolean {
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || '/\\#?'.includes(c)) return false;
  }
  return true;
}

/**
 * A continuation token from a card (written by the client) if the Tables SDK can read it, else undefined:
 * the SDK parses it as base64 JSON and throws a SyntaxError on anything else. Its keys only continue a query
 * whose own filter still applies, so a forged but readable token shows nothing the filter would not.
 */
export function readableContinuationToken(token: string | undefined): string | undefined {
  if (!token || token.length > 2048 || !/^[A-Za-z0-9+/=_-]+$/.test(token)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('latin1'));
    const next = parsed as { nextPartitionKey?: unknown; nextRowKey?: unknown } | null;
    return typeof next?.nextPartitionKey === 'string' &&
      (next.nextRowKey === undefined || typeof next.nextRowKey === 'string')
      ? token
      : undefined;
  } catch {
    return undefined;
  }
}

/** Row keys that sort newest first: ascending RowKey order is descending time. */
export function invertedTime(at: Date): string {
  return String(9_999_999_999_999 - at.getTime()).padStart(13, '0');
}

/** Reads every page of a (partition-scoped) query into an array. */
export async function collect<T>(iter: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iter) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}
