// Runs inside Teams (teams-js) and in a plain browser (where Teams is absent, the page still reads well).
(async () => {
  const teams = window.microsoftTeams;
  const onConfigPage = location.pathname.endsWith('/config.html');
  if (!teams) return;
  try {
    await teams.app.initialize();
    const context = await teams.app.getContext();
    const name = context.user && context.user.displayName;
    const greeting = document.getElementById('greeting');
    if (greeting && name) greeting.textContent = `Hello ${name} — your assistant for the rollout.`;
    const where = document.getElementById('context');
    if (where && context.team) where.textContent = `Team: ${context.team.displayName || ''}`;
    if (onConfigPage) {
      teams.pages.config.registerOnSaveHandler((save) => {
        const base = `${location.origin}/tab/index.html`;
        teams.pages.config
          .setConfig({ contentUrl: base, websiteUrl: base, entityId: 'rollout-desk', suggestedDisplayName: 'Rollout Desk' })
          .then(() => save.notifySuccess(), (err) => save.notifyFailure(String(err)));
      });
      teams.pages.config.setValidityState(true);
    }
  } catch (err) {
    const status = document.getElementById('status');
    if (status) status.textContent = `Could not talk to Teams: ${err}`;
  }
})();
