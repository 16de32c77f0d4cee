import { type AudienceDirectory, audienceLabel, resolveAudience } from '../broadcast/audience.js';
import type { Audience } from '../broadcast/model.js';
import type { AudienceResolver, PulseAudience } from './pulse-service.js';

/**
 * A pulse's audience resolved by the communication plan's own rules (src/broadcast/audience.ts): everyone
 * with a 1:1 chat, the champions, the rollout team, listed people, or a user group or cohort of the
 * rollout's people model (the rollout file and who the rollout team added from Teams). One person once,
 * keyed by Entra object id, lower case.
 */
export function broadcastAudienceResolver(dir: AudienceDirectory): AudienceResolver {
  return async (audience) => {
    const target = broadcastAudience(audience);
    const rollout = dir.rollout();
    if (audience.kind === 'group' && !rollout.groups.some((g) => g.id === audience.groupId))
      return { ok: false, message: `There is no user group "${audience.groupId}" in the rollout file any more.` };
    if (audience.kind === 'cohort' && !rollout.cohorts.some((c) => c.id === audience.cohortId))
      return { ok: false, message: `There is no cohort "${audience.cohortId}" in the rollout file any more.` };
    const { recipients } = await resolveAudience(target, dir);
    return { ok: true, userKeys: recipients.map((r) => r.key), label: labelOf(audience, target, dir) };
  };
}

function broadcastAudience(a: PulseAudience): Audience {
  switch (a.kind) {
    case 'people':
      return { kind: 'users', userIds: a.keys };
    case 'group':
      return { kind: 'group', groupId: a.groupId };
    case 'cohort':
      return { kind: 'cohort', cohortId: a.cohortId };
    default:
      return { kind: a.kind };
  }
}

function labelOf(a: PulseAudience, target: Audience, dir: AudienceDirectory): string {
  switch (a.kind) {
    case 'everyone':
      return 'everyone who uses Rollout Desk';
    case 'people':
      return `${a.keys.length} listed ${a.keys.length === 1 ? 'person' : 'people'}`;
    default:
      return audienceLabel(target, dir.rollout());
  }
}
