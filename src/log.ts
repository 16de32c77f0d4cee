import pino, { type Logger } from 'pino';
import { correlationId } from './telemetry/correlation.js';
import { reportException } from './telemetry/exceptions.js';

export type { Logger };

/** Paths pino blanks out wherever they appear in a log line: tokens, keys, secrets. */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'password',
  '*.password',
  'MicrosoftAppPassword',
  '*.MicrosoftAppPassword',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'connectionString',
  '*.connectionString',
  'AZURE_STORAGE_CONNECTION_STRING',
  '*.AZURE_STORAGE_CONNECTION_STRING',
  'OPENAI_API_KEY',
  '*.OPENAI_API_KEY',
  'AZURE_OPENAI_API_KEY',
  '*.AZURE_OPENAI_API_KEY',
];

/**
 * JSON logs, one line per event, with secrets redacted. Every line written inside a turn or a job carries its
 * correlation id (`corr`); every error logged with an `err` is also reported to telemetry as an exception.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'rollout-desk' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
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
    destination,
  );
}

/** Connection strings embed account keys; log only the endpoint part. */
export function describeConnectionString(cs: string): string {
  return cs
    .split(';')
    .filter((p) => /^(TableEndpoint|QueueEndpoint|AccountName|BlobEndpoint)=/i.test(p))
    .join(';');
}
