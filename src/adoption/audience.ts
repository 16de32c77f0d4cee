import type { AudienceResolver } from './pulse-service.js';

/**
 * Today's audiences for a pulse. The communication plan (issue 8) will replace this function with its own
 * audience resolution (groups, sites, waves), behind the same `AudienceResolver` type; nothing else changes.
 */
export function defaultAudienceResolver(d: {
  /** Everyone with a 1:1 chat with the bot. */
  people: () => Promise<string[]>;
  championIds: () => Promise<string[]>;
  rolloutTeamIds: readonly string[];
}): AudienceResolver {
  return async (audience) => {
    switch (audience.kind) {
      case 'everyone':
        return { ok: true, userKeys: await d.people(), label: 'everyone who uses Rollout Desk' };
      case 'champions':
        return { ok: true, userKeys: await d.championIds(), label: 'the champions' };
      case 'rolloutTeam':
        return { ok: true, userKeys: [...d.rolloutTeamIds], label: 'the rollout team' };
      case 'people':
        return { ok: true, userKeys: audience.keys, label: `${audience.keys.length} listed ${audience.keys.length === 1 ? 'person' : 'people'}` };
    }
  };
}
