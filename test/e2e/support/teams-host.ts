import type { Frame, Page } from 'playwright-core';

/**
 * A stand-in for the Teams client around a tab: a page of the tab's own origin (teams-js accepts its
 * messages, as it does Teams') that frames the tab and answers teams-js's messages — initialize, the
 * context and the SSO token — as the test says. Teams itself cannot run here.
 */
interface HostBehaviour {
  /** The SSO token's answer: a token, or Teams' failure reason (e.g. "resourceRequiresConsent"). */
  token?: { ok: true; token: string } | { ok: false; reason: string };
  /** false: never answer getContext (a Teams client that hangs). */
  context?: boolean;
}

export async function openInTeamsHost(page: Page, appUrl: string, tabPath: string, behaviour: HostBehaviour = {}): Promise<Frame> {
  const host = `${appUrl}/teams-host-stand-in.html`;
  const script = `
    const runtime = JSON.stringify({ apiVersion: 4, isLegacyTeams: false, supports: { app: {}, appEntity: {}, authentication: {}, pages: { appButton: {}, tabs: {}, config: {}, backStack: {}, fullTrust: {} }, teamsCore: {} } });
    const behaviour = ${JSON.stringify(behaviour)};
    window.addEventListener('message', (ev) => {
      const m = ev.data;
      if (!m || typeof m.func !== 'string') return;
      const reply = (args) => ev.source.postMessage({ id: m.id, uuidAsString: m.uuidAsString, args }, '*');
      if (m.func === 'initialize') reply(['content', 'web', runtime, '2.58.0']);
      else if (m.func === 'getContext' && behaviour.context !== false) reply([{ locale: 'en-GB', theme: 'default', frameContext: 'content', hostClientType: 'web', userObjectId: 'aad-host', entityId: 'dashboard' }]);
      else if (m.func === 'authentication.getAuthToken' && behaviour.token) reply(behaviour.token.ok ? [true, behaviour.token.token] : [false, behaviour.token.reason]);
    });`;
  await page.route(host, (r) =>
    r.fulfill({ contentType: 'text/html', body: `<!doctype html><html><body><iframe title="tab" src="${appUrl}${tabPath}" width="1000" height="700"></iframe><script>${script}</script></body></html>` }),
  );
  await page.goto(host);
  const frame = page.frame({ url: (u) => u.pathname === tabPath.split('?')[0] });
  if (!frame) throw new Error('the tab frame did not load');
  return frame;
}
