import { startAzurite } from '../../src/storage/azurite.js';

/** One in-memory Azurite for the whole test run, on free ports; every test file uses its own table prefix. */
export default async function setup({
  provide,
}: {
  provide: (key: 'azuriteConnection', value: string) => void;
}) {
  const azurite = await startAzurite();
  provide('azuriteConnection', azurite.connectionString);
  return async () => {
    await azurite.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnection: string;
  }
}
