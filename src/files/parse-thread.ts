/**
 * The worker thread behind parseInWorker (parse-in-worker.ts): parses one settings file's texts in turn with the
 * function a module exports, and posts back the plain value or the message of the error it threw. It runs
 * apart from the event loop that serves users, so a 3 MB file taking seconds to check stalls nobody.
 */
import { parentPort } from 'node:worker_threads';

/**
 * Parse `text` (from the file `source`) with the function `name` exported by the module at URL `module`,
 * called as `(text, source, input)`: `input` is plain data the check needs besides the text (the plan's is
 * the rollout's cohorts and groups).
 */
export interface ParseRequest {
  module: string;
  name: string;
  text: string;
  source: string;
  input?: unknown;
}

/**
 * `started`: the parser is loaded and now runs (its time bound starts); then the value or the error.
 * `notChecked`: the failure was not the file's (the parser did not load, or its value cannot cross threads).
 */
export type ParseReply = { started: true } | { ok: true; value: unknown } | { ok: false; message: string; notChecked?: true };

const port = parentPort;
port?.on('message', async (request: ParseRequest) => {
  let parse: unknown;
  try {
    parse = ((await import(request.module)) as Record<string, unknown>)[request.name];
    if (typeof parse !== 'function') throw new Error(`no function "${request.name}" in ${request.module}`);
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    port.postMessage({ ok: false, notChecked: true, message: `the parser could not be loaded (${why})` } satisfies ParseReply);
    return;
  }
  port.postMessage({ started: true } satisfies ParseReply);
  let reply: ParseReply;
  try {
    reply = { ok: true, value: await (parse as (text: string, source: string, input: unknown) => unknown)(request.text, request.source, request.input) };
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  try {
    port.postMessage(reply);
  } catch (error) {
    // A value that is not plain data (a class instance, a function) cannot cross to the main thread: the
    // parser's fault, not the file's.
    port.postMessage({ ok: false, notChecked: true, message: `its value could not be passed back (${(error as Error).message})` } satisfies ParseReply);
  }
});
