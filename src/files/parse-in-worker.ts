import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ParseReply, ParseRequest } from './parse-thread.js';

/**
 * Parsing and checking a settings file is synchronous and takes seconds for a large one (a 3 MB rollout file
 * of 20,000 people: about 3 s), which on the main thread would hold every user's turn and /healthz. So it runs
 * in a worker thread: the main thread sends the text and gets back the plain value, or the message of the
 * error that refused the file. A worker that crashes or does not answer within the timeout is terminated and
 * the parse fails with a message naming the file, so the caller keeps the value it had; the next parse
 * starts a fresh worker. Each file (parser and source) has a worker of its own, its parses one at a time: a
 * file whose parse hangs until its bound holds up only its own next read, never another file's.
 */

/** The file was not judged: its parser crashed or gave no answer (not the file's fault, as far as anyone knows). */
export class NotChecked extends Error {
  override readonly name = 'NotChecked';
}

/** A parser the worker can load: a module's file URL and the name of its `(text, source, input?) => value` export. */
export interface WorkerParser {
  module: string;
  name: string;
}

/**
 * The export `name` of the module `relative` (written without its extension) beside the caller's module:
 * `.ts` when run from the sources (tsx, tests), `.js` in the compiled dist/.
 */
export function workerParser(callerUrl: string, relative: string, name: string): WorkerParser {
  return { module: new URL(`${relative}${path.extname(new URL(callerUrl).pathname)}`, callerUrl).href, name };
}

/** Far above the few seconds a file at its size limit takes, even on a busy instance. */
export const PARSE_TIMEOUT_MS = 120_000;
/**
 * A worker with nothing to do is ended after this long. Each file has its own, an isolate of some 15 MB with the
 * parsers' modules: kept for one edit's burst of reloads only, so the five read at start-up do not stay resident
 * (they held the app 85 MB above its usual start, bench:load). Settings files change rarely.
 */
const IDLE_MS = 1_000;
/** A pathological file (deeply nested, huge aliases) runs the worker out of memory, not the app. */
const WORKER_HEAP_MB = 1024;

/**
 * Parses `text` with `parser` in the worker thread of `source` (`input`, plain data, is passed to the parser
 * too). Resolves with its value; rejects with its error's message, or, when the worker crashed or took longer
 * than `timeoutMs`, with a message naming `source`.
 */
export function parseInWorker<T>(
  parser: WorkerParser,
  text: string,
  source: string,
  opts: { timeoutMs?: number; input?: unknown } = {},
): Promise<T> {
  const key = `${parser.module}#${parser.name}\0${source}`;
  let thread = threads.get(key);
  if (!thread) threads.set(key, (thread = new ParseThread(() => threads.get(key) === thread && threads.delete(key))));
  return thread.parse({ ...parser, text, source, input: opts.input }, opts.timeoutMs ?? PARSE_TIMEOUT_MS) as Promise<T>;
}

/**
 * The worker of one file. A few settings files exist, so a few workers at most, and only while a file was
 * read in the last IDLE_MS; one without a worker and with nothing queued is forgotten.
 */
class ParseThread {
  private worker: Worker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** One parse at a time, so each one's timeout counts its own work, not a queue's. */
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(private readonly retire: () => void) {}

  parse(request: ParseRequest, timeoutMs: number): Promise<unknown> {
    this.pending++;
    const run = this.queue.then(() => this.run(request, timeoutMs));
    this.queue = run
      .catch(() => {})
      .then(() => {
        this.pending--;
        this.retireIfDone();
      });
    return run;
  }

  private retireIfDone(): void {
    if (this.pending === 0 && !this.worker) this.retire();
  }

  private run(request: ParseRequest, timeoutMs: number): Promise<unknown> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const worker = (this.worker ??= this.start());
    // Referenced while it works, so an app awaiting its first read does not exit under it.
    worker.ref();
    return new Promise((resolve, reject) => {
      const settle = (finish: () => void) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        worker.unref();
        finish();
      };
      const fail = (why: string) =>
        settle(() => {
          this.end(worker);
          reject(new NotChecked(`${request.source}: not checked, ${why}`));
        });
      const onMessage = (reply: ParseReply) => {
        if ('started' in reply) {
          clearTimeout(timer);
          timer = setTimeout(timedOut, timeoutMs);
          return;
        }
        settle(() => {
          this.idle(worker);
          if (reply.ok) resolve(reply.value);
          else if (reply.notChecked) reject(new NotChecked(`${request.source}: not checked, ${reply.message}`));
          else reject(new Error(reply.message));
        });
      };
      const onError = (error: Error) => fail(`the parser failed (${error.message})`);
      const onExit = (code: number) => fail(`the parser stopped (exit code ${code})`);
      const timedOut = () => fail(`the parser gave no answer within ${Math.round(timeoutMs / 1000)} s`);
      // Starting a worker and loading the parser's modules is bounded apart: from the sources (tsx) on a
      // busy machine it can take seconds, which a caller's short bound for the parse itself should not count.
      let timer = setTimeout(timedOut, Math.max(timeoutMs, PARSE_TIMEOUT_MS));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(request);
    });
  }

  private start(): Worker {
    const here = import.meta.url;
    const entry = new URL(`./parse-thread${path.extname(new URL(here).pathname)}`, here);
    const options = { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } };
    // The compiled dist/ runs parse-thread.js as it is. From the sources (tsx, tests) the worker must load
    // TypeScript, and Node 20 does not apply an --import loader to a worker's own entry: so a small script
    // registers tsx in the worker first, then imports the entry.
    const worker = entry.pathname.endsWith('.ts')
      ? new Worker(`import(${JSON.stringify(tsxApi(here))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`, {
          ...options,
          eval: true,
        })
      : new Worker(entry, options);
    // Errors are told to the parse in flight; this keeps one between parses from being thrown at the app.
    worker.on('error', () => {});
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
    });
    worker.unref();
    return worker;
  }

  private idle(worker: Worker): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.end(worker);
      this.retireIfDone();
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  private end(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
    void worker.terminate().catch(() => {});
  }
}

/** tsx's ESM API (`tsx/esm/api`, a dev dependency: only the sources need it), as a file URL. */
function tsxApi(from: string): string {
  const manifest = createRequire(from).resolve('tsx/package.json');
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
  return pathToFileURL(path.join(path.dirname(manifest), exports['./esm/api']!.import.default)).href;
}

/** By parser and source: one worker per file. */
const threads = new Map<string, ParseThread>();
