import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import restify, { type Request, type Response, type Server } from 'restify';
import { TAB_DIR } from '../paths.js';
const TAB_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

const TAB_NAME = /^[\w-]+\.(html|js|css)$/;
const tabFiles = new Map<string, { body: Buffer; type: string }>();

/** The tab's static files, plus the Teams JavaScript client library from node_modules (no CDN); read once. */
function tabFile(name: string): { body: Buffer; type: string } | undefined {
  if (name !== 'teams-js.js' && !TAB_NAME.test(name)) return undefined;
  const cached = tabFiles.get(name);
  if (cached) return cached;
  const file = readTabFile(name); // only files that exist are kept, so random names cannot grow the cache
  if (file) tabFiles.set(name, file);
  return file;
}

function readTabFile(name: string): { body: Buffer; type: string } | undefined {
  if (name === 'teams-js.js') {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@microsoft/teams-js/package.json'));
    return { body: readFileSync(path.join(dir, 'dist/umd/MicrosoftTeams.min.js')), type: 'text/javascript' };
  }
  try {
    return { body: readFileSync(path.join(TAB_DIR, name)), type: TAB_TYPES[path.extname(name)] ?? 'text/plain' };
  } catch {
    return undefined;
  }
}
import type { Logger } from '../log.js';
import { activityProblem } from './activity-shape.js';
import { type BodyLimits, readJsonBody } from './body.js';
import { cleanStrings } from './clean-text.js';
import { NOSNIFF, tabPageCsp } from './security-headers.js';

/** What the bot answered for one activity: the HTTP status and JSON body to send back. */
export interface ActivityOutcome {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpDeps {
  log: Logger;
  /** Authenticates and runs one checked, cleaned activity; authentication failures come back as 401/503. */
  processActivity(activity: Record<string, unknown>, authorization: string): Promise<ActivityOutcome>;
  /** Throws when storage is not reachable. */
  ready(): Promise<void>;
  /** Wraps the handling of one activity request: counts it for shutdown, or answers it while draining. */
  admit?(res: Response, handle: () => Promise<void>): Promise<void>;
  /** Whether the process can work at all: "down" (e.g. embedded storage that cannot be restarted) → 503. */
  health?(): { status: 'ok' } | { status: 'recovering' | 'down'; reason: string };
  /** A file made for download (e.g. the issue export), by its unguessable token. */
  download?(token: string): Promise<{ filename: string; contentType: string; content: string } | undefined>;
  /** The dashboard tab's API (`/api/tab/*`, see tab-api.ts): it authenticates, checks roles and answers itself. */
  tabApi?(req: Request, res: Response): Promise<void>;
  /** A booked session's calendar file, by its signed, expiring token. */
  calendar?(token: string): Promise<{ filename: string; content: string } | { unavailable: string } | undefined>;
  /** Hosts besides Teams and Microsoft 365 that may frame the tab's pages (TAB_FRAME_ANCESTORS). */
  tabFrameAncestors?: readonly string[];
}

/** Teams caps a message at about 40 KB and a card action's data is smaller still: 1 MB is far above any real activity. */
export const ACTIVITY_BODY_LIMITS: BodyLimits = { maxBytes: 1024 * 1024, maxDepth: 64 };

type Handler = (req: Request, res: Response) => Promise<void>;

export function createHttpServer(deps: HttpDeps): Server {
  const server = restify.createServer({ name: 'rollout-desk', handleUncaughtExceptions: false });

  // Every answer, restify's own refusals included (a malformed % escape, no such route, a wrong method), is
  // never sniffed as another type and not cached; a route that may be cached says so itself (the tab's files).
  server.pre((_req, res, next) => {
    for (const [k, v] of Object.entries(STANDARD_HEADERS)) res.setHeader(k, v);
    return next();
  });
  // What restify answers by itself goes out in the app's JSON error shape, not restify's `{code, message}`.
  server.on('restifyError', (req: Request, res: Response, err: Error & { statusCode?: unknown }, done: () => void) => {
    if (!res.headersSent) {
      const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
      if (status >= 500) deps.log.error({ err }, 'request failed');
      res.status(status);
      res.json(refusal(status, req.method ?? 'GET', res.getHeader('allow')));
    }
    done();
  });

  /** Every route: whatever fails inside is logged once and answered with JSON; no request ends the process. */
  const route =
    (name: string, handler: Handler): Handler =>
    async (req, res) => {
      try {
        await handler(req, res);
      } catch (err) {
        deps.log.error({ err, route: name }, 'request failed');
        if (!res.headersSent) {
          res.status(500);
          res.json({ error: 'InternalError', message: 'the request could not be handled' });
        }
      }
    };

  server.post(
    '/api/messages',
    route('messages', async (req, res) => {
      const handle = () => handleActivityRequest(req, res);
      await (deps.admit ? deps.admit(res, handle) : handle());
    }),
  );

  const handleActivityRequest = async (req: Request, res: Response): Promise<void> => {
    // Bounded before it is parsed: the size after decompression, then the nesting depth.
    const body = await readJsonBody(req, ACTIVITY_BODY_LIMITS);
    if (!body.ok) {
      deps.log.warn({ status: body.status, reason: body.message, ...body.details }, 'request body refused');
      if (body.headers) for (const [k, v] of Object.entries(body.headers)) res.header(k, v);
      res.status(body.status);
      res.json({ error: body.error, message: body.message, ...body.details });
      return;
    }
    const problem = activityProblem(body.value);
    if (problem) {
      res.status(400);
      res.json({ error: 'BadRequest', message: problem });
      return;
    }
    const activity = cleanStrings(body.value as Record<string, unknown>);
    const outcome = await deps.processActivity(activity, String(req.headers.authorization ?? ''));
    for (const [k, v] of Object.entries(outcome.headers ?? {})) res.header(k, v);
    res.status(outcome.status);
    if (outcome.body === undefined) res.end();
    else res.json(outcome.body);
  };

  server.get(
    '/healthz',
    route('healthz', async (_req, res) => {
      const health = deps.health?.() ?? { status: 'ok' };
      if (health.status === 'down') {
        res.status(503);
        res.json({ status: 'down', reason: health.reason, uptimeSeconds: Math.round(process.uptime()) });
        return;
      }
      res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
    }),
  );

  server.get(
    '/readyz',
    route('readyz', async (_req, res) => {
      try {
        await withTimeout(deps.ready(), 3_000);
        res.json({ status: 'ready', storage: 'ok' });
      } catch (err) {
        // Anyone can call /readyz: it says which dependency is not ready; the error (addresses, account
        // names) goes to the log only.
        deps.log.warn({ err }, 'not ready: storage is not reachable');
        res.status(503);
        res.json({ status: 'not ready', storage: 'unreachable' });
      }
    }),
  );

  const pageCsp = tabPageCsp(deps.tabFrameAncestors);
  server.get(
    '/tab/:file',
    route('tab', async (req, res) => {
      const file = tabFile(String(req.params.file ?? ''));
      if (!file) {
        res.status(404);
        res.json({ error: 'NotFound', message: 'no such tab file' });
        return;
      }
      res.writeHead(200, {
        'content-type': `${file.type}; charset=utf-8`,
        'cache-control': 'no-cache',
        ...NOSNIFF,
        ...(file.type === 'text/html' ? { 'content-security-policy': pageCsp } : {}),
      });
      res.end(file.body);
    }),
  );

  const tabApi = deps.tabApi;
  // Every method goes to the tab API: it answers HEAD as GET, and 405 with the methods a route of its own takes.
  if (tabApi)
    for (const method of ['get', 'head', 'post', 'put', 'patch', 'del'] as const)
      server[method]('/api/tab/*', route('tab-api', (req, res) => tabApi(req, res)));

  server.get(
    '/exports/:token',
    route('exports', async (req, res) => {
      const file = deps.download ? await deps.download(String(req.params.token ?? '')) : undefined;
      if (!file) {
        res.status(404);
        res.json({
          error: 'NotFound',
          message: 'this download link is unknown or has expired; ask the bot for a new export',
        });
        return;
      }
      const safeName = file.filename.replace(/[^\w.-]+/g, '_');
      res.writeHead(200, {
        'content-type': `${file.contentType}; charset=utf-8`,
        'content-disposition': `attachment; filename="${safeName}"`,
        'cache-control': 'no-store',
      });
      // A BOM so Excel opens the UTF-8 CSV with the right characters; never on JSON (RFC 8259 forbids it, and
      // JSON.parse or Python's json refuse the saved `my data` file with one).
      res.end(file.contentType === 'text/csv' ? `\uFEFF${file.content}` : file.content);
    }),
  );

  server.get(
    '/calendar/:token',
    route('calendar', async (req, res) => {
      const file = deps.calendar ? await deps.calendar(String(req.params.token ?? '').slice(0, 200)) : undefined;
      if (!file) {
        res.status(404);
        res.json({ error: 'NotFound', message: 'this calendar link is unknown or has expired; type "office hours" for a new one' });
        return;
      }
      if ('unavailable' in file) {
        // Storage could not record what was served: a moment later it can (the message says why).
        res.header('Retry-After', '30');
        res.status(503);
        res.json({ error: 'Unavailable', message: file.unavailable });
        return;
      }
      const safeName = file.filename.replace(/[^\w.-]+/g, '_');
      res.writeHead(200, { 'content-type': 'text/calendar; charset=utf-8', 'content-disposition': `attachment; filename="${safeName}"`, 'cache-control': 'no-store' });
      res.end(file.content);
    }),
  );

  return server;
}

/** Headers every answer carries (see security-headers.ts): nosniff, and no caching unless a route allows it. */
const STANDARD_HEADERS = { ...NOSNIFF, 'cache-control': 'no-store' } as const;

/** Restify's own refusal (no route matched, or not with this method) → the app's `{error, message}`. */
function refusal(status: number, method: string, allow: ReturnType<Response['getHeader']>): { error: string; message: string } {
  if (status === 404) return { error: 'NotFound', message: 'no such page or API route' };
  if (status === 405) return { error: 'MethodNotAllowed', message: `${method} is not allowed here${allow ? `; use ${String(allow)}` : ''}` };
  if (status >= 500) return { error: 'InternalError', message: 'the request could not be handled' };
  return { error: 'BadRequest', message: STATUS_CODES[status] ?? 'the request could not be handled' };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
