import { mapLimit } from '../map-limit.js';
import { MAX_AUDIENCE } from './pulse-service.js';

/*
 * Which of a pulse's audience have a 1:1 chat with the bot, checked inside the sender's turn: one lookup per person
 * (a point read, two for a chat kept in the earlier layout), at most MAX_AUDIENCE of them, under a deadline. The cost
 * follows the audience, never the number of chats the tenant holds; Teams gives the turn about 15 s, and the pulse's
 * rows and sends are written after this.
 */

/** How long the sender's turn waits for the audience check; what is not read by then is taken as reachable. */
export const REACH_CHECK_MS = 5_000;
/** Reads at once: as many as the outbound worker's pack reads (ConversationStore.personalChats). */
const AT_ONCE = 16;

export interface Reach {
  /** Those with a chat, and those not checked (counted as reachable: the outbound path finds out when it sends). */
  reachable: Set<string>;
  /** How many were not checked in time, or whose read failed: the count of those not reached is then approximate. */
  unchecked: number;
}

/**
 * `keys` (each once) against `hasChat`, 16 at a time, for at most `deadlineMs`: keys past `limit`, not read by then,
 * or whose read failed are counted as reachable and unchecked. Reads under way at the deadline are not waited for.
 */
export async function reachWithin(
  keys: readonly string[],
  hasChat: (key: string) => Promise<boolean>,
  opts: { deadlineMs?: number; limit?: number } = {},
): Promise<Reach> {
  const answered = new Map<string, boolean>();
  let stopped = false;
  const reads = mapLimit(keys.slice(0, opts.limit ?? MAX_AUDIENCE), AT_ONCE, async (k) => {
    if (stopped) return;
    const has = await hasChat(k).catch(() => undefined);
    if (!stopped && has !== undefined) answered.set(k, has);
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([reads, new Promise((resolve) => (timer = setTimeout(resolve, opts.deadlineMs ?? REACH_CHECK_MS)))]);
  clearTimeout(timer);
  stopped = true;
  return {
    reachable: new Set(keys.filter((k) => answered.get(k) !== false)),
    unchecked: keys.filter((k) => !answered.has(k)).length,
  };
}
