/**
 * The rollout's people model (cohorts with go-live dates and time zones, user groups, who is in which),
 * shared by the features that address part of the organisation. Plain values and small stores; no botbuilder.
 */
export { openRolloutFile } from './file.js';
export { type AddedMembership, type MembershipKind, MembershipStore } from './members.js';
export * from './model.js';
export { type ChangeResult, goLiveText, type Membership, RolloutDirectory, type RolloutCaller, type Target } from './service.js';
export { ROLLOUT_COMMANDS } from './verbs.js';
