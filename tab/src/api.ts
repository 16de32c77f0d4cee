/**
 * Calls to the tab's API (`/api/tab/*`) as the signed-in person: the Teams SSO token inside Teams, or in
 * the server's local demo mode the chosen demo user.
 */

export type Credentials = { kind: 'sso'; token: () => Promise<string> } | { kind: 'demo'; userId: string };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

let credentials: Credentials | undefined;

/**
 * What to tell the reader when a call failed. A sign-in refused once the page is open (the token expired, or
 * Teams would not renew it) says how to get past it; the server's reason alone ("the token has expired") did not.
 */
export function problem(err: unknown, fallback: string): string {
  if (!(err instanceof ApiError)) return fallback;
  // Local demo mode has no sign-in to renew: its refusal says which demo user to choose.
  if (err.status === 401 && err.body.local !== true) return `Your sign-in is no longer accepted (${err.message.replace(/\.$/, '')}). Reload the tab to sign in again.`;
  return err.message;
}

export function useCredentials(c: Credentials): void {
  credentials = c;
}

/** How long a call may take, sign-in included: past it the page says so instead of loading for ever. */
const CALL_TIMEOUT_MS = 20_000;

async function headers(): Promise<Record<string, string>> {
  if (!credentials) return {};
  if (credentials.kind === 'demo') return { 'x-demo-user': credentials.userId };
  let token: string;
  try {
    token = await credentials.token();
  } catch (err) {
    // teams-js rejects with a reason string or an Error (consent needed, SSO not set up for the app, …).
    const reason = err instanceof Error ? err.message : String(err);
    throw new ApiError(401, `Teams could not sign you in (${reason.slice(0, 200)})`, { sso: true });
  }
  return { authorization: `Bearer ${token}` };
}

/** The message of an answer that is not ours (a proxy's or the platform's HTML error page): its status only. */
function statusMessage(res: Response): string {
  if (res.status === 502 || res.status === 503 || res.status === 504) return `The server is not answering right now (${res.status}). Try again in a moment.`;
  return `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}. Try again in a moment.`;
}

export async function call<T>(path: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<T> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), CALL_TIMEOUT_MS);
  try {
    return await send<T>(path, init, abort.signal);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (abort.signal.aborted) throw new ApiError(0, 'The server did not answer in time. Try again in a moment.', {});
    throw new ApiError(0, 'The server could not be reached. Check your connection and try again.', {});
  } finally {
    clearTimeout(timer);
  }
}

async function send<T>(path: string, init: { method?: 'GET' | 'POST'; body?: unknown }, signal: AbortSignal): Promise<T> {
  const auth = await Promise.race([
    headers(),
    // Still waiting for the token at the deadline: Teams, not the server, did not answer.
    new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(new ApiError(401, 'Teams did not give a sign-in token in time', { sso: true })), { once: true }),
    ),
  ]);
  const res = await fetch(`/api/tab/${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...auth,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.method === 'POST' ? { 'x-request-id': crypto.randomUUID() } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal,
  });
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const message = typeof body?.message === 'string' && body.message ? body.message : statusMessage(res);
    throw new ApiError(res.status, message, body ?? {});
  }
  if (!body) throw new ApiError(res.status, 'The server’s answer could not be read. Try again in a moment.', {});
  return body as T;
}
