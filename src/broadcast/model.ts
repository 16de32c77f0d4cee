import type { ChannelRole } from '../conversations/store.js';
import type { Person } from '../roles/roles.js';

/**
 * The communication plan's plain data: key messages, who hears each and when, and the sends that deliver
 * them. No storage or Teams types; the stores (sends.ts, deliveries.ts) keep these in Tables.
 */

export const STAGES = ['assessment', 'design', 'launch', 'adoption'] as const;
export type Stage = (typeof STAGES)[number];
export const STAGE_LABEL: Record<Stage, string> = {
  assessment: 'Assessment',
  design: 'Design',
  launch: 'Launch',
  adoption: 'Adoption',
};

/** Channel roles a message may go to (triage is the champions' working channel, not for announcements). */
export const BROADCAST_CHANNELS = ['support', 'announcements'] as const satisfies readonly ChannelRole[];
export type BroadcastChannel = (typeof BROADCAST_CHANNELS)[number];

/** Who hears a message. */
export type Audience =
  /** A new thread in the channel set up with `setup support|announcements`. */
  | { kind: 'channel'; role: BroadcastChannel }
  /** Everyone who has the bot in personal scope. */
  | { kind: 'everyone' }
  /** All members of a team, 1:1 (the team's roster, read with the paged call). */
  | { kind: 'team'; teamId: string }
  | { kind: 'champions' }
  | { kind: 'rolloutTeam' }
  /** A user group, optionally only its members in one cohort (or in each cohort: 'all'). */
  | { kind: 'group'; groupId: string; cohortId?: string }
  /** A cohort ('all': each cohort, as its own send when the time is relative to go-live). */
  | { kind: 'cohort'; cohortId: string; groupId?: string }
  | { kind: 'users'; userIds: string[] }
  /** Internal: those who were sent a message 1:1 and have not acknowledged it ("remind"). */
  | { kind: 'unacknowledged'; sendId: string };

/** A day offset from a cohort's go-live date. */
export type Bound = { kind: 'date'; date: string } | { kind: 'golive'; days: number };

/** When a message goes. Times are wall-clock times in a zone (the cohort's for go-live-relative ones). */
export type When =
  /** Only when someone types `send <id>`. */
  | { kind: 'manual' }
  | { kind: 'at'; date: string; time: string; zone: string }
  /** `golive-7d 09:00`: each cohort on its own date, in its own zone. */
  | { kind: 'golive'; days: number; time: string }
  /** An RRULE (at most daily) at a time, between two bounds (dates, or days from each cohort's go-live). */
  | { kind: 'every'; rule: string; time: string; from: Bound; until: Bound; zone: string };

/** Lengths the plan file, the announce form and the celebrate form accept. */
export const TEXT_LIMITS = { title: 120, body: 4000, celebration: 500, links: 4, linkTitle: 40, url: 1000 } as const;

export interface Link {
  title: string;
  url: string;
}

/** What recipients read. */
export interface MessageContent {
  title: string;
  /** Markdown as the author wrote it. */
  body: string;
  image?: string;
  links: Link[];
}

export interface PlanMessage extends MessageContent {
  id: string;
  stage: Stage;
  audience: Audience;
  when: When;
  /** The `when` as written, so a cancel can tell whether the plan rescheduled the message since. */
  whenText: string;
  /** The message that launches a cohort: when all its members acknowledge it, that is a win. */
  launch: boolean;
  /** A repeating message with more dates than are scheduled: what is cut (recurrenceCut), shown with its times. */
  cut?: string;
}

/** Automatic wins, each configurable and firing once. */
export interface WinRules {
  /** Celebrate the Nth issue resolved, for each N here. */
  resolvedMilestones: number[];
  /** The first full week with no P1 issue open. */
  noP1Week: boolean;
  /** A cohort whose members all acknowledged its launch message. */
  cohortAcknowledged: boolean;
  /** A champion who resolved this many issues in a calendar month (0: off). */
  championMonthly: number;
}

export interface Plan {
  /** Zone of absolute times and of recurring messages not tied to a cohort. */
  timeZone: string;
  messages: PlanMessage[];
  wins: WinRules;
  /**
   * What the rollout team is told of a plan that is used as it is, each naming the message id and field (a repeat
   * cut at its first 400 dates). Absent: nothing to tell.
   */
  notes?: string[];
}

export const NO_WINS: WinRules = { resolvedMilestones: [], noP1Week: false, cohortAcknowledged: false, championMonthly: 0 };
export const EMPTY_PLAN: Plan = { timeZone: 'UTC', messages: [], wins: NO_WINS };

// ---- sends -------------------------------------------------------------------------------------------

export type SendSource = 'plan' | 'manual' | 'announce' | 'reminder';
export type SendStatus = 'scheduled' | 'resolving' | 'sending' | 'done' | 'cancelled';

/** One delivery of a message to its audience: a plan occurrence, a `send`, an announcement, a reminder. */
export interface Send {
  id: string;
  source: SendSource;
  /** The plan message id, or '' for an announcement. */
  messageId: string;
  content: MessageContent;
  audience: Audience;
  audienceLabel: string;
  status: SendStatus;
  /** When it is (or was) due. */
  dueAt: string;
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  requestedBy: Person | null;
  /** Who sees the progress card and the report (user key), '' for none. */
  notify: string;
  /** Recipients written as delivery rows. */
  total: number;
  /** The last recipient (row key) handed to the outbound path in order; '' before the first. */
  cursor: string;
  /** Batches handed over so far. */
  chunks: number;
  /**
   * When the cursor last moved (a batch claimed). Rows at or before the cursor still waiting well after it were
   * claimed by an instance that stopped before marking them handed over. Absent on sends stored before it.
   */
  claimedAt?: string;
  /** 1, then +1 for each "resend to failed". */
  attempt: number;
  /** Whose acknowledgements this send's "Got it" counts toward (a reminder counts toward its original). */
  ackFor: string;
  /** For a plan message: the cohort this occurrence is for. */
  cohortId: string;
  /**
   * For a plan message: which occurrence this is (Occurrence.key: "once", the cohort, or cohort@day), so an
   * edit that only moves its time does not send it again. '' otherwise (and on sends stored before it).
   */
  occurrence: string;
  cancelledBy: Person | null;
  /** Counts by state when it finished (the plan listing shows them without reading the rows). */
  counts: Record<DeliveryState, number> | null;
  /**
   * A plan send whose audience Teams did not answer for (a team's roster read throttled or down): when its audience
   * is read again, and how many reads failed so far. Absent on sends never delayed.
   */
  retryAt?: string;
  tries?: number;
  /**
   * The "delayed" notice of such a send, saved with the retry time it tells of and cleared once handed to the
   * outbound path: a crash between the save and the notice leaves it here for the next pass. Absent or '': none owed.
   */
  delayNotice?: string;
  etag: string;
}

/** How one recipient's message ended, as the delivery report counts it. */
export const DELIVERY_STATES = ['pending', 'sent', 'failed', 'blocked', 'notInstalled', 'cancelled'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export const DELIVERY_STATE_LABEL: Record<DeliveryState, string> = {
  pending: 'Pending',
  sent: 'Sent',
  failed: 'Failed',
  blocked: 'Blocked the app',
  notInstalled: 'App not installed',
  cancelled: 'Not sent (cancelled)',
};

export interface Recipient {
  /** A person's user key (Entra object id), or `channel:<role>`. */
  key: string;
  kind: 'user' | 'channel';
}

/** A recipient's row, written before the message is handed to the outbound path. */
export interface Delivery extends Recipient {
  state: DeliveryState;
  reason: string;
  /** The attempt the row is at (a resend starts the next). */
  attempt: number;
  /** Waiting to be handed over (pending, not held, not yet queued for this attempt). */
  waiting: boolean;
  /** The batch that handed it over (-1: not yet). */
  chunk: number;
  queuedAt: string;
  /** Held outside the recipient's working hours until this time ('' when not held). */
  heldUntil: string;
  at: string;
  /** A channel row: the channel (conversation root) it was posted in, once the answer is back. */
  conversation?: string;
  /**
   * A row on a later attempt (a resend): whether an earlier attempt's copy may be on their screen (it was sent, or
   * failed unconfirmed). Absent on rows resent before it was kept: taken as yes (that resend also took rows that
   * failed unconfirmed).
   */
  shownBefore?: boolean;
}

/** A row not handed over when its send was cancelled (or taken back from the outbound path unsent). */
export const CANCELLED_UNSENT = 'cancelled before it was sent';

/** Why earlier versions settled a cancelled send's row handed over and never answered as failed (its copy may have left). */
const UNANSWERED_AFTER_CANCEL = 'no answer after the cancel; not sent again';

/**
 * A failure that may have reached the person: the sender stopped when the request may have left (unconfirmed), or
 * (earlier versions) no answer came after a cancel. "Resend to failed" leaves these out: a second copy could be a duplicate.
 */
export const failedUnconfirmed = (d: Pick<Delivery, 'state' | 'reason'>): boolean =>
  d.state === 'failed' && (d.reason.startsWith('unconfirmed') || d.reason === UNANSWERED_AFTER_CANCEL);

/**
 * Whether a recipient's copy may be on their screen: it was sent; handed over with the answer not back (Teams may show
 * it first); failed without knowing whether it left; or an earlier attempt's copy may be showing (a resend, even
 * while it waits or is held). Refused only where no copy can have left: not installed, blocked, cancelled before it
 * was sent, failed for sure, waiting or held — on every attempt so far.
 */
export const mayHaveReached = (d: Pick<Delivery, 'state' | 'waiting' | 'heldUntil' | 'attempt' | 'reason' | 'shownBefore'>): boolean =>
  d.state === 'sent' ||
  (d.attempt > 1 && d.shownBefore !== false) ||
  failedUnconfirmed(d) ||
  (d.state === 'pending' && !d.waiting && d.heldUntil === '');

export const channelRecipient = (role: BroadcastChannel): Recipient => ({ key: `channel:${role}`, kind: 'channel' });

/** What the rollout team is told when a message or celebration is for a channel nobody set up yet. */
export const channelNotSetUp = (role: BroadcastChannel): string =>
  `The ${role} channel is not set up yet: someone on the rollout team types "setup ${role}" in it.`;
