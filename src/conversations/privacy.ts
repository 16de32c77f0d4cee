import { holdings, isSubject, type PersonalData, type Pseudonym, type Subject, type Tally } from '../privacy/personal-data.js';
import type { PostStore } from './posts.js';
import type { ConversationStore, PersonRow } from './store.js';

/**
 * What `Conversations` holds about a person: where their 1:1 chat with the bot is (under each key, and the
 * chat's own row), the name they go by, and where the cards the bot may still redraw in that chat are (`Posts`:
 * a send's progress card, a Forget card). `forget` deletes them, so nothing can be sent to them any more;
 * channel roles they set keep the setting, with the setter replaced by their pseudonym. Registered last in
 * src/app.ts: other features' `forget` may still look up the person's chat (their keys) before it goes.
 */
export class ConversationPersonalData implements PersonalData {
  readonly feature = 'conversations';

  constructor(
    private readonly store: ConversationStore,
    private readonly posts: PostStore,
  ) {}

  private postsOf(subject: Subject) {
    return this.posts.inChatOf(subject.ids);
  }

  async describe(subject: Subject): Promise<Tally> {
    const rows = await this.store.rowsOf(subject.ids);
    const posts = await this.postsOf(subject);
    const setters = (await this.store.roleSetters()).filter((r) => isSubject(subject, r.setBy));
    return {
      holdings: holdings(
        { kind: 'conversations.chat', label: 'records of their chat with the bot', count: rows.filter((r) => r.partition !== 'person').length, action: 'delete' },
        { kind: 'conversations.name', label: 'remembered display name', count: rows.filter((r) => r.partition === 'person').length, action: 'delete' },
        { kind: 'conversations.posts', label: 'cards in their chat the bot may still redraw', count: posts.length, action: 'delete' },
        { kind: 'conversations.channelSetup', label: 'channel set-ups they made (kept, setter anonymised)', count: setters.length, action: 'anonymise' },
      ),
    };
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    const rows = await this.store.rowsOf(subject.ids);
    const chats = rows.filter((r): r is Extract<PersonRow, { partition: 'personal' | 'conv' }> => r.partition !== 'person');
    const unique = new Map(chats.map((r) => [r.conversation.conversationId, r.conversation]));
    return {
      personalChats: [...unique.values()].map((c) => ({
        conversationId: c.conversationId,
        serviceUrl: c.serviceUrl,
        tenantId: c.tenantId,
        you: c.user,
        lastSeen: c.updatedAt,
      })),
      names: rows.flatMap((r) => (r.partition === 'person' ? [r.name] : [])),
      cardsInYourChat: (await this.postsOf(subject)).map((p) => ({ card: p.kind, message: p.activityId })),
      channelSetups: (await this.store.roleSetters()).filter((r) => isSubject(subject, r.setBy)).map((r) => r.role),
    };
  }

  async forget(subject: Subject, pseudonym: Pseudonym): Promise<Tally> {
    const tally = await this.describe(subject);
    for (const r of await this.store.roleSetters()) {
      if (isSubject(subject, r.setBy)) await this.store.replaceRoleSetter(r.role, pseudonym.id);
    }
    await this.posts.removeChatOf(subject.ids);
    for (const row of await this.store.rowsOf(subject.ids)) await this.store.removeRow(row.partition, row.key);
    // Every instance's cache of chats already saved drops theirs: when they write again, their chat is saved anew.
    // This instance's post store drops what it keeps of their cards (those removed elsewhere are not found above).
    await this.store.markForgotten(subject.ids);
    return tally;
  }
}
