import { command } from '../registry/define.js';
import { CHANNEL_ROLES, type ChannelRole } from './store.js';

const PURPOSE: Record<ChannelRole, string> = {
  triage: 'the champions’ triage channel',
  support: 'the support channel',
  announcements: 'the announcements channel',
  rollout: 'the rollout team’s channel (the weekly adoption digest)',
};

/** `setup triage|support|announcements`, typed by the rollout team in the channel to use. */
export const SETUP_COMMANDS = Object.fromEntries(
  CHANNEL_ROLES.map((role) => [
    role,
    command(`setup ${role}`, 'channels.setup', `Rollout team: make this channel ${PURPOSE[role]}`),
  ]),
) as Record<ChannelRole, ReturnType<typeof command>>;
