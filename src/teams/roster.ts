import { type CloudAdapter, type ConversationReference, TeamsInfo, type TurnContext } from 'botbuilder';
import type { ConversationStore, StoredConversation } from '../conversations/store.js';
import { type Person, RosterUnanswered, type RosterReader } from '../roles/roles.js';
import { referenceOf } from './turn.js';

/** Reads a team's members with the paged roster call (the unpaged one is throttled much harder). */
export class TeamsRosterReader implements RosterReader {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly botAppId: string,
    private readonly conversations: ConversationStore,
  ) {}

  async teamMembers(teamId: string): Promise<Person[]> {
    return this.read(teamId, `the bot is not installed in the champions team ${teamId}`);
  }

  /** All members of a team the app is installed in (a broadcast's audience), read page by page; or only the first page. */
  async members(teamId: string, firstPage = false): Promise<Person[]> {
    return this.read(teamId, 'the app is not installed in this team, so its members cannot be read', firstPage);
  }

  /**
   * One person among the members of the team a stored channel belongs to (one roster read by id, not the whole
   * roster): undefined when Teams says they are not a member. `id` is an Entra object id or a Teams user id.
   */
  async memberOf(channel: StoredConversation, id: string): Promise<Person | undefined> {
    if (!channel.teamId) return undefined;
    let found: Person | undefined;
    await this.inTeam(referenceOf(channel), async (ctx) => {
      try {
        const m = await TeamsInfo.getTeamMember(ctx, channel.teamId, id);
        // Only the person asked about: an answer naming someone else is no answer.
        const same = (v?: string) => v?.toLowerCase() === id.toLowerCase();
        if (same(m.aadObjectId) || same(m.id)) found = { id, name: m.name ?? '' };
      } catch (err) {
        // A 404 is Teams' answer "not a member"; anything else (throttled, down) is no answer and is thrown.
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
    });
    return found;
  }

  private async read(teamId: string, notInstalled: string, firstPage = false): Promise<Person[]> {
    const team = await this.conversations.team(teamId);
    if (!team) throw new Error(notInstalled);
    const members: Person[] = [];
    try {
      await this.inTeam(referenceOf(team), async (ctx) => {
        let token: string | undefined;
        do {
          const page = await TeamsInfo.getPagedTeamMembers(ctx, teamId, 500, token);
          for (const m of page.members) if (m.aadObjectId) members.push({ id: m.aadObjectId, name: m.name ?? '' });
          token = firstPage ? undefined : page.continuationToken;
        } while (token);
      });
    } catch (err) {
      // Said to whoever sends to the team (audience notes), not Teams' own wording.
      const status = (err as { statusCode?: number }).statusCode;
      const why = `could not read the team's members from Teams${status ? ` (HTTP ${status})` : ''}`;
      // No answer, a throttle or a fault on Teams' side may be gone in a minute; a refusal (403, 404) is not.
      const unanswered = status === undefined || status === 429 || status >= 500;
      throw unanswered ? new RosterUnanswered(why, { cause: err }) : new Error(why, { cause: err });
    }
    return members;
  }

  /**
   * Runs `fn` in a turn in the team's conversation and throws what it threw: the adapter hands an error thrown in
   * that callback to its turn-error handler, which logs and swallows it, and a roster Teams did not answer
   * (throttled, down, forbidden) would read as an empty or short one.
   */
  private async inTeam(ref: Partial<ConversationReference>, fn: (ctx: TurnContext) => Promise<void>): Promise<void> {
    let failed: { err: unknown } | undefined;
    await this.adapter.continueConversationAsync(this.botAppId, ref, async (ctx) => {
      try {
        await fn(ctx);
      } catch (err) {
        failed = { err };
      }
    });
    if (failed) throw failed.err;
  }
}
