import { app, pages } from '@microsoft/teams-js';

/**
 * The channel tab's configuration page: Teams shows it when someone adds Rollout Desk to a channel, and
 * Save pins the dashboard there.
 */
const INIT_TIMEOUT_MS = 4000;

async function configure(): Promise<void> {
  const status = document.getElementById('status')!;
  if (window.self === window.top) {
    status.textContent = 'This page is for adding the dashboard to a Teams channel; open it from Teams.';
    return;
  }
  try {
    // Framed by a page that is not Teams (or Teams not answering), initialize never settles.
    await Promise.race([
      app.initialize(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer from Teams')), INIT_TIMEOUT_MS)),
    ]);
    pages.config.registerOnSaveHandler((save) => {
      const base = `${location.origin}/tab/index.html`;
      pages.config
        .setConfig({ contentUrl: base, websiteUrl: base, entityId: 'dashboard', suggestedDisplayName: 'Adoption dashboard' })
        .then(
          () => save.notifySuccess(),
          (err: unknown) => save.notifyFailure(String(err)),
        );
    });
    pages.config.setValidityState(true);
    status.textContent = 'Press Save to add the adoption dashboard to this channel.';
  } catch (err) {
    status.textContent = `Could not talk to Teams (${err instanceof Error ? err.message : String(err)}). Open this page from Teams: add the Rollout Desk app to a channel from the channel's + (Add a tab).`;
  }
}

void configure();
