/**
 * Application Insights through the Azure Monitor OpenTelemetry distro. Loaded (dynamically) only when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set, and before the app's own modules, so the distro's
 * instrumentations see Tables, Queues, the Teams connector and restify load.
 */
// Registers OpenTelemetry's ESM loader hook: ESM packages imported from here on can be instrumented.
import '@azure/monitor-opentelemetry/loader';
import {
  type AzureMonitorOpenTelemetryOptions,
  shutdownAzureMonitor,
  useAzureMonitor,
} from '@azure/monitor-opentelemetry';
import { metrics as otelMetrics, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { azureVmDetector } from '@opentelemetry/resource-detector-azure';
import { correlationId } from './correlation.js';
import { setExceptionSink } from './exceptions.js';
import { setMetricsSink } from './metrics.js';
import { telemetryPath } from './redact.js';

type SpanProcessor = NonNullable<AzureMonitorOpenTelemetryOptions['spanProcessors']>[number];
type HttpOptions = NonNullable<AzureMonitorOpenTelemetryOptions['instrumentationOptions']>['http'];

/** Attribute on every span started inside a turn or a job: the same id as the `corr` field of the logs. */
export const CORRELATION_ATTRIBUTE = 'rolloutdesk.correlation_id';

/**
 * Replaces the path in the URL attributes the HTTP instrumentation set on an incoming request's span.
 * Outgoing requests (a ClientRequest, which has no `url`) pass by unchanged.
 */
function redactIncoming(span: Span, request: unknown): void {
  const url = (request as { url?: unknown }).url;
  if (typeof url !== 'string') return;
  const clean = telemetryPath(url);
  if (clean === url) return;
  span.setAttribute('http.route', clean);
  span.setAttribute('http.target', clean);
  span.setAttribute('url.path', clean);
  // The full URL is rebuilt from the host the request named; only the path part changes.
  const host = (request as { headers?: Record<string, unknown> }).headers?.host;
  const full = `http://${typeof host === 'string' ? host : 'localhost'}${clean}`;
  span.setAttribute('http.url', full);
  span.setAttribute('url.full', full);
}

export interface StartedTelemetry {
  shutdown(): Promise<void>;
}

export function startAzureMonitor(connectionString: string): StartedTelemetry {
  // The distro probes the Azure VM metadata address at start; this app runs on App Service, Container Apps
  // or AKS (whose detectors stay on), so the probe would only add a request to a link-local address.
  Object.assign(azureVmDetector, { detect: () => ({ attributes: {} }) });

  const correlation: SpanProcessor = {
    onStart(span) {
      const id = correlationId();
      if (id) span.setAttribute(CORRELATION_ATTRIBUTE, id);
    },
    onEnd() {},
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const http = { enabled: true, requestHook: redactIncoming } as HttpOptions;

  useAzureMonitor({
    azureMonitorExporterOptions: { connectionString },
    // Live Metrics streams to a separate Microsoft endpoint; request, dependency and exception data suffice.
    enableLiveMetrics: false,
    instrumentationOptions: { http },
    spanProcessors: [correlation],
  });
  // OpenAI's client uses fetch (undici), which the distro's HTTP instrumentation does not see.
  const undici = new UndiciInstrumentation();

  const meter = otelMetrics.getMeter('rollout-desk');
  const questions = meter.createCounter('rolloutdesk.questions', { description: 'Questions asked, by answered' });
  const issues = meter.createCounter('rolloutdesk.issues_logged', { description: 'Issues logged' });
  const sends = meter.createCounter('rolloutdesk.sends', { description: 'Proactive sends, by outcome' });
  setMetricsSink({
    questionAnswered: (answered) => questions.add(1, { answered }),
    issueLogged: () => issues.add(1),
    messageSent: (outcome) => sends.add(1, { outcome }),
  });

  const tracer = trace.getTracer('rollout-desk');
  setExceptionSink((err) => {
    const active = trace.getActiveSpan();
    if (active?.isRecording()) {
      active.recordException(err);
      active.setStatus({ code: SpanStatusCode.ERROR });
      return;
    }
    // No open span (a scheduled job, or the request's span already ended): one of its own.
    tracer.startActiveSpan('exception', (span) => {
      span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
  });

  return {
    async shutdown() {
      setMetricsSink(undefined);
      setExceptionSink(undefined);
      undici.disable();
      // Flushes what is buffered (spans, the last metric interval) to the ingestion endpoint.
      await shutdownAzureMonitor();
    },
  };
}
