import pino, { type Logger } from 'pino';
import { correlationId } from './telemetry/correlation.js';
import { reportException } from './telemetry/exceptions.js';

export type { Logger };

/** Keys whose values never reach a log line, at any depth (compared case-insensitively). */
const SECRET_KEYS = new Set(
  [
    'authorization',
    'password',
    'MicrosoftAppPassword',
    'apiKey',
    'api-key',
    'token',
    'accessToken',
    'secret',
    'clientSecret',
    'connectionString',
    'AZURE_STORAGE_CONNECTION_STRING',
    'OPENAI_API_KEY',
    'AZURE_OPENAI_API_KEY',
    'APPLICATIONINSIGHTS_CONNECTION_STRING',
  ].map((k) => k.toLowerCase()),
);
const CENSOR = '[redacted]';
/** Deeper than any object the app logs; past it a value is dropped rather than walked. */
const MAX_DEPTH = 12;

/** A copy of `value` with every secret key's value censored, however deep it is nested. */
export function redactDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1, seen));
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? CENSOR : redactDeep(v, depth + 1, seen);
  }
  return out;
}

/**
 * JSON logs, one line per event, with secrets redacted at any depth. Every line written inside a turn or a job carries its
 * correlation id (`corr`); every error logged with an `err` is also reported to telemetry as an exception.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'rollout-desk' },
      formatters: { log: (obj) => redactDeep(obj) as Record<string, unknown> },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => {
        const corr = correlationId();
        return corr ? { corr } : {};
      },
      hooks: {
        logMethod(args, method, levelValue) {
          const first: unknown = args[0];
          if (levelValue >= 50 && first && typeof first === 'object' && 'err' in first) {
            reportException((first as { err: unknown }).err);
          }
          return method.apply(this, args);
        },
      },
    },
    destination ?? stdoutLines(),
  );
}

/**
 * Standard output, written asynchronously: a synchronous write per line cost each turn a blocking system call
 * (about 6% of a question's CPU under load); lines written while one write is in flight go out together.
 * pino flushes what is left synchronously when the process exits (process.exit, an uncaught exception).
 */
function stdoutLines(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}

/** Connection strings embed account keys; log only the endpoint part. */
export function describeConnectionString(cs: string): string {
  return cs
    .split(';')
    .filter((p) => /^(TableEndpoint|QueueEndpoint|AccountName|BlobEndpoint)=/i.test(p))
    .join(';');
}
