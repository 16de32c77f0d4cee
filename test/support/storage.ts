import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { Tables } from '../../src/storage/tables.js';

/** Tables on the shared test Azurite, under a prefix unique to the caller, so tests never see each other's rows. */
export function testTables(): Tables {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  return new Tables(inject('azuriteConnection'), prefix);
}

export function azuriteConnection(): string {
  return inject('azuriteConnection');
}
