import { command } from '../registry/define.js';

/**
 * The rollout's people: commands of the rollout team (see src/registry). Teams' command menu is full
 * (12 per scope), so they are typed, or found in "help".
 */
export const ROLLOUT_COMMANDS = {
  groups: command('groups', 'rollout.view', 'The user groups and cohorts (waves) of the rollout, with go-live dates', {
    menu: false,
  }),
  add: command(
    'group add',
    'rollout.manage',
    'Rollout team: put someone in a user group or cohort, e.g. "group add field-officers @Grace" (or "me")',
    { menu: false },
  ),
  remove: command('group remove', 'rollout.manage', 'Rollout team: take someone out of a user group or cohort', {
    menu: false,
  }),
};
