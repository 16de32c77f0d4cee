import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JWTPayload, SignJWT } from 'jose';

/**
 * A local stand-in for Entra ID's key publication: serves a tenant's JWKS (as
 * login.microsoftonline.com/<tenant>/discovery/v2.0/keys does) and mints access tokens the way Teams SSO
 * (`authentication.getAuthToken`) hands them to a tab: RS256, the app as audience, the tenant's issuer.
 */
export class LocalEntraKeys {
  private server: Server | undefined;
  private readonly kid = randomUUID();
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  jwksUrl = '';

  constructor(readonly tenantId: string) {}

  async start(): Promise<this> {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    this.server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/discovery/v2.0/keys') res.end(JSON.stringify({ keys: [{ ...jwk, kid: this.kid, use: 'sig', alg: 'RS256' }] }));
      else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    this.jwksUrl = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/discovery/v2.0/keys`;
    return this;
  }

  /** A v2 access token for `audience` (the app id), for the user `oid`. Options bend one thing at a time. */
  async token(
    audience: string,
    oid: string,
    opts: { tenantId?: string; issuer?: string; expiresInSeconds?: number; key?: 'own' | 'foreign'; claims?: JWTPayload } = {},
  ): Promise<string> {
    const tid = opts.tenantId ?? this.tenantId;
    const key = opts.key === 'foreign' ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey : this.keys.privateKey;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ tid, oid, name: `User ${oid}`, scp: 'access_as_user', ver: '2.0', ...opts.claims })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setIssuer(opts.issuer ?? `https://login.microsoftonline.com/${tid}/v2.0`)
      .setAudience(audience)
      .setIssuedAt(now - 60)
      .setNotBefore(now - 60)
      .setExpirationTime(now + (opts.expiresInSeconds ?? 3600))
      .sign(key);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
