import { startAzurite } from '../../src/storage/azurite.js';
import { oncePerRun } from './once-per-run.js';

/** One in-memory Azurite for the whole test run, on free ports; every test file uses its own table prefix. */
export default async function setup({
  provide,
}: {
  provide: (key: 'azuriteConnection', value: string) => void;
}) {
  const azurite = await oncePerRun('azurite', () => startAzurite(), (a) => a.stop());
  provide('azuriteConnection', azurite.value.connectionString);
  return azurite.release;
}

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnection: string;
  }
}
