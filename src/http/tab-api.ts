import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { type AdoptionProviders, type AdoptionService, importedNotice, importProgressText, type ImportView, type PulseService } from '../adoption/index.js';
import { MAX_IMPORT_ROWS } from '../adoption/figures.js';
import { readTextCursor, TEXT_CURSOR_MAX, type TextCursor } from '../adoption/pulse.js';
import {
  BOARD_SORTS,
  type Caller,
  type Comment,
  ISSUE_VERBS,
  type IssueService,
  type OpenIssues,
  PRIORITIES,
  type QueueFilters,
  STATUSES,
  type TriageVerb,
} from '../issues/index.js';
import { isEditable, reporterView, TRANSITIONS } from '../issues/rules.js';
import type { Logger } from '../log.js';
import { isStorageUnavailable } from '../storage/call-policy.js';
import { allows, type Permission, PERMISSIONS } from '../roles/permissions.js';
import { type Person, type Role, roleLabel } from '../roles/roles.js';
import { type BodyLimits, readJsonBody } from './body.js';
import { NOSNIFF } from './security-headers.js';
import type { TabAuthenticator, TabIdentity } from './tab-auth.js';

/**
 * The dashboard tab's API (`/api/tab/*`). Every route is declared once in a table with the permission it
 * needs (src/roles/permissions.ts) and, for a panel that another feature fills, the provider it needs; the
 * handler checks, in order: a known route (404), who is calling (401), their role (403), the provider
 * (404), the input (400). Reads come from the adoption aggregates and the issue log's indexes; changes go
 * through the same services as the cards, with the same rules and version checks.
 */

export interface TabApiDeps {
  auth: TabAuthenticator;
  roles: { roleOf(actor: { aadObjectId?: string; id?: string }): Promise<Role> };
  adoption: AdoptionService;
  pulses: PulseService;
  issues: IssueService;
  board: OpenIssues;
  champions: () => Promise<Person[]>;
  log: Logger;
  /** Local mode: the people the page offers to run as (the Agents Playground's users, the configured roles). */
  demoUsers?: () => Promise<{ id: string; name: string; role: Role }[]>;
  /** Issues on a page of the board (production: BOARD_PAGE); tests of paging set it small. */
  boardPageSize?: number;
}

const BOARD_PAGE = 20;

export interface TabContext {
  identity: TabIdentity;
  role: Role;
  caller: Caller;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  requestId: string;
}

export interface TabResult {
  status: number;
  body: unknown;
}

export interface TabRoute {
  method: 'GET' | 'POST';
  /** `/api/tab/issues/:ref`: `:name` matches one path segment. */
  path: string;
  permission: Permission;
  /** The panel's provider (another feature's); without it the route answers 404. */
  provider?: keyof AdoptionProviders;
  /** A larger body limit than MAX_BODY (an upload), and what to call the body in the refusal ("the file"). */
  upload?: { maxBytes: number; what: string; advice: string };
  handle(ctx: TabContext): Promise<TabResult>;
}

const ok = (body: unknown): TabResult => ({ status: 200, body });
const bad = (message: string): TabResult => ({ status: 400, body: { error: 'BadRequest', message } });
const MAX_BODY = 256 * 1024;
/** A CSV import's body: MAX_CSV_CHARS of text, JSON-quoted (a 10,000-row export is some 400 KB). */
const MAX_IMPORT_BODY = 1024 * 1024;

const intParam = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      // Plain digits only: Number() would also read "0x10", "1e3" and " 1".
      const n = /^\d{1,7}$/.test(v) ? Number(v) : Number.NaN;
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

/** A free-text page's cursor (pulse.ts textCursor), read back. */
const textCursorParam = z
  .string()
  .max(TEXT_CURSOR_MAX)
  .optional()
  .transform((v, ctx): TextCursor | undefined => {
    if (v === undefined) return undefined;
    const cursor = readTextCursor(v);
    if (!cursor) {
      ctx.addIssue({ code: 'custom', message: 'is not a position this list gave; reload the dashboard' });
      return z.NEVER;
    }
    return cursor;
  });

const boardQuery = z.object({
  status: z.enum(STATUSES).optional(),
  category: z.string().trim().min(1).max(80).optional(),
  site: z.string().trim().min(1).max(80).optional(),
  assignee: z.string().trim().min(1).max(200).optional(),
  priority: z.enum([...PRIORITIES, 'none']).optional(),
  q: z.string().max(100).optional(),
  sort: z.enum(BOARD_SORTS).optional().default('queue'),
  page: intParam(0, 1000, 0),
  /** The board (open issues): the `next` of the page before. Far longer than any the board gives is refused. */
  after: z.string().max(512, 'is longer than any position the board gives; reload the board').optional(),
  token: z.string().max(2048).optional(),
});

const TRIAGE_KINDS = ['assignMe', 'assign', 'status', 'priority', 'comment', 'duplicate'] as const satisfies readonly TriageVerb[];
const triageBody = z.object({ kind: z.enum(TRIAGE_KINDS) }).passthrough();
/** The issue's version as the board showed it: a whole number, or its digits (as a card sends it). */
const tabVersion = z.union([z.number().int().min(1), z.string().regex(/^\d{1,9}$/)]);
/** `decimalComma`: the reader's locale writes decimals with a comma; the value is sent as typed, for checkFigure to read. */
const figureBody = z.object({ measure: z.string().max(200), date: z.string().max(40), value: z.union([z.string().max(100), z.number()]), decimalComma: z.boolean().optional() });
// As long as the body allows: a CSV past MAX_CSV_CHARS is told to be split by the service, not refused as malformed.
const importBody = z.object({ csv: z.string().max(MAX_IMPORT_BODY) });

/** The query's parameters; one left blank (a filter box with only spaces in it) is no filter at all. */
function queryObject(q: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of q) if (v.trim() !== '') out[k] = v;
  return out;
}

/** A parameter given twice ("status=new&status=closed"): no route takes a list, so none is picked silently. */
function repeatedParam(q: URLSearchParams): string | undefined {
  const seen = new Set<string>();
  for (const k of q.keys()) {
    if (seen.has(k)) return k;
    seen.add(k);
  }
  return undefined;
}

function firstProblem(err: z.ZodError): string {
  const issue = err.issues[0];
  return issue ? `${issue.path.join('.') || 'input'}: ${issue.message}` : 'the input is not valid';
}

/**
 * How many comments the detail carries: an issue's thread has no limit of its own (only the row's size), so the
 * newest come with the issue and older ones a page at a time ("Show older comments").
 */
const COMMENT_PAGE = 50;

/**
 * The newest COMMENT_PAGE of `comments` (those the reader may see) before the one with id `before`, oldest first.
 * `olderComments`: the id to ask from for the page before, null at the first comment. The position is a comment's
 * id, not a count, so comments added between pages shift nothing. Undefined: `before` is none of these.
 */
function commentPage(comments: readonly Comment[], before?: string) {
  const end = before === undefined ? comments.length : comments.findIndex((c) => c.id === before);
  if (end < 0) return undefined;
  const start = Math.max(0, end - COMMENT_PAGE);
  return {
    comments: comments.slice(start, end).map((c) => ({ id: c.id, at: c.at, by: c.by.name, text: c.text, visibility: c.visibility })),
    commentCount: comments.length,
    olderComments: start > 0 ? comments[start]!.id : null,
  };
}

/** An issue as the board's detail pane shows it; a reporter's own view leaves out internal comments. */
function issueView(issue: ReturnType<typeof reporterView>, audience: 'reporter' | 'champion') {
  const shown = audience === 'champion' ? issue : reporterView(issue);
  return {
    ref: shown.ref,
    title: shown.title,
    description: shown.description,
    location: shown.location,
    category: shown.category,
    site: shown.site,
    severity: shown.severity,
    status: shown.status,
    priority: shown.priority,
    assignee: shown.assignee,
    reporter: { name: shown.reporter.name },
    affectedCount: shown.affected.length,
    createdAt: shown.createdAt,
    updatedAt: shown.updatedAt,
    version: shown.version,
    ...commentPage(shown.comments)!,
    transitions: audience === 'champion' ? TRANSITIONS[shown.status] : [],
    /** False for a Closed issue: the board offers no priority or assignee for it (the service refuses them). */
    editable: audience === 'champion' && isEditable(shown),
  };
}

/** Every route of the tab's API, with the permission it needs. */
export function tabRoutes(d: TabApiDeps): TabRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/tab/me',
      permission: 'everyone',
      handle: async (ctx) =>
        ok({
          user: { id: ctx.identity.aadObjectId, name: ctx.identity.name },
          role: ctx.role,
          roleLabel: roleLabel(ctx.role),
          via: ctx.identity.via,
          local: d.auth.mode === 'local',
          can: Object.fromEntries(Object.keys(PERMISSIONS).map((p) => [p, allows(ctx.role, p as Permission)])),
          panels: d.adoption.overviewPanels(),
          categories: d.issues.categories,
          minAnswers: d.pulses.minAnswers,
        }),
    },
    {
      method: 'GET',
      path: '/api/tab/overview',
      permission: 'adoption.view',
      handle: async (ctx) => {
        const q = z.object({ weeks: intParam(2, 52, 0) }).safeParse(queryObject(ctx.query));
        if (!q.success) return bad(firstProblem(q.error));
        const overview = await d.adoption.overview(q.data.weeks || undefined);
        // Whose figure a figure replaced is for the rollout team, who enter them; others see the figures alone.
        if (allows(ctx.role, 'adoption.measures')) return ok(overview);
        return ok({ ...overview, measures: overview.measures.map((m) => (m.latest ? { ...m, latest: { value: m.latest.value, date: m.latest.date } } : m)) });
      },
    },
    {
      // Aggregate figures over the overview's weeks: staff see them too, as they see the overview.
      method: 'GET',
      path: '/api/tab/issue-flow',
      permission: 'adoption.view',
      handle: async () => ok(await d.adoption.issueFlow()),
    },
    {
      method: 'GET',
      path: '/api/tab/issues',
      permission: 'issues.readOwn',
      handle: async (ctx) => {
        const q = boardQuery.safeParse(queryObject(ctx.query));
        if (!q.success) return bad(firstProblem(q.error));
        // Staff see their own issues only, whatever they ask for.
        if (!allows(ctx.role, 'issues.readAll')) {
          const page = await d.issues.list(ctx.caller, 'mine', { token: q.data.token ?? null });
          return ok({ mode: 'mine', items: page?.items ?? [], next: page?.next ?? null });
        }
        const filters: QueueFilters = {
          ...(q.data.status ? { status: q.data.status } : {}),
          ...(q.data.category ? { category: q.data.category } : {}),
          ...(q.data.site ? { site: q.data.site } : {}),
          ...(q.data.assignee ? { assigneeId: q.data.assignee === 'me' ? ctx.caller.person.id : q.data.assignee } : {}),
        };
        if (q.data.status && ['resolved', 'closed', 'wont_fix', 'duplicate'].includes(q.data.status)) {
          // The same search, priority and order as the open board, applied to the done issues.
          const narrow = { ...(q.data.priority ? { priority: q.data.priority } : {}), ...(q.data.q?.trim() ? { search: q.data.q } : {}), sort: q.data.sort };
          const page = await d.issues.list(ctx.caller, 'triage', { token: q.data.token ?? null, filters, narrow });
          return ok({ mode: 'archive', sort: q.data.sort, items: page?.items ?? [], next: page?.next ?? null, truncated: page?.truncated ?? false, ...(page?.sorted !== undefined ? { sorted: page.sorted } : {}) });
        }
        const page = await d.board.board({
          filters: { ...filters, ...(q.data.priority ? { priority: q.data.priority } : {}) },
          search: q.data.q,
          sort: q.data.sort,
          page: q.data.page,
          pageSize: d.boardPageSize ?? BOARD_PAGE,
          ...(q.data.after ? { after: q.data.after } : {}),
        });
        // A cursor the board did not give (forged, or from another order) starts it again: say it is page 1.
        const { restarted, ...shown } = page;
        return ok({ mode: 'board', page: restarted ? 0 : q.data.page, pageSize: d.boardPageSize ?? BOARD_PAGE, ...shown });
      },
    },
    {
      method: 'GET',
      path: '/api/tab/issues/:ref',
      permission: 'issues.readOwn',
      handle: async (ctx) => {
        const res = await d.issues.view(ctx.caller, ctx.params.ref ?? '');
        if (res.kind === 'message') return { status: 404, body: { error: 'NotFound', message: res.text } };
        return ok(issueView(res.issue, res.audience));
      },
    },
    {
      method: 'GET',
      path: '/api/tab/issues/:ref/comments',
      permission: 'issues.readOwn',
      handle: async (ctx) => {
        const q = z.object({ before: z.string().max(40).optional() }).safeParse(queryObject(ctx.query));
        if (!q.success) return bad(firstProblem(q.error));
        // The same check as the detail: staff read only their own issues, and of those the public comments.
        const res = await d.issues.view(ctx.caller, ctx.params.ref ?? '');
        if (res.kind === 'message') return { status: 404, body: { error: 'NotFound', message: res.text } };
        const shown = res.audience === 'champion' ? res.issue : reporterView(res.issue);
        const page = commentPage(shown.comments, q.data.before);
        return page ? ok(page) : bad('before: is not a comment of this issue; reload the issue');
      },
    },
    {
      method: 'POST',
      path: '/api/tab/issues/:ref/triage',
      permission: 'issues.triage',
      handle: async (ctx) => {
        const head = triageBody.safeParse(ctx.body);
        if (!head.success) return bad(firstProblem(head.error));
        const { kind, ...rest } = head.data;
        // The version the board showed is what keeps a change from overwriting someone else's: without one,
        // say so plainly (the verb's own schema would answer "expected number, received NaN").
        if (!tabVersion.safeParse(rest.version).success) return bad('version is required: reload the issue');
        const data = ISSUE_VERBS[kind].data.safeParse({ ...rest, ref: ctx.params.ref });
        if (!data.success) return bad(firstProblem(data.error));
        const res = await d.issues.triage(ctx.caller, kind, data.data, ctx.requestId);
        if (res.kind === 'message') return { status: 404, body: { error: 'NotFound', message: res.text } };
        // Input that cannot apply to any issue (nothing was tried): the request's fault, not a conflict.
        if (res.invalidField) return { status: 400, body: { error: 'BadRequest', field: res.invalidField, message: `${res.invalidField}: ${res.notice ?? 'is not valid'}` } };
        const view = issueView(res.issue, 'champion');
        // A notice means nothing was applied: someone changed it first, or the change does not apply.
        if (res.notice) return { status: 409, body: { error: 'Conflict', message: res.notice, issue: view } };
        if (res.unfinished) {
          // Saved: the lists and notices are finished by the next action on the issue.
          d.log.warn({ err: res.unfinished.failed, ref: res.issue.ref, action: kind, via: 'tab' }, 'issue change saved; its follow-ups did not finish');
          return ok({ issue: view, message: res.unfinished.message });
        }
        d.log.info({ ref: res.issue.ref, action: kind, via: 'tab' }, 'issue updated');
        return ok({ issue: view });
      },
    },
    {
      method: 'GET',
      path: '/api/tab/champions',
      permission: 'issues.triage',
      handle: async () => ok({ champions: await d.champions() }),
    },
    {
      method: 'GET',
      path: '/api/tab/questions',
      permission: 'faq.gaps',
      handle: async (ctx) => {
        const q = z.object({ days: intParam(1, 90, 30) }).safeParse(queryObject(ctx.query));
        if (!q.success) return bad(firstProblem(q.error));
        return ok(await d.adoption.questions(q.data.days));
      },
    },
    {
      method: 'GET',
      path: '/api/tab/pulse',
      permission: 'adoption.pulse.results',
      provider: 'pulse',
      handle: async () => ok(await d.adoption.providers.pulse!.pulse(d.adoption.dayRange(365))),
    },
    {
      method: 'GET',
      path: '/api/tab/pulse/:id/texts',
      permission: 'adoption.pulse.results',
      provider: 'pulse',
      handle: async (ctx) => {
        // The Pulse panel carries a page of each free-text question's answers; the rest come a page at a time.
        // `after`: the `next` of the page before (a position in the shown order, not a count, so answers that
        // come in between pages are neither repeated nor skipped).
        const q = z.object({ question: z.enum(['q1', 'q2', 'q3']), after: textCursorParam }).safeParse(queryObject(ctx.query));
        if (!q.success) return bad(firstProblem(q.error));
        const page = await d.pulses.texts({ person: ctx.caller.person, role: ctx.role }, ctx.params.id ?? '', q.data.question, q.data.after);
        return page ? ok(page) : { status: 404, body: { error: 'NotFound', message: 'no such pulse or free-text question' } };
      },
    },
    {
      method: 'GET',
      path: '/api/tab/communications',
      permission: 'adoption.communications',
      provider: 'communications',
      handle: async () => ok(await d.adoption.providers.communications!.communications(d.adoption.panelRange())),
    },
    {
      method: 'GET',
      path: '/api/tab/officehours',
      permission: 'adoption.officeHours',
      provider: 'officeHours',
      handle: async () => ok(await d.adoption.providers.officeHours!.officeHours(d.adoption.panelRange())),
    },
    {
      method: 'POST',
      path: '/api/tab/figures',
      permission: 'adoption.measures',
      handle: async (ctx) => {
        const b = figureBody.safeParse(ctx.body);
        if (!b.success) return bad(firstProblem(b.error));
        const { decimalComma, ...input } = b.data;
        // A number sent as a number is the point's, whatever the reader's locale.
        const decimals = decimalComma && typeof input.value === 'string' ? 'comma-locale' : 'point';
        const res = await d.adoption.enterFigure({ person: ctx.caller.person, role: ctx.role }, { ...input, value: String(input.value) }, 'tab', decimals);
        return res.ok ? ok({ saved: res.saved, replaced: res.replaced }) : { status: 422, body: { error: 'Invalid', message: res.message } };
      },
    },
    {
      method: 'POST',
      path: '/api/tab/figures/import',
      permission: 'adoption.measures',
      upload: { maxBytes: MAX_IMPORT_BODY, what: 'the file', advice: `split it into files of at most ${MAX_IMPORT_ROWS.toLocaleString('en-US')} figures, or check that it is the right file` },
      handle: async (ctx) => {
        const b = importBody.safeParse(ctx.body);
        if (!b.success) return bad(firstProblem(b.error));
        const res = await d.adoption.importFigures({ person: ctx.caller.person, role: ctx.role }, b.data.csv, 'tab');
        if (!res.ok) return { status: 422, body: { error: 'Invalid', message: res.message, errors: res.errors ?? [] } };
        if ('staged' in res) {
          // Checked and staged: written off the request; the tab follows it at GET figures/import/:id.
          d.adoption.startImport(res.staged.id);
          return { status: 202, body: importAnswer(res.staged) };
        }
        return ok({ saved: res.saved, replaced: res.replaced, replacedCount: res.replaced.length, message: importedNotice(res.saved, res.replaced.length, res.replaced) });
      },
    },
    {
      method: 'GET',
      path: '/api/tab/figures/import/:id',
      permission: 'adoption.measures',
      handle: async (ctx) => {
        const view = await d.adoption.importStatus({ person: ctx.caller.person, role: ctx.role }, ctx.params.id ?? '');
        return view ? ok(importAnswer(view)) : { status: 404, body: { error: 'NotFound', message: 'no such import' } };
      },
    },
  ];
}

/** A large import as the tab shows it: how far, and at the end the same words as the card. */
function importAnswer(v: ImportView) {
  return { import: { id: v.id, state: v.state, total: v.total, written: v.written, replacedCount: v.replacedCount, replaced: v.replaced }, message: importProgressText(v) };
}

/** `/api/tab/issues/:ref` against a path → its params, or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/');
  const a = path.split('/');
  if (p.length !== a.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (seg.startsWith(':')) {
      if (!a[i]) return undefined;
      try {
        params[seg.slice(1)] = decodeURIComponent(a[i]!);
      } catch {
        return undefined;
      }
    } else if (seg !== a[i]) return undefined;
  }
  return params;
}

/** The tab's bodies are a form's fields or a CSV to import: far below this, and a few levels deep. */
const BODY_LIMITS: BodyLimits = { maxBytes: MAX_BODY, maxDepth: 16 };

const kb = (bytes: number) => Math.ceil(bytes / 1024).toLocaleString('en-US');

async function readBody(
  req: IncomingMessage & { body?: unknown },
  upload: TabRoute['upload'],
): Promise<{ ok: true; value: unknown } | { ok: false; status: number; error: string; message: string }> {
  if (req.method !== 'POST') return { ok: true, value: undefined };
  // A body parser in front of this handler may have read it already.
  if (req.body !== undefined) return { ok: true, value: typeof req.body === 'string' ? safeJson(req.body) : req.body };
  // The shared bounded reader: a refused upload's rest is read and dropped, so the answer reaches the browser
  // (cutting the socket mid-upload made every other too-large import a "could not be reached").
  const limit = upload?.maxBytes ?? MAX_BODY;
  const body = await readJsonBody(req, { ...BODY_LIMITS, maxBytes: limit });
  if (body.ok) return { ok: true, value: body.value ?? {} };
  if (body.status === 413) {
    // Said in the reader's terms: how big it is (when the request declared it) against the limit, and what to do.
    const what = upload?.what ?? 'the request';
    const declared = Number(req.headers['content-length']);
    const size = Number.isFinite(declared) && declared > limit ? `${what} is ${kb(declared)} KB` : `${what} is over ${kb(limit)} KB`;
    const advice = upload?.advice ?? 'send less at a time';
    return { ok: false, status: 413, error: 'PayloadTooLarge', message: `${size[0]!.toUpperCase()}${size.slice(1)}; the limit is ${kb(limit)} KB: ${advice}.` };
  }
  return { ok: false, status: body.status, error: 'BadRequest', message: body.message };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...NOSNIFF, ...headers });
  res.end(JSON.stringify(body));
}

/** The HTTP handler for every `/api/tab/*` request (the server passes it in; see createHttpServer). */
export function createTabApi(d: TabApiDeps, routes: TabRoute[] = tabRoutes(d)) {
  return async (req: IncomingMessage & { body?: unknown }, res: ServerResponse): Promise<void> => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      // HEAD is answered as GET; Node leaves the body out.
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const path = url.pathname.replace(/\/+$/, '');
      const onPath = routes.flatMap((r) => {
        const params = matchPath(r.path, path);
        return params ? [{ r, params }] : [];
      });
      const found = onPath.find((m) => m.r.method === method);
      if (!found) {
        if (!onPath.length) return send(res, 404, { error: 'NotFound', message: 'no such API route' });
        // A known route asked with another method: say which it takes, as restify does for the other routes.
        const allow = [...new Set(onPath.flatMap((m) => (m.r.method === 'GET' ? ['GET', 'HEAD'] : [m.r.method])))].sort().join(', ');
        return send(res, 405, { error: 'MethodNotAllowed', message: `${req.method} is not allowed here; use ${allow}` }, { allow });
      }
      const { r: route, params } = found;
      const auth = await d.auth.authenticate(req.headers, url.searchParams);
      if (!auth.ok) {
        const local = d.auth.mode === 'local';
        return send(
          res,
          401,
          { error: 'Unauthorized', message: auth.message, local, ...(local && d.demoUsers ? { demoUsers: await d.demoUsers() } : {}) },
          local ? {} : { 'www-authenticate': 'Bearer' },
        );
      }
      const identity = auth.identity;
      const role = await d.roles.roleOf({ aadObjectId: identity.aadObjectId, id: identity.aadObjectId });
      if (!allows(role, route.permission)) {
        d.log.warn({ route: route.path, role }, 'tab API refused: role too low');
        return send(res, 403, { error: 'Forbidden', message: `${roleLabel(role)} cannot use this; it needs ${PERMISSIONS[route.permission] === 'rolloutTeam' ? 'the rollout team' : 'a champion or the rollout team'}.` });
      }
      if (route.provider && !d.adoption.providers[route.provider]) {
        return send(res, 404, { error: 'NotFound', message: 'this panel has no data source yet' });
      }
      const twice = repeatedParam(url.searchParams);
      if (twice) return send(res, 400, { error: 'BadRequest', message: `${twice.slice(0, 40)}: given more than once; give it once` });
      const body = await readBody(req, route.upload);
      if (!body.ok) return send(res, body.status, { error: body.error, message: body.message });
      const person: Person = { id: identity.aadObjectId, name: identity.name };
      const caller: Caller = { person, reporter: { ...person, aadObjectId: identity.aadObjectId, conversationKey: person.id }, role };
      const requestId = String(req.headers['x-request-id'] ?? '').slice(0, 100) || randomUUID();
      // The client picks the id, so it is scoped by who is calling: another person's id can never make this
      // person's change read as an already-done repeat.
      const scoped = `tab|${identity.aadObjectId.toLowerCase()}|${requestId}`;
      const out = await route.handle({ identity, role, caller, params, query: url.searchParams, body: body.value, requestId: scoped });
      send(res, out.status, out.body);
    } catch (err) {
      if (isStorageUnavailable(err)) {
        // Passing, not a fault of this request: the board says to try again rather than "could not be handled".
        d.log.warn({ err }, 'tab API request: storage is not answering');
        return send(res, 503, { error: 'StorageUnavailable', message: 'Storage is not answering right now. Try again in a moment.' }, { 'retry-after': '10' });
      }
      d.log.error({ err }, 'tab API request failed');
      send(res, 500, { error: 'InternalError', message: 'the request could not be handled' });
    }
  };
}
