/**
 * Preloaded into the app by `npm run fuzz` (node --expose-gc --import): on SIGUSR2 it runs a full GC and
 * prints `HEAP_AFTER_GC <bytes>` on stderr — the heap the app really keeps, measured at known points of a run.
 */
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  process.stderr.write(`HEAP_AFTER_GC ${process.memoryUsage().heapUsed}\n`);
});
