import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

/**
 * A local stand-in for Bot Framework's token service: it publishes OpenID metadata and a JWKS with a key it
 * generated, and mints RS256 channel tokens the way the Bot Connector signs them.
 */
export class LocalTokenService {
  private server: Server | undefined;
  private readonly kid = randomUUID();
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  metadataUrl = '';

  async start(): Promise<this> {
    const jwk = this.keys.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    this.server = createServer((req, res) => {
      const base = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/.well-known/openidconfiguration') {
        res.end(JSON.stringify({ issuer: 'https://api.botframework.com', jwks_uri: `${base}/v1/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
      } else if (req.url === '/v1/keys') {
        res.end(JSON.stringify({ keys: [{ kty: 'RSA', use: 'sig', kid: this.kid, n: jwk.n, e: jwk.e, endorsements: ['msteams'] }] }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    this.metadataUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/.well-known/openidconfiguration`;
    return this;
  }

  /** A channel token for `appId`, bound to the activity's serviceUrl, as Teams would send it. */
  token(
    appId: string,
    serviceUrl: string,
    opts: { expiresInSeconds?: number; key?: 'own' | 'foreign'; issuer?: string; notBeforeSeconds?: number } = {},
  ): string {
    const key = opts.key === 'foreign' ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey : this.keys.privateKey;
    return jwt.sign({ serviceurl: serviceUrl }, key.export({ format: 'pem', type: 'pkcs8' }), {
      algorithm: 'RS256',
      keyid: this.kid,
      audience: appId,
      issuer: opts.issuer ?? 'https://api.botframework.com',
      expiresIn: opts.expiresInSeconds ?? 600,
      ...(opts.notBeforeSeconds ? { notBefore: opts.notBeforeSeconds } : {}),
    });
  }

  /**
   * A token forged without the private key: `alg: none` (no signature), or HS256 signed with the published
   * public key as the HMAC secret (the classic algorithm-confusion attack).
   */
  forged(appId: string, serviceUrl: string, how: 'none' | 'hs256-public-key'): string {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const payload = b64({ serviceurl: serviceUrl, aud: appId, iss: 'https://api.botframework.com', iat: now, exp: now + 600 });
    if (how === 'none') return `${b64({ alg: 'none', typ: 'JWT', kid: this.kid })}.${payload}.`;
    const header = b64({ alg: 'HS256', typ: 'JWT', kid: this.kid });
    const secret = this.keys.publicKey.export({ format: 'pem', type: 'spki' });
    const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${sig}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
