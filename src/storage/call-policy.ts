import { AsyncLocalStorage } from 'node:async_hooks';
import type { TableServiceClientOptions } from '@azure/data-tables';

// The SDK's own types, reached through the options it takes (no direct dependency on its pipeline package).
type PipelinePolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];
type PipelineRetryOptions = NonNullable<TableServiceClientOptions['retryOptions']>;

/**
 * Thrown by every storage call that storage did not answer in time, refused the connection, or answered
 * "busy" (503/504) after the SDK's retries. Features can tell it apart from a refusal (409, 412, 404) and
 * reply "saved in a moment" (work kept) or a clear failure inside Teams' ~15 s turn.
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const isStorageUnavailable = (err: unknown): err is StorageUnavailableError =>
  err instanceof StorageUnavailableError;

/** How long one storage call (all its tries) may take; a turn makes a few, and Teams gives it about 15 s. */
export const STORAGE_CALL_TIMEOUT_MS = 4_000;
/** After a call has timed out, later calls get this much until one succeeds, so a turn fails fast, not 4 s a call. */
export const STORAGE_SUSPECT_TIMEOUT_MS = 1_000;

/** Retries for refused connections and 5xx (e.g. embedded Azurite restarting), short enough to fit the deadline. */
export const STORAGE_RETRY_OPTIONS: PipelineRetryOptions = {
  maxRetries: 3,
  retryDelayInMs: 200,
  maxRetryDelayInMs: 1_000,
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'REQUEST_SEND_ERROR',
]);

export interface CallPolicyOptions {
  timeoutMs?: number;
  suspectTimeoutMs?: number;
  /**
   * Resolves when storage may be called (embedded Azurite is not being restarted or recovered); rejects when
   * it is down for good. Awaited before every try, inside the call's deadline.
   */
  gate?: () => Promise<void>;
  /** Counts tries in flight, so a restart can wait until none can still reach the old process. */
  inFlight?: { add(n: 1 | -1): void };
}

/** The signal of the work `storageCallsUntil` runs, in that work's async context. */
const given = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `fn` with every storage call it makes (each page of a query is one) refused once `signal` aborts, and one under
 * way aborted: for background work that reads through features' stores (which take no signal) and may be given up
 * before it ends, such as a `my data` run whose result will never be linked. Without it the reads go on to the end.
 */
export function storageCallsUntil<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return given.run(signal, fn);
}

/** State shared by all clients of one account: whether storage has just timed out. */
export class CallBudget {
  private suspect = false;
  constructor(readonly options: CallPolicyOptions = {}) {}

  get deadlineMs(): number {
    return this.suspect
      ? (this.options.suspectTimeoutMs ?? STORAGE_SUSPECT_TIMEOUT_MS)
      : (this.options.timeoutMs ?? STORAGE_CALL_TIMEOUT_MS);
  }
  markTimedOut(): void {
    this.suspect = true;
  }
  markAnswered(): void {
    this.suspect = false;
  }
}

/**
 * Per call (outside the SDK's retry policy): one deadline for all tries; storage-unreachable errors
 * become `StorageUnavailableError`.
 */
export function deadlinePolicy(budget: CallBudget): PipelinePolicy {
  return {
    name: 'rolloutDeskStorageDeadline',
    async sendRequest(request, next) {
      const until = given.getStore();
      until?.throwIfAborted();
      const ms = budget.deadlineMs;
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), ms);
      const callerSignal = request.abortSignal as AbortSignal | undefined;
      // A combined signal only when there is another: most calls have none, and AbortSignal.any is not free.
      request.abortSignal = callerSignal ? AbortSignal.any([deadline.signal, callerSignal]) : deadline.signal;
      const settled = () => {
        clearTimeout(timer);
        request.abortSignal = callerSignal;
      };
      try {
        // The run's signal is not put on the request: the SDK's token policy, after this one, hands the request's
        // signal to the token refresh every caller shares, so a run given up would fail that refresh for others.
        // The call is given up instead (its answer ignored), and the request still ends by its deadline.
        const sent = next(request);
        void sent.then(settled, settled);
        const res = await (until ? abortable(sent, until, 'storage call given up: the work it was for was abandoned') : sent);
        budget.markAnswered();
        if (res.status === 503 || res.status === 504) {
          throw new StorageUnavailableError(`storage is busy (HTTP ${res.status}); try again in a moment`);
        }
        return res;
      } catch (err) {
        if (err instanceof StorageUnavailableError) throw err;
        if (deadline.signal.aborted && !callerSignal?.aborted) {
          budget.markTimedOut();
          throw new StorageUnavailableError(`storage did not answer within ${ms} ms`, { cause: err });
        }
        const code = (err as { code?: unknown } | undefined)?.code;
        if (typeof code === 'string' && NETWORK_CODES.has(code)) {
          throw new StorageUnavailableError(`storage is unreachable (${code})`, { cause: err });
        }
        throw err;
      }
    },
  };
}

/** Per try (inside the retry policy): waits for the gate, and counts the try while it is in flight. */
export function gatePolicy(options: CallPolicyOptions): PipelinePolicy {
  return {
    name: 'rolloutDeskStorageGate',
    async sendRequest(request, next) {
      if (options.gate) await abortable(options.gate(), request.abortSignal as AbortSignal | undefined);
      // A try of work given up (storageCallsUntil) is not sent: the call above was given up, and a retry, or a try
      // that waited at the gate, would still reach storage (a `my data` file saved that nobody will fetch).
      given.getStore()?.throwIfAborted();
      options.inFlight?.add(1);
      try {
        return await next(request);
      } finally {
        options.inFlight?.add(-1);
      }
    },
  };
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, why = 'aborted while waiting for storage'): Promise<T> {
  if (!signal) return p;
  const aborted = () => Object.assign(new Error(why), { name: 'AbortError' });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
