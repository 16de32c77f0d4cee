/**
 * The rollout's people model (cohorts with go-live dates and time zones, user groups, who is in which),
 * shared by the features that address part of the organisation. Plain values and small stores; no botbuilder.
 */
export { openRolloutFile } from './file.js';
export { MembershipStore } from './members.js';
export * from './model.js';
export { goLiveText, type Membership, RolloutDirectory } from './service.js';
export { ROLLOUT_COMMANDS } from './verbs.js';
