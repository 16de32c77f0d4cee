import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { readEntity } from './entities.js';
import { isConflict } from './tables.js';

/**
 * A random secret made once per Storage account and kept in a table row (PK 'key', RK `name`), so every
 * instance signs and checks alike and the secret never leaves Storage. Two instances starting at once both
 * try to create it; the one that loses (409) reads and uses the winner's.
 */
export async function accountSecret(table: TableClient, name: string): Promise<Buffer> {
  const existing = await readEntity<{ key: string }>(table, 'key', name);
  if (existing) return Buffer.from(existing.key, 'base64');
  try {
    const key = randomBytes(32);
    await table.createEntity({ partitionKey: 'key', rowKey: name, key: key.toString('base64') });
    return key;
  } catch (err) {
    if (!isConflict(err)) throw err;
    const made = await readEntity<{ key: string }>(table, 'key', name);
    if (!made) throw err;
    return Buffer.from(made.key, 'base64');
  }
}
