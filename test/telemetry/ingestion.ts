import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** One Application Insights envelope, as the exporter sends it (only the fields the tests read). */
export interface Envelope {
  name: string;
  iKey?: string;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: Record<string, unknown> };
}

/**
 * A local stand-in for Application Insights' ingestion endpoint (`IngestionEndpoint` in the connection
 * string): accepts `POST /v2.1/track` (a JSON array of envelopes, gzipped by the exporter), answers like
 * the service (`itemsReceived` / `itemsAccepted`), and keeps the raw text of every payload. The exporter
 * speaks only HTTPS, so it serves a certificate made for 127.0.0.1 that the app is told to trust
 * (`NODE_EXTRA_CA_CERTS`, see `env()`).
 */
export class LocalIngestion {
  private server: Server | undefined;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'rd-ingestion-'));
  readonly payloads: string[] = [];
  readonly envelopes: Envelope[] = [];
  url = '';

  async start(): Promise<this> {
    const key = path.join(this.dir, 'key.pem');
    const cert = path.join(this.dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { stdio: 'ignore', input: '' },
    );
    const tls = { key: readFileSync(key), cert: readFileSync(cert) };
    this.server = createServer(tls, async (req, res) => {
      const body = await read(req);
      if (req.method !== 'POST' || !req.url?.endsWith('/track')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{}');
        return;
      }
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
      this.payloads.push(text);
      let items: Envelope[];
      try {
        const parsed: unknown = JSON.parse(text);
        items = Array.isArray(parsed) ? (parsed as Envelope[]) : [parsed as Envelope];
      } catch {
        items = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Envelope);
      }
      this.envelopes.push(...items);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  /** Settings that send an app's telemetry here. */
  env(instrumentationKey: string): Record<string, string> {
    return {
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${instrumentationKey};IngestionEndpoint=${this.url}`,
      NODE_EXTRA_CA_CERTS: path.join(this.dir, 'cert.pem'),
    };
  }

  ofType(baseType: string): Envelope[] {
    return this.envelopes.filter((e) => e.data?.baseType === baseType);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function read(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
