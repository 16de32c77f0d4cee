import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for App Service's managed identity endpoint (the `IDENTITY_ENDPOINT` / `IDENTITY_HEADER`
 * protocol, api-version 2019-08-01): the bot, running as `UserAssignedMsi`, gets the tokens it sends to the
 * Teams connector here instead of from Entra ID. It checks the header like the real endpoint does.
 */
export class LocalManagedIdentity {
  private server: Server | undefined;
  readonly header = randomBytes(16).toString('hex');
  /** Every token handed out, with the resource it was for. */
  readonly issued: { clientId: string; resource: string; token: string }[] = [];
  endpoint = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      res.setHeader('content-type', 'application/json');
      if (url.pathname !== '/msi/token') {
        res.statusCode = 404;
        res.end('{}');
        return;
      }
      if (req.headers['x-identity-header'] !== this.header) {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: 'invalid_request', error_description: 'missing or wrong X-IDENTITY-HEADER' }));
        return;
      }
      const resource = url.searchParams.get('resource') ?? '';
      const clientId = url.searchParams.get('client_id') ?? '';
      const token = `msi-${randomBytes(12).toString('hex')}`;
      this.issued.push({ clientId, resource, token });
      res.end(
        JSON.stringify({
          access_token: token,
          expires_on: String(Math.floor(Date.now() / 1000) + 3600),
          resource,
          token_type: 'Bearer',
          client_id: clientId,
        }),
      );
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/msi/token`;
    return this;
  }

  /** The settings App Service gives a web app with a managed identity. */
  env(): Record<string, string> {
    return { IDENTITY_ENDPOINT: this.endpoint, IDENTITY_HEADER: this.header };
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
