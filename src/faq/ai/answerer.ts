import OpenAI from 'openai';
import { MODEL_MAX_RETRIES } from './client.js';
import { type ModelConfig, modelNameOf } from './modelConfig.js';
import { parseModelReply } from './parseReply.js';
import { buildMessages } from './prompt.js';
import type { AnswerCandidate, AnswerLogger, FallbackReason, ModelAnswer } from './types.js';

export interface AnswerOptions {
  /** The caller's own deadline or cancellation (e.g. the Teams turn); treated like the timeout. */
  signal?: AbortSignal;
}

/**
 * Writes a short, cited answer from the sections retrieval picked. Never throws and never takes
 * longer than the configured timeout: every failure becomes a `fallback` so the caller serves the
 * offline answer instead.
 */
export class ModelAnswerer {
  private readonly model: string;
  /** Exact secrets to scrub from anything logged (the SDK echoes parts of a bad key in 401s). */
  private readonly secrets: string[];

  constructor(
    private readonly client: OpenAI,
    private readonly cfg: ModelConfig,
    private readonly log?: AnswerLogger,
  ) {
    this.model = modelNameOf(cfg);
    this.secrets = cfg.apiKey ? [cfg.apiKey] : [];
  }

  async answer(
    question: string,
    candidates: readonly AnswerCandidate[],
    { signal }: AnswerOptions = {},
  ): Promise<ModelAnswer> {
    // Nothing retrieved means nothing the model could cite: no call, the docs don't cover it.
    if (candidates.length === 0) return { kind: 'not-covered' };
    if (!question.trim()) return this.fallback('empty', { problem: 'blank question' });

    const timer = new AbortController();
    const timeout = setTimeout(
      () => timer.abort(new Error(`model answer timed out after ${this.cfg.timeoutMs} ms`)),
      this.cfg.timeoutMs,
    );
    const deadline = signal ? AbortSignal.any([timer.signal, signal]) : timer.signal;
    const started = Date.now();
    try {
      const request = this.client.chat.completions.create(
        {
          model: this.model,
          messages: buildMessages(question, candidates),
          response_format: { type: 'json_object' },
        },
        { signal: deadline, timeout: this.cfg.timeoutMs, maxRetries: MODEL_MAX_RETRIES },
      );
      // The SDK sleeps between retries without watching the signal; the race keeps the deadline hard.
      const completion = await raceAbort(request, deadline);
      const choice = completion.choices[0];
      if (!choice) return this.fallback('empty', { problem: 'no choices' });
      if (choice.message.refusal) return this.fallback('empty', { problem: 'model refused' });

      const parsed = parseModelReply(choice.message.content, candidates);
      if (parsed.kind !== 'fallback') {
        return parsed.kind === 'answer'
          ? { kind: 'answer', text: parsed.text, citations: parsed.citations }
          : { kind: 'not-covered' };
      }
      return this.fallback(parsed.reason, {
        problem: parsed.problem,
        finishReason: choice.finish_reason,
      });
    } catch (err) {
      const reason: FallbackReason = deadline.aborted ? 'timeout' : reasonFor(err);
      return this.fallback(reason, { ...this.describe(err), ms: Date.now() - started });
    } finally {
      clearTimeout(timeout);
    }
  }

  private fallback(reason: FallbackReason, details: Record<string, unknown>): ModelAnswer {
    this.log?.warn({ reason, model: this.model, ...details }, `model answer not used: ${reason}`);
    return { kind: 'fallback', reason };
  }

  /** What is safe and useful to log about an error: status and ids, and the message with secrets scrubbed. */
  private describe(err: unknown): Record<string, unknown> {
    if (err instanceof OpenAI.APIError) {
      return {
        error: err.name,
        status: err.status,
        code: err.code,
        requestId: err.requestID,
        message: redact(err.message, this.secrets),
      };
    }
    if (err instanceof Error) return { error: err.name, message: redact(err.message, this.secrets) };
    return { error: typeof err };
  }
}

function reasonFor(err: unknown): FallbackReason {
  if (err instanceof OpenAI.RateLimitError) return 'rate-limited';
  if (err instanceof OpenAI.APIConnectionTimeoutError) return 'timeout';
  return 'error';
}

/** Resolves or rejects with `work`, or rejects as soon as `signal` aborts, whichever is first. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  // The losing promise still settles later; swallow that so it is not an unhandled rejection.
  work.catch(() => {});
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * Masks the configured key, anything shaped like an OpenAI key (`sk-…`), and the key the API quotes
 * back (partly masked) in "Incorrect API key provided: …" when a key is wrong.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join('[redacted]');
  }
  return out
    .replace(/(API key provided:\s*)\S+/gi, '$1[redacted]')
    .replace(/\bsk-[A-Za-z0-9_*-]+/g, 'sk-[redacted]');
}
