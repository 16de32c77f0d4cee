/**
 * Telemetry: Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set, nothing otherwise.
 * Features use `metrics` and the correlation scope from here without knowing OpenTelemetry; the distro is
 * imported only when telemetry is on.
 */
export { metrics } from './metrics.js';

export interface Telemetry {
  /** Where telemetry goes, for the start-up banner (no key in it). */
  description: string;
  /** Sends what is buffered and stops; a no-op when telemetry is off. */
  shutdown(): Promise<void>;
}

/**
 * Starts telemetry from the environment. Call it before importing the rest of the app: OpenTelemetry
 * instruments modules as they are loaded.
 */
export async function startTelemetry(env: Record<string, string | undefined>): Promise<Telemetry> {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return { description: 'off', shutdown: async () => {} };
  const { startAzureMonitor } = await import('./azure-monitor.js');
  const started = startAzureMonitor(connectionString);
  const endpoint = /IngestionEndpoint=([^;]+)/i.exec(connectionString)?.[1] ?? 'the default ingestion endpoint';
  return { description: `Application Insights (${endpoint})`, shutdown: () => started.shutdown() };
}
