import type { Clock } from '../clock.js';
import type { ConversationStore } from './store.js';

/** How often an instance reads the forget marker: the longest its cache may outlive a forget done elsewhere. */
const CHECK_MS = 30_000;
/** Beyond this many entries the cache starts again (each entry costs a few writes to put back). */
const MAX_ENTRIES = 50_000;

/**
 * What this instance has saved in `Conversations` already (chats, names), so a turn writes there only the first
 * time. A `forget` deletes a person's rows: a cache entry kept past it would stop their chat being saved when
 * they write again, and then no 1:1 (notices, reminders) reaches them. So the forget clears the cache on its own
 * instance at once (`ConversationStore.onForgotten`), and every instance reads the stored forget marker at most
 * once per CHECK_MS — one point read, not one per turn — and starts again when it changed: on another instance
 * the cache outlives a forget by at most CHECK_MS. Forgets are rare; starting again costs each active person's
 * few writes once.
 */
export class SavedConversations {
  private readonly saved = new Set<string>();
  private marker: string | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  /** The marker read under way, which turns arriving meanwhile wait for rather than read again. */
  private checking: Promise<void> | undefined;

  constructor(
    // Drops everyone's entries on a forget: whose ids were forgotten does not matter here.
    private readonly store: Pick<ConversationStore, 'forgetMarker'> & { onForgotten(listener: () => void): void },
    private readonly clock: Clock,
  ) {
    store.onForgotten(() => this.saved.clear());
  }

  /** Whether `key` was saved by this instance since the last forget it knows of (reads the marker when due). */
  async has(key: string): Promise<boolean> {
    const now = this.clock.now().getTime();
    if (now - this.checkedAt >= CHECK_MS || now < this.checkedAt) {
      // Marked as checked before the read: turns arriving meanwhile share this one read, and a read that fails
      // (storage down) is tried again a period later, not by every turn while it lasts.
      this.checkedAt = now;
      this.checking = this.readMarker().finally(() => {
        this.checking = undefined;
      });
    }
    if (this.checking) await this.checking;
    return this.saved.has(key);
  }

  private async readMarker(): Promise<void> {
    const marker = await this.store.forgetMarker();
    // Also after no read has succeeded yet (`marker` unknown): what was cached meanwhile may predate a forget.
    if (marker !== this.marker) this.saved.clear();
    this.marker = marker;
  }

  add(key: string): void {
    if (this.saved.size >= MAX_ENTRIES) this.saved.clear();
    this.saved.add(key);
  }
}
