import type { Tally } from './deliveries.js';
import type { DeliveryState, Send } from './model.js';

/**
 * The figures a progress card and a delivery report show, worked out from a send and its rows' tally:
 * plain functions, so what a requester reads is tested without storage or Teams.
 */

export interface Progress {
  sendId: string;
  title: string;
  audienceLabel: string;
  counts: Record<DeliveryState, number>;
  total: number;
  held: number;
  /** Messages answered per second since the send started (0 before the first answer). */
  rate: number;
  /** Seconds until the pending ones are answered at that rate; undefined when it can't be told. */
  secondsLeft: number | undefined;
  cancelled: boolean;
}

export function progressOf(send: Send, t: Tally, now: Date): Progress {
  const settled = t.total - t.byState.pending;
  const elapsed = send.startedAt ? (now.getTime() - Date.parse(send.startedAt)) / 1000 : 0;
  const rate = elapsed > 0 && settled > 0 ? settled / elapsed : 0;
  const moving = t.byState.pending - t.held;
  return {
    sendId: send.id,
    title: send.content.title,
    audienceLabel: send.audienceLabel,
    counts: t.byState,
    total: t.total,
    held: t.held,
    rate,
    secondsLeft: rate > 0 ? Math.ceil(moving / rate) : undefined,
    cancelled: send.status === 'cancelled',
  };
}

export interface Report {
  sendId: string;
  title: string;
  audienceLabel: string;
  status: Send['status'];
  counts: Record<DeliveryState, number>;
  total: number;
  startedAt: string;
  finishedAt: string;
  /** People reached 1:1 and how many of them pressed "Got it". */
  reached: number;
  acknowledged: number;
  /** Acknowledgements from a channel post (anyone in the channel; no base to divide by). */
  channelAcknowledged: number;
  toChannel: boolean;
  /** Failed for sure: what "Resend to failed" sends again. */
  failed: number;
  /** Failed where the copy may have reached the person (unconfirmed): not resent, a second copy could be a duplicate. */
  unconfirmed: number;
  unacknowledged: number;
  cancelledBy: string;
}

/** The report's figures: counts by state and the acknowledged share of those reached 1:1. */
export function reportOf(send: Send, t: Tally, people: { reached: readonly string[]; acked: ReadonlySet<string> }): Report {
  const acknowledged = people.reached.filter((k) => people.acked.has(k.toLowerCase())).length;
  const toChannel = send.audience.kind === 'channel';
  return {
    sendId: send.id,
    title: send.content.title,
    audienceLabel: send.audienceLabel,
    status: send.status,
    counts: t.byState,
    total: t.total,
    startedAt: send.startedAt,
    finishedAt: send.finishedAt,
    reached: people.reached.length,
    acknowledged,
    channelAcknowledged: toChannel ? people.acked.size : 0,
    toChannel,
    failed: t.byState.failed - t.unconfirmed,
    unconfirmed: t.unconfirmed,
    unacknowledged: people.reached.length - acknowledged,
    cancelledBy: send.cancelledBy?.name ?? '',
  };
}

/** "about 2 min", "under a minute". */
export function timeLeftText(seconds: number | undefined): string {
  if (seconds === undefined) return 'working it out';
  if (seconds < 60) return 'under a minute';
  if (seconds < 3600) return `about ${Math.round(seconds / 60)} min`;
  return `about ${(seconds / 3600).toFixed(1)} h`;
}

/** "71% (37 of 52)", or "—" when nobody was reached 1:1. */
export function shareText(part: number, whole: number): string {
  if (whole <= 0) return '—';
  return `${Math.round((part / whole) * 100)}% (${part} of ${whole})`;
}
