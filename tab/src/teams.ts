import { app, authentication } from '@microsoft/teams-js';

/**
 * Teams, when the page runs inside it: the context (who, where, theme, locale), theme changes, and the SSO
 * token. In a plain browser there is no host to talk to, and the page says so.
 */

export interface Host {
  inTeams: boolean;
  user?: { name?: string; id?: string };
  theme?: string;
  locale?: string;
  /** A channel tab: the team and channel it is pinned in. */
  channel?: string;
  frameContext?: string;
}

const INIT_TIMEOUT_MS = 4000;

function framedOrNative(): boolean {
  // Teams web and desktop frame the tab; Teams mobile hosts it with a native bridge.
  return window.self !== window.top || 'nativeInterface' in window || Boolean(window.opener);
}

export async function connect(onTheme: (theme: string) => void): Promise<Host> {
  if (!framedOrNative()) return { inTeams: false };
  try {
    await Promise.race([
      app.initialize(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer from Teams')), INIT_TIMEOUT_MS)),
    ]);
    const context = await app.getContext();
    app.registerOnThemeChangeHandler(onTheme);
    void app.notifySuccess();
    return {
      inTeams: true,
      user: { name: context.user?.displayName, id: context.user?.id },
      theme: context.app.theme,
      locale: context.app.locale,
      channel: context.channel?.displayName,
      frameContext: context.page.frameContext,
    };
  } catch {
    return { inTeams: false };
  }
}

/** The Teams SSO token for this app (Teams caches and renews it). */
export function ssoToken(): Promise<string> {
  return authentication.getAuthToken();
}
