import { type CloudAdapter, TeamsInfo } from 'botbuilder';
import type { ConversationStore } from '../conversations/store.js';
import type { RosterReader } from '../roles/roles.js';
import { referenceOf } from './turn.js';

/** Reads a team's members with the paged roster call (the unpaged one is throttled much harder). */
export class TeamsRosterReader implements RosterReader {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly botAppId: string,
    private readonly conversations: ConversationStore,
  ) {}

  async teamMemberIds(teamId: string): Promise<string[]> {
    const team = await this.conversations.team(teamId);
    if (!team) throw new Error(`the bot is not installed in the champions team ${teamId}`);
    const ids: string[] = [];
    await this.adapter.continueConversationAsync(this.botAppId, referenceOf(team), async (ctx) => {
      let token: string | undefined;
      do {
        const page = await TeamsInfo.getPagedTeamMembers(ctx, teamId, 500, token);
        for (const m of page.members) if (m.aadObjectId) ids.push(m.aadObjectId);
        token = page.continuationToken;
      } while (token);
    });
    return ids;
  }
}
