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
  /** Framed (or hosted) but Teams did not answer: why. */
  failed?: string;
}

const INIT_TIMEOUT_MS = 4000;

function framedOrNative(): boolean {
  // Teams web and desktop frame the tab; Teams mobile hosts it with a native bridge.
  return window.self !== window.top || 'nativeInterface' in window || Boolean(window.opener);
}

export async function connect(onTheme: (theme: string) => void): Promise<Host> {
  if (!framedOrNative()) return { inTeams: false };
  try {
    // The context too: a Teams client that initialises but never gives it would leave the page loading.
    const context = await Promise.race([
      app.initialize().then(() => app.getContext()),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer from Teams')), INIT_TIMEOUT_MS)),
    ]);
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
  } catch (err) {
    return { inTeams: false, failed: err instanceof Error ? err.message : String(err) };
  }
}

/** The Teams SSO token for this app (Teams caches and renews it). */
export function ssoToken(): Promise<string> {
  return authentication.getAuthToken();
}
