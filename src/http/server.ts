import { readFileSync } from 'node:fs';
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

export interface HttpDeps {
  log: Logger;
  /** Hands a checked activity to the bot; writes the response itself. */
  processActivity(req: Request, res: Response): Promise<void>;
  /** Throws when storage is not reachable. */
  ready(): Promise<void>;
  /** Whether the process can work at all: "down" (e.g. embedded storage that cannot be restarted) → 503. */
  health?(): { status: 'ok' } | { status: 'recovering' | 'down'; reason: string };
  /** A file made for download (e.g. the issue export), by its unguessable token. */
  download?(token: string): Promise<{ filename: string; contentType: string; content: string } | undefined>;
  /** The dashboard tab's API (`/api/tab/*`, see tab-api.ts): it authenticates, checks roles and answers itself. */
  tabApi?(req: Request, res: Response): Promise<void>;
  /** A booked session's calendar file, by its signed, expiring token. */
  calendar?(token: string): Promise<{ filename: string; content: string } | undefined>;
}

/** Why a body is not an activity, or undefined when it looks like one. */
export function activityProblem(body: unknown): string | undefined {
  if (body === undefined || body === null || body === '')
    return 'the body is empty; expected a JSON activity';
  if (typeof body !== 'object' || Array.isArray(body))
    return 'the body is not a JSON object; expected an activity';
  const a = body as Record<string, unknown>;
  if (typeof a.type !== 'string' || !a.type) return 'the activity has no "type"';
  if (typeof a.serviceUrl !== 'string' && a.type !== 'invoke') return 'the activity has no "serviceUrl"';
  if (!a.conversation || typeof a.conversation !== 'object') return 'the activity has no "conversation"';
  if (!a.from || typeof a.from !== 'object') return 'the activity has no "from"';
  return undefined;
}

export function createHttpServer(deps: HttpDeps): Server {
  const server = restify.createServer({ name: 'rollout-desk', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ mapParams: false, maxBodySize: 1024 * 1024 }));

  server.post('/api/messages', async (req: Request, res: Response) => {
    const problem = activityProblem(req.body);
    if (problem) {
      res.status(400);
      res.json({ error: 'BadRequest', message: problem });
      return;
    }
    try {
      await deps.processActivity(req, res);
    } catch (err) {
      deps.log.error({ err }, 'could not process activity');
      if (!res.headersSent) {
        res.status(500);
        res.json({ error: 'InternalError', message: 'the activity could not be processed' });
      }
    }
  });

  server.get('/healthz', async (_req: Request, res: Response) => {
    const health = deps.health?.() ?? { status: 'ok' };
    if (health.status === 'down') {
      res.status(503);
      res.json({ status: 'down', reason: health.reason, uptimeSeconds: Math.round(process.uptime()) });
      return;
    }
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });

  server.get('/readyz', async (_req: Request, res: Response) => {
    try {
      await withTimeout(deps.ready(), 3_000);
      res.json({ status: 'ready', storage: 'ok' });
    } catch (err) {
      res.status(503);
      res.json({ status: 'not ready', storage: err instanceof Error ? err.message : 'unreachable' });
    }
  });

  server.get('/tab/:file', async (req: Request, res: Response) => {
    const file = tabFile(String(req.params.file ?? ''));
    if (!file) {
      res.status(404);
      res.json({ error: 'NotFound', message: 'no such tab file' });
      return;
    }
    res.writeHead(200, { 'content-type': `${file.type}; charset=utf-8`, 'cache-control': 'no-cache' });
    res.end(file.body);
  });

  const tabApi = deps.tabApi;
  if (tabApi) for (const method of ['get', 'post'] as const) server[method]('/api/tab/*', async (req: Request, res: Response) => tabApi(req, res));

  server.get('/exports/:token', async (req: Request, res: Response) => {
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
    // A BOM so Excel opens the UTF-8 CSV with the right characters.
    res.end(`\uFEFF${file.content}`);
  });

  server.get('/calendar/:token', async (req: Request, res: Response) => {
    const file = deps.calendar ? await deps.calendar(String(req.params.token ?? '').slice(0, 200)) : undefined;
    if (!file) {
      res.status(404);
      res.json({ error: 'NotFound', message: 'this calendar link is unknown or has expired; type "office hours" for a new one' });
      return;
    }
    const safeName = file.filename.replace(/[^\w.-]+/g, '_');
    res.writeHead(200, { 'content-type': 'text/calendar; charset=utf-8', 'content-disposition': `attachment; filename="${safeName}"`, 'cache-control': 'no-store' });
    res.end(file.content);
  });

  return server;
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
