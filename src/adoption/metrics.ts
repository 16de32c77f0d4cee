import type { BotMetric } from './bot-metrics.js';

/**
 * What the dashboard's panels show, as plain types, and the providers other features implement to fill
 * the panels that are theirs. A panel appears on the tab (and its API route answers) only when its
 * provider is registered in the composition root: providers.ts fills Communications from the communication
 * plan (src/broadcast) and Office hours from src/officehours; the pulse surveys here provide Pulse.
 * Types only (no runtime imports): the tab's TypeScript reads them as the API's shapes.
 */

/** A range of UTC days, both included, 'YYYY-MM-DD'. */
export interface DayRange {
  from: string;
  to: string;
}

// ---- Overview ------------------------------------------------------------------------------------

/** `level`: the target equals the baseline (written so by hand), so nothing says which way is better: not judged. */
export type MeasureState = 'met' | 'on-track' | 'behind' | 'no-data' | 'level';

export const STATE_LABEL: Record<MeasureState, string> = {
  met: 'Target met',
  'on-track': 'On track',
  behind: 'Behind',
  'no-data': 'No figures yet',
  level: 'Not judged: the target equals the baseline',
};

export interface MeasureStatus {
  id: string;
  name: string;
  unit: string;
  source: 'ims' | 'bot';
  metric?: BotMetric;
  baseline: { value: number; date: string };
  target: { value: number; by: string };
  lowerIsBetter: boolean;
  /** `replaced`: an IMS figure entered over another's: the value it replaced and who had entered that. */
  latest: { value: number; date: string; replaced?: { value: number; enteredBy: string } } | null;
  /** How far from baseline to target the latest figure is, in % (100 = target reached). */
  progress: number | null;
  /** Where a straight line from baseline to target would be by the latest figure's date, in %. */
  expected: number | null;
  state: MeasureState;
  /** Every figure, oldest first: entered ones for the IMS, weekly ones for the bot's. */
  series: { date: string; value: number }[];
}

/** One week's figures as the charts draw them (null: nothing to compute from that week). */
export interface WeekPoint {
  week: string;
  activeUsers: number;
  questionsAsked: number;
  shareAnswered: number | null;
  shareHelpful: number | null;
  issuesOpened: number;
  issuesResolved: number;
  openIssues: number | null;
  medianHoursToTriage: number | null;
  medianDaysToResolve: number | null;
  slaBreaches: number;
  /** The week under way: its figures are partial (the charts label it "so far"). */
  soFar?: true;
}

export interface IssuesNow {
  at: string;
  open: number;
  untriaged: number;
  pastSla: number;
  byCategory: Record<string, number>;
  bySite: Record<string, number>;
  byPriority: Record<string, number>;
  byStatus: Record<string, number>;
}

/** Issues opened and resolved in a range, for one value of a dimension (a category, a site, a priority). */
export interface FlowLine {
  name: string;
  opened: number;
  resolved: number;
  /** A line folding the values past the list's length: how many values it holds ("Other (4)"). */
  others?: number;
}

/** Issues opened and resolved over the charted weeks, by category, site and priority (from the week rows). */
export interface IssueFlow {
  /** The weeks' first Monday and the last week's Sunday (the week under way is counted so far). */
  range: DayRange;
  opened: number;
  resolved: number;
  byCategory: FlowLine[];
  bySite: FlowLine[];
  byPriority: FlowLine[];
}

export interface PanelFlags {
  communications: boolean;
  officeHours: boolean;
  pulse: boolean;
}

export interface Overview {
  /** When the figures were last rolled up (null: never yet). */
  asOf: string | null;
  measures: MeasureStatus[];
  weeks: WeekPoint[];
  issuesNow: IssuesNow | null;
  panels: PanelFlags;
}

// ---- Questions -----------------------------------------------------------------------------------

export interface GapItem {
  example: string;
  count: number;
  /** People who asked (the list's order: most people first, then times asked). */
  askers: number;
  unanswered: number;
  notHelpful: number;
  lastAskedAt: string;
}

export interface QuestionsPanel {
  range: DayRange;
  asked: number;
  answered: number;
  shareAnswered: number | null;
  shareHelpful: number | null;
  gaps: GapItem[];
}

// ---- Communications (from the communication plan, src/broadcast) ------------------------------------

export interface MessageDelivery {
  id: string;
  title: string;
  sentAt: string;
  audience: string;
  recipients: number;
  delivered: number;
  acknowledged: number;
  failed: number;
}

export interface CommunicationsMetrics {
  messages: MessageDelivery[];
  /** Delivered / recipients over the range, in % (null with no recipients). */
  deliveredShare: number | null;
  /** Acknowledged / delivered over the range, in %. */
  acknowledgedShare: number | null;
}

export interface CommunicationsProvider {
  communications(range: DayRange): Promise<CommunicationsMetrics>;
}

// ---- Office hours (from src/officehours) -------------------------------------------------------------

/** Where a session stands: only a session that has ended can have had everyone booked turn up. */
export type SessionState = 'upcoming' | 'underway' | 'held';

export interface SessionAttendance {
  id: string;
  title: string;
  startsAt: string;
  capacity: number | null;
  state: SessionState;
  booked: number;
  /**
   * Those marked present; null until the session has been held (nobody could have attended yet), and while a
   * session held has people booked but nobody marked by its host yet.
   */
  attended: number | null;
}

export interface GroupTraining {
  group: string;
  goLive: string;
  people: number;
  trainedBeforeGoLive: number;
  /** trainedBeforeGoLive / people, in %. */
  share: number | null;
}

export interface OfficeHoursMetrics {
  sessions: SessionAttendance[];
  /** Seats booked on every session in the range, held or not. */
  bookings: number;
  /** Of them, on sessions not yet held (upcoming or under way). */
  upcomingBookings: number;
  /** Of them, on sessions held whose attendance was marked: the base of the attended share. */
  heldBookings: number;
  /** Marked present, at sessions held. */
  attended: number;
  /** attended / heldBookings, in % (null when no session held had a booking). */
  attendedShare: number | null;
  /** Sessions held, with people booked, whose host has not marked attendance yet (left out of the share). */
  unmarkedSessions: number;
  groups: GroupTraining[];
}

export interface OfficeHoursProvider {
  officeHours(range: DayRange): Promise<OfficeHoursMetrics>;
}

// ---- Pulse (provided by the pulse surveys here) ---------------------------------------------------

export interface ScaleResult {
  kind: 'scale';
  /** Answers for 1..5. */
  counts: number[];
  mean: number;
}
export interface ChoiceResult {
  kind: 'choice';
  options: { label: string; count: number }[];
}
export interface TextResult {
  kind: 'text';
  /** Without names, sorted (not in the order they came in). On the dashboard: one page of them, each cut to PULSE_LIMITS.text. */
  answers: string[];
  /** On the dashboard: how many answers come after this page (asked for a page at a time). */
  more?: number;
  /** On the dashboard: the cursor to ask for the page after this one with (null: this is the last page). */
  next?: string | null;
}

/** Said under a question whose shown results count fewer than answered it (see PulseQuestionResult.shownFrom). */
export function steppedNote(minAnswers: number, shownFrom: number): string {
  return `Shown as counted at ${shownFrom} answers: results change only in steps of ${minAnswers} answers, so that no single answer can be read off a change.`;
}

export interface PulseQuestionResult {
  id: string;
  text: string;
  /** How many answered this question (a person may leave one out). */
  answered: number;
  /**
   * How many answers `result` counts, when fewer than `answered`: results change only in steps of the minimum number
   * of answers (pulse.ts steppedTally), so the newest wait for enough more. Absent: it counts them all.
   */
  shownFrom?: number;
  /** Null below the minimum: for the pulse, or for this question (fewer answered it than the minimum). */
  result: ScaleResult | ChoiceResult | TextResult | null;
}

export interface PulseResult {
  id: string;
  title: string;
  sentAt: string;
  closesAt: string;
  sentTo: number;
  /** Of the audience, how many it could not be sent to (no chat with the bot); absent: none. */
  unreachable?: number;
  answers: number;
  minAnswers: number;
  /** False below the minimum number of answers (or before the answers are first counted): no figures at all. */
  shown: boolean;
  /**
   * When the answers were counted (ISO): results come from a summary a scheduled job keeps (pulse-service
   * recountDue), not from the answers on each look. Null: not counted yet (a pulse from before summaries).
   */
  asOf: string | null;
  /**
   * A look asked for a fresh count that the throttle holds back (counts asked for are made at most once a minute per
   * pulse): the earliest it can come. Absent when the count comes at the job's next run, or none was asked.
   */
  nextCountAt?: string;
  questions: PulseQuestionResult[];
}

/** The same questions asked again later: one point per pulse that reached the minimum. */
export interface PulseTrend {
  series: string;
  question: string;
  kind: 'scale' | 'choice';
  points: { pulseId: string; sentAt: string; answers: number; mean?: number; shares?: Record<string, number> }[];
}

export interface PulseMetrics {
  pulses: PulseResult[];
  trends: PulseTrend[];
}

export interface PulseProvider {
  pulse(range: DayRange): Promise<PulseMetrics>;
}

export interface AdoptionProviders {
  communications?: CommunicationsProvider;
  officeHours?: OfficeHoursProvider;
  pulse?: PulseProvider;
}

export function panelFlags(p: AdoptionProviders): PanelFlags {
  return { communications: Boolean(p.communications), officeHours: Boolean(p.officeHours), pulse: Boolean(p.pulse) };
}
