import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

const scope = new AsyncLocalStorage<string>();

/**
 * Runs `work` under a correlation id (a new one unless given). Everything it starts — awaited calls, timers,
 * proactive sends it triggers — sees the same id, so the log lines of one turn or one job can be found together.
 */
export function withCorrelation<T>(work: () => T, id: string = randomUUID()): T {
  return scope.run(id, work);
}

/** The correlation id of the work running now, if any. Pass it along with queued work and restore it there. */
export function correlationId(): string | undefined {
  return scope.getStore();
}
