import type { AddressInfo } from 'node:net';
import type { Server } from 'restify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/http/server.js';
import { createTabApi, type TabApiDeps } from '../../src/http/tab-api.js';
import { createLogger } from '../../src/log.js';

/*
 * The tab's pages, files and API carry security headers: nosniff everywhere, and on the HTML pages a
 * Content-Security-Policy that lets the page load only its own scripts and styles, call only its own API,
 * and be framed only by Teams / Microsoft 365 (and the configured extra hosts).
 */

let server: Server;
let url: string;

beforeAll(async () => {
  const auth = { mode: 'sso', authenticate: async () => ({ ok: false, message: 'no token' }) } as unknown as TabApiDeps['auth'];
  const tabApi = createTabApi({ auth, log: createLogger('silent') } as unknown as TabApiDeps);
  server = createHttpServer({
    log: createLogger('silent'),
    processActivity: async () => ({ status: 200 }),
    ready: async () => {},
    tabApi: (req, res) => tabApi(req, res),
    tabFrameAncestors: ['https://dev-host.example:8443'],
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.close();
});

/** A CSP header → its directives, each a list of sources. */
function directives(csp: string | null): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of (csp ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name] = sources;
  }
  return out;
}

describe('the tab’s security headers', () => {
  it('serves both HTML pages with nosniff and a CSP: own scripts, styles and API only, framed only by Teams and Microsoft 365', async () => {
    for (const page of ['index.html', 'config.html']) {
      const res = await fetch(`${url}/tab/${page}`);
      expect(res.status, page).toBe(200);
      expect(res.headers.get('x-content-type-options'), page).toBe('nosniff');
      const csp = directives(res.headers.get('content-security-policy'));
      expect(csp['default-src'], page).toEqual(["'none'"]);
      expect(csp['script-src'], page).toEqual(["'self'"]);
      expect(csp['style-src'], page).toEqual(["'self'"]);
      expect(csp['connect-src'], page).toContain("'self'");
      expect(csp['img-src'], page).toEqual(["'self'", 'data:']);
      expect(csp['object-src'], page).toEqual(["'none'"]);
      expect(csp['base-uri'], page).toEqual(["'none'"]);
      expect(csp['frame-ancestors'], page).toEqual(
        expect.arrayContaining([
          "'self'",
          'https://teams.microsoft.com',
          'https://*.teams.microsoft.com',
          'https://*.skype.com',
          'https://*.cloud.microsoft',
          'https://*.office.com',
          'https://outlook.office.com',
          'https://outlook.office365.com',
          'https://*.microsoft365.com',
          'https://dev-host.example:8443',
        ]),
      );
      // Nothing else: no wildcard host, no plain http.
      expect(csp['frame-ancestors']!.filter((s) => s === '*' || s.startsWith('http:')), page).toEqual([]);
    }
  });

  it('serves the scripts, the stylesheet, an unknown file and the API with nosniff', async () => {
    for (const path of ['/tab/dashboard-bundle.js', '/tab/config-bundle.js', '/tab/teams-js.js', '/tab/tab.css', '/tab/nothing.html', '/api/tab/me', '/api/tab/nothing']) {
      const res = await fetch(`${url}${path}`);
      expect(res.headers.get('x-content-type-options'), `${path} (${res.status})`).toBe('nosniff');
    }
    expect((await fetch(`${url}/api/tab/me`)).status).toBe(401);
  });
});
