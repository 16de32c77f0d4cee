import { app, pages } from '@microsoft/teams-js';

/**
 * The channel tab's configuration page: Teams shows it when someone adds Rollout Desk to a channel, and
 * Save pins the dashboard there.
 */
async function configure(): Promise<void> {
  const status = document.getElementById('status')!;
  if (window.self === window.top) {
    status.textContent = 'This page is for adding the dashboard to a Teams channel; open it from Teams.';
    return;
  }
  try {
    await app.initialize();
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
    status.textContent = `Could not talk to Teams: ${String(err)}`;
  }
}

void configure();
