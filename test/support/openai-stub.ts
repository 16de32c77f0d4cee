import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OpenAI-compatible server for tests: the real API is unreachable here, and the answerer
 * must be tested through the real `openai` SDK (its retries, error classes and SSE parsing).
 * It mirrors the real API's shapes: JSON bodies, error envelopes, rate-limit headers, SSE chunks.
 *
 *   POST /v1/chat/completions                                        (OpenAI, `Authorization: Bearer KEY`)
 *   POST /openai/deployments/:deployment/chat/completions?api-version (Azure, `api-key: KEY` or a bearer token)
 */

/** One request as the stub received it, recorded before any delay so timed-out calls are visible. */
export interface StubRequest {
  route: 'openai' | 'azure';
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
  /** Azure only: the deployment named in the path. */
  deployment?: string;
}

export type FinishReason = 'stop' | 'length' | 'content_filter';

/** What the stubbed model says: a chat completion (or SSE stream when the request asks for one). */
export interface StubCompletion {
  content: string | null;
  finishReason?: FinishReason;
  refusal?: string;
  delayMs?: number;
}

/** A raw HTTP reply, for error statuses and odd bodies. */
export interface StubHttpReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

export type StubReply = StubCompletion | StubHttpReply;
/** `index` counts the chat requests that passed auth, from 0, so a test can fail the first then succeed. */
export type StubReplyFn = (req: StubRequest, index: number) => StubReply | Promise<StubReply>;

export interface OpenAIStubOptions {
  /** The key the stub accepts (Bearer for OpenAI, `api-key` for Azure). */
  apiKey?: string;
  /** A bearer token the Azure route accepts, standing in for a managed identity token. */
  azureADToken?: string;
}

export interface OpenAIStub {
  /** `http://127.0.0.1:PORT` — the Azure endpoint. */
  url: string;
  /** `http://127.0.0.1:PORT/v1` — the OpenAI `baseURL`. */
  baseURL: string;
  apiKey: string;
  azureADToken: string;
  /** Every request received, in order, including rejected ones. */
  requests: StubRequest[];
  /** Scripts the model for the following requests. */
  reply(fn: StubReplyFn): void;
  close(): Promise<void>;
}

const DEFAULT_REPLY: StubReplyFn = () => ({ content: 'Hello from the OpenAI stub.' });

export async function startOpenAIStub(options: OpenAIStubOptions = {}): Promise<OpenAIStub> {
  const apiKey = options.apiKey ?? 'sk-stub-test-key-0123456789';
  const azureADToken = options.azureADToken ?? 'stub-entra-token';
  const requests: StubRequest[] = [];
  let replyFn = DEFAULT_REPLY;
  let answered = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, openAIError(String(err), 'server_error'));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const raw = await readBody(req);
    const body = parseJson(raw);
    const azureMatch = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(url.pathname);
    const route = azureMatch ? 'azure' : 'openai';
    const recorded: StubRequest = {
      route,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      ...(azureMatch?.[1] ? { deployment: decodeURIComponent(azureMatch[1]) } : {}),
    };
    requests.push(recorded);

    if (req.method !== 'POST' || (!azureMatch && url.pathname !== '/v1/chat/completions')) {
      if (route === 'azure' || url.pathname.startsWith('/openai/')) {
        return sendJson(res, 404, azureError('404', 'Resource not found'));
      }
      return sendJson(
        res,
        404,
        openAIError(`Invalid URL (${req.method} ${url.pathname})`, 'invalid_request_error'),
      );
    }

    if (route === 'azure') {
      if (!url.searchParams.get('api-version'))
        return sendJson(res, 404, azureError('404', 'Resource not found'));
      const keyOk = req.headers['api-key'] === apiKey;
      const tokenOk = req.headers.authorization === `Bearer ${azureADToken}`;
      if (!keyOk && !tokenOk) {
        return sendJson(
          res,
          401,
          azureError(
            '401',
            'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
          ),
        );
      }
    } else {
      const auth = req.headers.authorization;
      if (!auth?.startsWith('Bearer ')) {
        return sendJson(
          res,
          401,
          openAIError(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            'invalid_request_error',
          ),
        );
      }
      const given = auth.slice('Bearer '.length);
      if (given !== apiKey) {
        return sendJson(
          res,
          401,
          openAIError(
            `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            'invalid_request_error',
            'invalid_api_key',
          ),
        );
      }
    }

    const invalid = validateChatBody(body, route);
    if (invalid) return sendJson(res, 400, invalid);
    const chat = body as ChatBody;

    const reply = await replyFn(recorded, answered++);
    if (reply.delayMs) {
      const finished = await delay(reply.delayMs, res);
      if (!finished) return; // the client gave up (timeout/abort); nobody is listening
    }
    if ('status' in reply) {
      return sendJson(res, reply.status, reply.body ?? null, reply.headers);
    }
    const model = route === 'azure' ? (recorded.deployment ?? chat.model ?? '') : (chat.model ?? '');
    if (chat.stream) return sendStream(res, model, reply, chat.stream_options?.include_usage === true);
    return sendJson(res, 200, completionBody(model, reply, chat.messages));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    baseURL: `${url}/v1`,
    apiKey,
    azureADToken,
    requests,
    reply(fn) {
      replyFn = fn;
      answered = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** A 429 as the real API sends it: error body, `retry-after` and the `x-ratelimit-*` headers. */
export function rateLimited(retryAfterSeconds = 20): StubHttpReply {
  return {
    status: 429,
    headers: {
      'retry-after': String(retryAfterSeconds),
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-limit-tokens': '200000',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-remaining-tokens': '199500',
      'x-ratelimit-reset-requests': `${retryAfterSeconds}s`,
      'x-ratelimit-reset-tokens': '150ms',
    },
    body: openAIError(
      `Rate limit reached for gpt-4o-mini in organization org-stub on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in ${retryAfterSeconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      'requests',
      'rate_limit_exceeded',
    ),
  };
}

/** A 500 as the real API sends it. */
export function serverError(): StubHttpReply {
  return {
    status: 500,
    body: openAIError(
      'The server had an error while processing your request. Sorry about that!',
      'server_error',
    ),
  };
}

interface ChatMessageBody {
  role?: unknown;
  content?: unknown;
}

interface ChatBody {
  model?: string;
  messages: ChatMessageBody[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  response_format?: { type?: string };
}

/** The checks the real API makes that a client can get wrong; a 400 in the real error shape otherwise. */
function validateChatBody(body: unknown, route: 'openai' | 'azure'): object | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return openAIError('We could not parse the JSON body of your request.', 'invalid_request_error');
  }
  const chat = body as Partial<ChatBody>;
  if (route === 'openai' && typeof chat.model !== 'string') {
    return openAIError('you must provide a model parameter', 'invalid_request_error', null, null);
  }
  if (!Array.isArray(chat.messages) || chat.messages.length === 0) {
    return openAIError(
      "Missing required parameter: 'messages'.",
      'invalid_request_error',
      'missing_required_parameter',
      'messages',
    );
  }
  // The real API rejects json_object mode unless the prompt mentions JSON.
  if (chat.response_format?.type === 'json_object') {
    const mentionsJson = chat.messages.some(
      (m) => typeof m.content === 'string' && m.content.toLowerCase().includes('json'),
    );
    if (!mentionsJson) {
      return openAIError(
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        'invalid_request_error',
        null,
        'messages',
      );
    }
  }
  return undefined;
}

function completionBody(model: string, reply: StubCompletion, messages: ChatMessageBody[]) {
  const promptText = messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join(' ');
  const usage = tokenUsage(promptText, reply.content ?? '');
  return {
    id: `chatcmpl-${randomBytes(12).toString('hex')}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.content,
          refusal: reply.refusal ?? null,
          annotations: [],
        },
        logprobs: null,
        finish_reason: reply.finishReason ?? 'stop',
      },
    ],
    usage,
    service_tier: 'default',
    system_fingerprint: 'fp_stub',
  };
}

/** SSE as the real API streams it: a role chunk, content deltas, a finish chunk, optional usage, [DONE]. */
function sendStream(res: ServerResponse, model: string, reply: StubCompletion, includeUsage: boolean): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': requestId(),
  });
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], usage: unknown = null) => {
    const data = {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_stub',
      choices,
    };
    res.write(`data: ${JSON.stringify(includeUsage ? { ...data, usage } : data)}\n\n`);
  };
  chunk([
    {
      index: 0,
      delta: { role: 'assistant', content: '', refusal: null },
      logprobs: null,
      finish_reason: null,
    },
  ]);
  for (const piece of (reply.content ?? '').match(/\S+\s*|\s+/g) ?? []) {
    chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]);
  }
  chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: reply.finishReason ?? 'stop' }]);
  if (includeUsage) chunk([], tokenUsage('', reply.content ?? ''));
  res.end('data: [DONE]\n\n');
}

/** A rough count (4 characters a token) — the stub only needs plausible numbers. */
function tokenUsage(prompt: string, completion: string) {
  const prompt_tokens = Math.ceil(prompt.length / 4);
  const completion_tokens = Math.ceil(completion.length / 4);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

function openAIError(message: string, type: string, code: string | null = null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

/** Azure's error envelope differs from OpenAI's: a string code and no type. */
function azureError(code: string, message: string) {
  return { error: { code, message } };
}

/** The real API quotes a wrong key back with its middle masked. */
function maskKey(key: string): string {
  if (key.length <= 8) return '*'.repeat(key.length);
  return `${key.slice(0, 3)}${'*'.repeat(Math.max(4, key.length - 7))}${key.slice(-4)}`;
}

function requestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId(), ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Waits `ms`, or resolves false early when the client closes the connection. */
function delay(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.on('close', onClose);
  });
}
