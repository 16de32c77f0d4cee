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

export function useCredentials(c: Credentials): void {
  credentials = c;
}

async function headers(): Promise<Record<string, string>> {
  if (!credentials) return {};
  if (credentials.kind === 'demo') return { 'x-demo-user': credentials.userId };
  return { authorization: `Bearer ${await credentials.token()}` };
}

export async function call<T>(path: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`/api/tab/${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(await headers()),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.method === 'POST' ? { 'x-request-id': crypto.randomUUID() } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, String(body.message ?? res.statusText), body);
  return body as T;
}
