import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';

/**
 * Who is calling the tab's API. Inside Teams the tab sends the SSO token from `authentication.getAuthToken`
 * (an Entra ID access token for this app); it is checked here: RS256 signature against the tenant's
 * published keys, audience (this app), issuer and tenant (this tenant only), expiry and not-before, and that
 * it is a person's (delegated, with scopes) rather than an app-only token. In the
 * app's explicit local mode only — no Entra app at all — a demo user named by a header or a query parameter
 * stands in, as the Agents Playground's users do for the bot.
 */

export interface TabIdentity {
  /** The Entra object id: what the role lists and the issue log key people on. */
  aadObjectId: string;
  name: string;
  via: 'sso' | 'demo';
}

export type TabAuthResult = { ok: true; identity: TabIdentity } | { ok: false; message: string };

export interface SsoSettings {
  tenantId: string;
  /** Accepted `aud` values: the app id (v2 tokens) and `api://<domain>/<app id>` (v1 tokens). */
  audiences: string[];
  /** The tenant's signing keys (default https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys). */
  jwksUrl: string;
}

export interface TabAuthenticator {
  readonly mode: 'sso' | 'local';
  authenticate(headers: Record<string, string | string[] | undefined>, query: URLSearchParams): Promise<TabAuthResult>;
}

const BEARER = /^Bearer\s+([\w-]+\.[\w-]+\.[\w-]+)$/i;
const DEMO_ID = /^[\w:.@-]{1,200}$/;

/** Entra ID access tokens, v1 (sts.windows.net) or v2 (login.microsoftonline.com), for one tenant. */
export function ssoAuthenticator(s: SsoSettings): TabAuthenticator {
  const keys = createRemoteJWKSet(new URL(s.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 6 * 3_600_000 });
  const issuers = new Set([`https://login.microsoftonline.com/${s.tenantId}/v2.0`, `https://sts.windows.net/${s.tenantId}/`]);
  return {
    mode: 'sso',
    async authenticate(headers) {
      const header = String(headers.authorization ?? '');
      const token = BEARER.exec(header)?.[1];
      if (!token) return { ok: false, message: 'sign-in needed: send the Teams SSO token as "Authorization: Bearer <token>"' };
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, { algorithms: ['RS256'], audience: s.audiences, clockTolerance: 60, requiredClaims: ['exp', 'tid', 'oid'] }));
      } catch (err) {
        return { ok: false, message: whyRefused(err) };
      }
      if (payload.tid !== s.tenantId) return { ok: false, message: 'the token was issued for another tenant' };
      if (typeof payload.iss !== 'string' || !issuers.has(payload.iss)) return { ok: false, message: 'the token was not issued by this tenant' };
      // A person's token (delegated: it names the scopes granted), never an app's own: any daemon app of the
      // tenant can get an app-only token for this audience, with `roles` and no `scp`.
      if (payload.idtyp === 'app' || typeof payload.scp !== 'string' || !payload.scp.trim())
        return { ok: false, message: 'the token is not a signed-in person’s (an app-only token)' };
      const oid = String(payload.oid);
      const name = [payload.name, payload.preferred_username].find((v): v is string => typeof v === 'string' && v.trim() !== '');
      return { ok: true, identity: { aadObjectId: oid, name: (name ?? 'Someone').slice(0, 120), via: 'sso' } };
    },
  };
}

function whyRefused(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'the token is not for this app';
    if (err.claim === 'nbf') return 'the token is not valid yet';
    return `the token's "${err.claim}" claim is not acceptable`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token’s signature is not valid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token was not signed with a key of this tenant';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token is not signed with RS256';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JOSEError) return 'the token could not be checked';
  return 'the token could not be read';
}

/**
 * Local mode only: `x-demo-user: <id>` (or `?demoUser=<id>`) names who the page runs as; the role comes
 * from the same role lists as in the bot. Never constructed when an Entra app is configured.
 */
export function localAuthenticator(nameOf: (id: string) => Promise<string | undefined>): TabAuthenticator {
  return {
    mode: 'local',
    async authenticate(headers, query) {
      const raw = String(headers['x-demo-user'] ?? query.get('demoUser') ?? '').trim();
      if (!raw) return { ok: false, message: 'local mode: choose a demo user (header x-demo-user or ?demoUser=)' };
      if (!DEMO_ID.test(raw)) return { ok: false, message: 'local mode: that is not a user id' };
      return { ok: true, identity: { aadObjectId: raw, name: (await nameOf(raw)) ?? raw, via: 'demo' } };
    },
  };
}
