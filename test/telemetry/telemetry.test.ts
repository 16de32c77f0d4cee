import { describe, expect, it } from 'vitest';
import { metrics, startTelemetry } from '../../src/telemetry/index.js';
import { telemetryPath } from '../../src/telemetry/redact.js';

describe('telemetry switched off', () => {
  it('loads no exporter and sends nothing when APPLICATIONINSIGHTS_CONNECTION_STRING is unset or blank', async () => {
    for (const env of [{}, { APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' }]) {
      const telemetry = await startTelemetry(env);
      expect(telemetry.description).toBe('off');
      await telemetry.shutdown();
    }
    // The distro announces itself in the environment when its module is loaded.
    expect(process.env.AZURE_MONITOR_DISTRO_VERSION).toBeUndefined();
    // Features may still count; with telemetry off that goes nowhere and never throws.
    expect(() => metrics.questionAnswered(true)).not.toThrow();
  });
});

describe('paths in telemetry', () => {
  it('hides a download token and any query string, and keeps other paths', () => {
    expect(telemetryPath('/exports/3f9a0c1d2e?x=1')).toBe('/exports/:token');
    expect(telemetryPath('/api/messages?code=secret')).toBe('/api/messages');
    expect(telemetryPath('/tab/index.html')).toBe('/tab/index.html');
  });
});
