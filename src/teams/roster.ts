import { type CloudAdapter, TeamsInfo } from 'botbuilder';
import type { ConversationStore, StoredConversation } from '../conversations/store.js';
import type { Person, RosterReader } from '../roles/roles.js';
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

  /** All members of a team the app is installed in (a broadcast's audience), read page by page. */
  async members(teamId: string): Promise<Person[]> {
    return this.read(teamId, 'the app is not installed in this team, so its members cannot be read');
  }

  /**
   * One person among the members of the team a stored channel belongs to (one roster read by id, not the whole
   * roster): undefined when Teams says they are not a member. `id` is an Entra object id or a Teams user id.
   */
  async memberOf(channel: StoredConversation, id: string): Promise<Person | undefined> {
    if (!channel.teamId) return undefined;
    let found: Person | undefined;
    let failed: unknown;
    await this.adapter.continueConversationAsync(this.botAppId, referenceOf(channel), async (ctx) => {
      try {
        const m = await TeamsInfo.getTeamMember(ctx, channel.teamId, id);
        // Only the person asked about: an answer naming someone else is no answer.
        const same = (v?: string) => v?.toLowerCase() === id.toLowerCase();
        if (same(m.aadObjectId) || same(m.id)) found = { id, name: m.name ?? '' };
      } catch (err) {
        // Kept, not thrown here: the adapter hands an error thrown in this callback to its turn-error handler,
        // which logs and swallows it, and a roster Teams did not answer (throttled, down) would read as "not a member".
        if ((err as { statusCode?: number }).statusCode !== 404) failed = err;
      }
    });
    if (failed !== undefined) throw failed;
    return found;
  }

  private async read(teamId: string, notInstalled: string): Promise<Person[]> {
    const team = await this.conversations.team(teamId);
    if (!team) throw new Error(notInstalled);
    const members: Person[] = [];
    await this.adapter.continueConversationAsync(this.botAppId, referenceOf(team), async (ctx) => {
      let token: string | undefined;
      do {
        const page = await TeamsInfo.getPagedTeamMembers(ctx, teamId, 500, token);
        for (const m of page.members) if (m.aadObjectId) members.push({ id: m.aadObjectId, name: m.name ?? '' });
        token = page.continuationToken;
      } while (token);
    });
    return members;
  }
}
