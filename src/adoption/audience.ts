import { type AudienceDirectory, audienceLabel, resolveAudience } from '../broadcast/audience.js';
import type { Audience } from '../broadcast/model.js';
import { people } from '../text/count.js';
import type { Reach } from './pulse-reach.js';
import type { AudienceResolver, PulseAudience } from './pulse-service.js';

/**
 * A pulse's audience resolved by the communication plan's own rules (src/broadcast/audience.ts): everyone
 * with a 1:1 chat, the champions, the rollout team, listed people, or a user group or cohort of the
 * rollout's people model (the rollout file and who the rollout team added from Teams). One person once,
 * keyed by Entra object id, lower case.
 */
export function broadcastAudienceResolver(dir: AudienceDirectory, withChat: WithChat): AudienceResolver {
  return async (audience) => {
    const target = broadcastAudience(audience);
    const rollout = dir.rollout();
    if (audience.kind === 'group' && !rollout.groups.some((g) => g.id === audience.groupId))
      return { ok: false, message: `There is no user group "${audience.groupId}" in the rollout file any more.` };
    if (audience.kind === 'cohort' && !rollout.cohorts.some((c) => c.id === audience.cohortId))
      return { ok: false, message: `There is no cohort "${audience.cohortId}" in the rollout file any more.` };
    const keys = (await resolveAudience(target, dir)).recipients.map((r) => r.key);
    // A pulse goes 1:1: someone with no chat with the bot (a listed id, a member who never opened the app) is not
    // sent it, and is counted apart. "Everyone" is read from the chats themselves.
    const { reachable, unchecked } = audience.kind === 'everyone' ? { reachable: new Set(keys), unchecked: 0 } : await withChat(keys);
    const userKeys = keys.filter((k) => reachable.has(k));
    return {
      ok: true,
      userKeys,
      unreachable: keys.length - userKeys.length,
      ...(unchecked ? { unchecked } : {}),
      label: labelOf(audience, target, dir, keys.length),
    };
  };
}

/**
 * Of these user keys (lower case), those with a 1:1 chat with the bot (pulse-reach.ts). A key whose chat could not be
 * read in time (storage slow) is taken as reachable and counted in `unchecked`: the outbound path finds out when it sends.
 */
export type WithChat = (userKeys: readonly string[]) => Promise<Reach>;

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

/** `listed`: how many people the audience is, each once (an id typed twice, in another case, is one). */
function labelOf(a: PulseAudience, target: Audience, dir: AudienceDirectory, listed: number): string {
  switch (a.kind) {
    case 'everyone':
      return 'everyone who uses Rollout Desk';
    case 'people':
      return people(listed, 'listed');
    default:
      return audienceLabel(target, dir.rollout());
  }
}
