import type { StoredConversation } from '../conversations/store.js';
import type { Content } from './message.js';

/**
 * What the worker needs from the channel: one request per call, no retries of its own (the worker decides
 * when to try again, under the shared budget). The Teams implementation lives in src/teams/transport.ts.
 */
export interface Transport {
  /** Gets ready to send into this conversation (a client, a token), so the request itself leaves on time. */
  prepare(conv: StoredConversation): Promise<void>;
  send(conv: StoredConversation, content: Content, opts: RequestOptions): Promise<{ activityId: string }>;
  update(conv: StoredConversation, activityId: string, content: Content, opts: RequestOptions): Promise<void>;
  /** A thrown error in HTTP terms. */
  failure(err: unknown): TransportFailure;
}

export interface RequestOptions {
  timeoutMs: number;
  /**
   * Called synchronously right before the request is written, after everything that can hold it up (a token, a
   * busy event loop): false, and the request is not made and `NotSent` thrown. The worker's last check of its slot.
   */
  go: () => boolean;
}

/** The request was not made: `go` said it was too late (or early) for its slot. */
export class NotSent extends Error {
  constructor() {
    super('not sent: too late for its slot when it was about to be written');
    this.name = 'NotSent';
  }
}

export interface TransportFailure {
  /** HTTP status; undefined when no answer came (timeout, connection reset). */
  status?: number;
  /** The service's error code, e.g. `MessageWritesBlocked`. */
  code?: string;
  retryAfterMs?: number;
  message: string;
}

export type Verdict =
  | { kind: 'throttled'; retryAfterMs: number }
  | { kind: 'retry'; reason: string }
  | { kind: 'blocked'; reason: string }
  | { kind: 'notInstalled'; reason: string }
  | { kind: 'failed'; reason: string };

/** Used when a 429 comes without Retry-After. */
export const DEFAULT_RETRY_AFTER_MS = 1_000;

/**
 * What to do about a failed request (msteams-docs: bots/how-to/rate-limit): 429 waits as long as Teams says;
 * 412, 5xx gateway errors and no answer at all are tried again later; 403 is never retried (the person blocked
 * or removed the bot); anything else is a fault in the message itself and fails it.
 */
export function verdictOf(f: TransportFailure): Verdict {
  const reason = [f.status ?? 'no answer', f.code, f.message].filter(Boolean).join(' ');
  if (f.status === 429) return { kind: 'throttled', retryAfterMs: f.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS };
  if (f.status === undefined || [408, 412, 500, 502, 503, 504].includes(f.status)) return { kind: 'retry', reason };
  if (f.status === 403 && /NotInConversationRoster|NotInstalled|ConversationNotFound/i.test(f.code ?? ''))
    return { kind: 'notInstalled', reason };
  if (f.status === 403) return { kind: 'blocked', reason };
  if (f.status === 404 && /ConversationNotFound/i.test(f.code ?? '')) return { kind: 'notInstalled', reason };
  return { kind: 'failed', reason };
}

/** Exponential backoff with jitter: about 1 s, 2 s, 4 s … up to a minute, each between half and 1.5 times that. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(60_000, 1_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + random()));
}
