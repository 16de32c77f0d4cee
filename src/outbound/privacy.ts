import type { TableClient } from '@azure/data-tables';
import type { ConversationStore } from '../conversations/store.js';
import { holdings, type PersonalData, type Subject, type Tally } from '../privacy/personal-data.js';
import { readEntity } from '../storage/entities.js';
import { deleteIfThere, type Tables } from '../storage/tables.js';
import { BUDGET_TABLE, convPartition } from './budget.js';
import type { DeliveryIndex } from './delivery-index.js';

/**
 * What the outbound path holds about a person: the delivery rows of messages sent to them 1:1 (the message's
 * key, its state, when; a large message's whole payload) and the send log of their 1:1 chat (request times,
 * for Teams' limits). `forget` deletes both; retention deletes every delivery older than the period.
 */
export class OutboundPersonalData implements PersonalData {
  readonly feature = 'outbound';

  private constructor(
    private readonly index: DeliveryIndex,
    private readonly budget: TableClient,
    private readonly conversations: Pick<ConversationStore, 'personalChat'>,
  ) {}

  static async open(tables: Tables, index: DeliveryIndex, conversations: Pick<ConversationStore, 'personalChat'>): Promise<OutboundPersonalData> {
    return new OutboundPersonalData(index, await tables.table(BUDGET_TABLE), conversations);
  }

  /** The send-log rows of the person's 1:1 chats (found through `Conversations`, forgotten after this). */
  private async sendLogs(subject: Subject): Promise<string[]> {
    const chats = await Promise.all(subject.ids.map((id) => this.conversations.personalChat(id)));
    const partitions = [...new Set(chats.flatMap((c) => (c ? [convPartition(c.conversationId)] : [])))];
    const found = await Promise.all(partitions.map((pk) => readEntity(this.budget, pk, 'w')));
    return partitions.filter((_, i) => found[i]);
  }

  async describe(subject: Subject): Promise<Tally> {
    const [sent, logs] = await Promise.all([this.index.toRecipient(subject.ids), this.sendLogs(subject)]);
    return {
      holdings: holdings(
        { kind: 'outbound.deliveries', label: 'records of messages sent to them', count: sent.length, action: 'delete' },
        { kind: 'outbound.sendLog', label: "their chat's send log (for Teams' limits)", count: logs.length, action: 'delete' },
      ),
    };
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    const sent = await this.index.toRecipient(subject.ids);
    const rows = await Promise.all(sent.map((d) => this.index.delivery(d)));
    return { messagesSentToYou: rows.filter((r) => r !== undefined) };
  }

  async forget(subject: Subject): Promise<Tally> {
    const tally = await this.describe(subject);
    for (const d of await this.index.toRecipient(subject.ids)) await this.index.drop(d);
    for (const pk of await this.sendLogs(subject)) {
      await deleteIfThere(this.budget, pk, 'w');
    }
    return tally;
  }

  expire(before: Date, limit: number): Promise<number> {
    return this.index.expireBefore(before, limit);
  }
}
