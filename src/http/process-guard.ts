import type { Logger } from '../log.js';

/**
 * Node ends the process on an unhandled promise rejection. A rejection nobody awaited (a fire-and-forget
 * send, a library's stray promise) belongs to one request at most: log it as one JSON line and keep serving
 * everyone else. Uncaught exceptions still end the process — after one, state may be broken, and the host
 * (App Service, `npm start`'s supervisor) restarts it.
 */
export function guardUnhandledRejections(log: Logger): { count(): number; stop(): void } {
  let seen = 0;
  const onRejection = (reason: unknown) => {
    seen++;
    log.error({ err: reason }, 'unhandled promise rejection (kept running)');
  };
  process.on('unhandledRejection', onRejection);
  return {
    count: () => seen,
    stop: () => {
      process.off('unhandledRejection', onRejection);
    },
  };
}
