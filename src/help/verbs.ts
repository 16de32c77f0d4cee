import { command } from '../registry/define.js';

export const HELP_COMMANDS = {
  help: command('help', 'everyone', 'What I can do'),
  whoami: command('whoami', 'everyone', 'Your role in the rollout'),
  demoAs: command('demo as', 'everyone', 'Local demo only: see the bot as staff, a champion or the rollout team', {
    localOnly: true,
  }),
};
