import { command } from '../registry/define.js';

/** The rollout's people: commands of the rollout team (see src/registry). */
export const ROLLOUT_COMMANDS = {
  groups: command('groups', 'rollout.view', 'The user groups and cohorts (waves) of the rollout, with go-live dates'),
  add: command(
    'group add',
    'rollout.manage',
    'Rollout team: put someone in a user group or cohort, e.g. "group add field-officers @Grace" (or "me")',
  ),
  remove: command('group remove', 'rollout.manage', 'Rollout team: take someone out of a user group or cohort'),
};
