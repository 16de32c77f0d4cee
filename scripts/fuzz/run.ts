import { ALREADY_HANDLED } from '../../src/teams/invoke.js';
import { type FuzzCase, type FuzzContext, fuzzCase } from './generate.js';

/** Sends generated cases to a running app and judges each answer; used by `npm run fuzz` and by a test. */

export interface FuzzOptions {
  /** The app's base URL, e.g. http://127.0.0.1:3978 */
  url: string;
  seed: number;
  count: number;
  /** Run this one case only (reproduce a failure). */
  only?: number;
  concurrency?: number;
  ctx: FuzzContext;
  /** An answer slower than this is a failure (a hang), not a timing measurement. */
  timeoutMs?: number;
  /** Checked after each case: false stops the run (e.g. the app process died). */
  alive?: () => boolean;
  onCase?: (c: FuzzCase, status: number | undefined) => void | Promise<void>;
}

export interface FuzzFailure {
  seed: number;
  index: number;
  kind: string;
  status?: number;
  problem: string;
}

export interface FuzzReport {
  sent: number;
  byStatus: Record<string, number>;
  failures: FuzzFailure[];
}

const HEALTH_EVERY = 50;

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = { sent: 0, byStatus: {}, failures: [] };
  const indexes =
    opts.only !== undefined ? [opts.only] : Array.from({ length: opts.count }, (_, i) => i);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  let next = 0;
  let stopped = false;
  const fail = (c: FuzzCase, problem: string, status?: number) =>
    report.failures.push({ seed: opts.seed, index: c.index, kind: c.kind, status, problem });

  const worker = async () => {
    while (!stopped && next < indexes.length) {
      const index = indexes[next++]!;
      const c = fuzzCase(opts.seed, index, opts.ctx);
      const first = await send(opts.url, c, timeoutMs);
      report.sent++;
      judge(c, first, fail);
      if (c.repeat && first.status !== undefined) {
        const again = await send(opts.url, c, timeoutMs);
        report.sent++;
        judge(c, again, fail);
        // Teams' retry of a card action must get the first answer back, not an empty body.
        // Save the plain "already handled", which the app answers a retry with on purpose (the first answer named
        // someone just forgotten, or was too large to keep).
        if (first.status === 200 && isInvokeAnswer(first.body) && again.body !== first.body && !isPlainRetryAnswer(again.body)) {
          fail(c, `a repeat of this invoke answered differently: ${again.body.slice(0, 200)}`, again.status);
        }
      }
      const key = String(first.status ?? 'no answer');
      report.byStatus[key] = (report.byStatus[key] ?? 0) + 1;
      await opts.onCase?.(c, first.status);
      if (opts.alive && !opts.alive()) {
        fail(c, 'the app process ended after this case');
        stopped = true;
      }
      if (report.sent % HEALTH_EVERY === 0 && !(await healthy(opts.url))) {
        fail(c, '/healthz did not answer 200 within 5 s after this case');
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 1 }, worker));
  if (!stopped && !(await healthy(opts.url))) {
    report.failures.push({ seed: opts.seed, index: -1, kind: 'end', problem: '/healthz did not answer at the end' });
  }
  return report;
}

type Answer = { status?: number; body: string; error?: string };

async function send(url: string, c: FuzzCase, timeoutMs: number): Promise<Answer> {
  try {
    const res = await fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: c.headers,
      body: new Uint8Array(c.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { body: '', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

function judge(c: FuzzCase, a: Answer, fail: (c: FuzzCase, problem: string, status?: number) => void): void {
  if (a.status === undefined) fail(c, `no answer (${a.error})`);
  else if (a.status >= 500) fail(c, `server error: ${a.body.slice(0, 300)}`, a.status);
  else if (c.wellFormed && a.status >= 400) fail(c, `a well-formed activity was refused: ${a.body.slice(0, 300)}`, a.status);
}

function isPlainRetryAnswer(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { value?: unknown; composeExtension?: { text?: unknown } };
    return parsed.value === ALREADY_HANDLED || parsed.composeExtension?.text === ALREADY_HANDLED;
  } catch {
    return false;
  }
}

function isInvokeAnswer(body: string): boolean {
  return body.startsWith('{') && !body.startsWith('{"activities"');
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}
