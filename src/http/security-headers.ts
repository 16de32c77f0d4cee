/**
 * Security headers of the dashboard tab (its pages, files and API). The tab's pages run only their own
 * bundles (tab/*-bundle.js, teams-js served from node_modules: no CDN, no inline script or style), call only
 * their own API, draw charts on canvas, and are framed by Teams and the other Microsoft 365 hosts.
 */

/** Never guess a type other than the one sent (a JSON answer or a .css read as script). */
export const NOSNIFF = { 'x-content-type-options': 'nosniff' } as const;

/**
 * The hosts that frame a Teams tab (msteams-docs "tab requirements": Teams, Microsoft 365, Outlook, and
 * *.cloud.microsoft where they are all moving), plus *.skype.com that older Teams clients frame from.
 */
const TEAMS_FRAME_ANCESTORS = [
  'https://teams.microsoft.com',
  'https://*.teams.microsoft.com',
  'https://*.skype.com',
  'https://*.cloud.microsoft',
  'https://*.microsoft365.com',
  'https://*.office.com',
  'https://outlook.office.com',
  'https://outlook.office365.com',
  'https://outlook-sdf.office.com',
  'https://outlook-sdf.office365.com',
  'https://outlook.live.com',
  'https://teams.live.com',
] as const;

/**
 * The tab's HTML pages. connect-src also names the CDN teams-js asks for its current list of Teams hosts
 * (it falls back to its built-in list when refused, so this only keeps new hosts working). 'self' in
 * frame-ancestors: a page of the app's own origin may frame it (the tests' stand-in for Teams does).
 */
export function tabPageCsp(/** Checked by config (TAB_FRAME_ANCESTORS): CSP host sources only. */ extraFrameAncestors: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self' https://res.cdn.office.net",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors 'self' ${[...TEAMS_FRAME_ANCESTORS, ...extraFrameAncestors].join(' ')}`,
  ].join('; ');
}
