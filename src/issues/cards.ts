import { type AdaptiveCard, CARD_BUDGET_BYTES, escapeText, renderCard, utf16Bytes } from '../cards/template.js';
import { largestFitting } from '../text/fit.js';
import {
  type Comment,
  type HistoryEntry,
  type Issue,
  type IssueSummary,
  isOpen,
  LIMITS,
  type Person,
  SEVERITIES,
  SEVERITY_LABEL,
  STATUS_LABEL,
  type Status,
} from './model.js';
import type { Page } from './paging.js';
import { canTransition, isEditable, type Notification, reporterView, TRANSITIONS } from './rules.js';
import { FORM_FIELDS, FORM_LIMITS, type FormField, newFormId } from './fields.js';
import { type ListSort, sortedOnlyNote } from './order.js';
import type { QueueFilters } from './queries.js';
import type { FieldErrors } from './validation.js';

/**
 * Typed data for the issue cards (`cards/issue-*.json`) and the builders that fill it from issues.
 * Every piece of text a user typed goes through `escapeText` here, because Teams renders markdown and
 * mentions in TextBlocks and FactSets; input values and choice titles are plain text and stay as typed.
 */

export interface Choice {
  title: string;
  value: string;
}
export interface Fact {
  title: string;
  value: string;
}
export interface HistoryLine {
  when: string;
  line: string;
}

/**
 * Building an Intl.DateTimeFormat costs far more than using one (a list card formats a date per row, a triage
 * card one per history line): one per time zone, kept (IANA zone names: a few hundred at most).
 */
const whenFormats = new Map<string, Intl.DateTimeFormat>();
function whenFormat(timeZone: string): Intl.DateTimeFormat {
  let f = whenFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZone,
    });
    whenFormats.set(timeZone, f);
  }
  return f;
}

/** Shown in UTC unless the caller knows the reader's zone. */
export function formatWhen(iso: string, timeZone = 'UTC'): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const parts = whenFormat(timeZone).formatToParts(d);
  const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('day')} ${get('month')} ${get('year')} ${get('hour')}:${get('minute')} ${timeZone === 'UTC' ? 'UTC' : ''}`.trim();
}

const e = escapeText;
const people = (n: number) => (n === 1 ? '1 person' : `${n} people`);

// ---- issue-form --------------------------------------------------------------------------------------

export type FormFieldName = FormField;

export interface IssueFormData {
  heading: string;
  /** See newFormId; kept when the form comes back with errors, so the fixed form is the same report. */
  formId: string;
  /** The `report lost device` form: sent with its own verb, logged as P1. */
  lostDevice: boolean;
  /** Prefilled input values (plain text, as typed). */
  values: Record<FormFieldName, string>;
  /** Server-side messages per field, '' for none; `form` is shown at the top. */
  errors: Record<FormFieldName | 'form', string>;
  categories: Choice[];
  severities: Choice[];
  limits: { title: number; description: number; location: number; site: number; faqQuestion: number };
}

export interface IssueFormOptions {
  categories: readonly string[];
  /** What the user typed before (a failed submit), or a prefill such as the FAQ question. */
  values?: Partial<Record<FormFieldName, unknown>>;
  errors?: FieldErrors;
  heading?: string;
  lostDevice?: boolean;
  /** The form's id when it comes back (errors); a new one otherwise. */
  formId?: string;
}

export function issueFormData(opts: IssueFormOptions): IssueFormData {
  const values = {} as Record<FormFieldName, string>;
  for (const f of FORM_FIELDS) {
    const v = opts.values?.[f];
    // What was typed comes back to be shortened, but at most four times a field's limit: the card must stay
    // under Teams' message size however much was pasted.
    values[f] = typeof v === 'string' ? v.slice(0, 4 * (f in FORM_LIMITS ? FORM_LIMITS[f as keyof typeof FORM_LIMITS] : 100)) : '';
  }
  const errors = { form: '' } as Record<FormFieldName | 'form', string>;
  for (const f of FORM_FIELDS) errors[f] = e(opts.errors?.[f] ?? '');
  const fieldErrors = FORM_FIELDS.some((f) => opts.errors?.[f]);
  errors.form = e(
    opts.errors?.form ?? (fieldErrors ? 'Some fields need a look before I can save this.' : ''),
  );
  return {
    heading: opts.heading ?? 'Log an issue',
    formId: opts.formId ?? newFormId(),
    lostDevice: opts.lostDevice ?? false,
    values,
    errors,
    categories: opts.categories.map((c) => ({ title: c, value: c })),
    severities: SEVERITIES.map((s) => ({ title: SEVERITY_LABEL[s], value: s })),
    limits: { ...FORM_LIMITS },
  };
}

// ---- issue-similar -----------------------------------------------------------------------------------

export interface SimilarItem {
  ref: string;
  /** " · you reported it" on the reporter's own issue, '' otherwise. */
  yours: string;
  title: string;
  status: string;
  category: string;
  created: string;
  affected: string;
}

export interface IssueSimilarData {
  site: string;
  /** Who reported them: "Others at <site> …", or, when one is the reporter's own, not called others'. */
  intro: string;
  items: SimilarItem[];
  /** The submitted form, carried back by "No, log mine" so nothing is typed twice (validated again). */
  form: Record<FormFieldName, string>;
  /** The form's id ('' for a form made before forms had one): "No, log mine" pressed twice logs once. */
  formId: string;
}

export function issueSimilarData(
  items: readonly IssueSummary[],
  form: Partial<Record<FormFieldName, unknown>>,
  formId = '',
  reporterId = '',
): IssueSimilarData {
  const values = issueFormData({ categories: [], values: form }).values;
  const site = e(values.site);
  const mine = (i: IssueSummary) => reporterId !== '' && i.reporter.id === reporterId;
  // Their own earlier report is among them (the same problem typed again): it is not "others'".
  const intro = items.some(mine)
    ? `Something similar at ${site} is already logged, one of them by you. If yours is this problem, you hear of it there; if another one is, add yourself to it.`
    : `Others at ${site} reported something similar. If one of them is your problem, add yourself to it: you get the same updates, and the champions see how many people it affects.`;
  return {
    formId,
    site,
    intro,
    items: items.map((i) => ({
      yours: mine(i) ? ' · you reported it' : '',
      ref: i.ref,
      title: e(i.title),
      status: STATUS_LABEL[i.status],
      category: e(i.category),
      created: formatWhen(i.createdAt),
      affected: `${people(i.affectedCount + 1)} affected`,
    })),
    form: values,
  };
}

// ---- issue-finished ----------------------------------------------------------------------------------

export interface IssueFinishedData {
  headline: string;
  /** "R-0043 is the same problem as R-0041, …" when the +1 was on a duplicate; '' otherwise. */
  sameAs: string;
  ref: string;
  title: string;
  /** The latest public comment (what was done, as the reporter was told); '' when there is none. */
  comment: string;
  commentBy: string;
  advice: string;
  /** The form the similar card carried: "Log it anyway" files it; without one, "Log an issue" opens a new form. */
  hasForm: boolean;
  form: Record<FormFieldName, string>;
  formId: string;
}

const FINISHED_AS: Partial<Record<Status, string>> = { resolved: 'resolved', closed: 'closed', wont_fix: "marked Won't fix" };

/**
 * "+1" on an offered issue that is finished since (resolved, closed, won't fix): what was done, from what its
 * reporter may read (public comments only), and a way to log the person's own report instead of following it.
 */
export function issueFinishedData(
  issue: Issue,
  opts: { form?: Partial<Record<FormFieldName, unknown>> | undefined; formId?: string | undefined; sameAs?: string | undefined } = {},
): IssueFinishedData {
  const shown = reporterView(issue);
  const latest = shown.comments.at(-1);
  const how = FINISHED_AS[shown.status] ?? STATUS_LABEL[shown.status];
  const when = shown.closedAt ? ` on ${formatWhen(shown.closedAt)}` : '';
  return {
    headline: `${shown.ref} was ${how}${when}`,
    sameAs: opts.sameAs ? `${opts.sameAs} is the same problem as ${shown.ref}.` : '',
    ref: shown.ref,
    title: e(shown.title),
    comment: latest ? e(latest.text) : '',
    commentBy: latest ? `${e(latest.by.name)} wrote:` : '',
    advice:
      shown.status === 'resolved'
        ? 'If it is still not fixed for you, log yours: the champions see it as a new issue.'
        : 'If you still have this problem, log yours: the champions see it as a new issue.',
    hasForm: opts.form !== undefined,
    form: issueFormData({ categories: [], values: opts.form ?? {} }).values,
    formId: opts.formId ?? '',
  };
}

// ---- issue-confirmation ------------------------------------------------------------------------------

export interface IssueConfirmationData {
  headline: string;
  ref: string;
  title: string;
  status: string;
  category: string;
  severity: string;
  location: string;
  site: string;
}

export function issueConfirmationData(issue: Issue): IssueConfirmationData {
  return {
    headline: 'Thanks, your issue is logged',
    ref: issue.ref,
    title: e(issue.title),
    status: STATUS_LABEL[issue.status],
    category: e(issue.category),
    severity: SEVERITY_LABEL[issue.severity],
    location: e(issue.location),
    site: e(issue.site),
  };
}

// ---- history lines -----------------------------------------------------------------------------------

const label = (v: string | undefined) => (v && v in STATUS_LABEL ? STATUS_LABEL[v as Status] : (v ?? ''));

export function historyLine(h: HistoryEntry): string {
  const by = e(h.by.name);
  switch (h.what) {
    case 'created':
      return `${by} logged it`;
    case 'status':
      return `${by} set the status ${label(h.from)} → ${label(h.to)}`;
    case 'priority':
      return `${by} set the priority ${h.from ?? 'none'} → ${h.to ?? 'none'}`;
    case 'assigned':
      return `${by} assigned it to ${e(h.to ?? '')}`;
    case 'comment':
      return h.visibility === 'public' ? `${by} commented` : `${by} added an internal note`;
    case 'duplicate':
      return `${by} marked it a duplicate of ${e(h.to ?? '')}`;
    case 'affected':
      return `${by} is affected too`;
  }
}

function historyLines(history: readonly HistoryEntry[], max: number) {
  const shown = history.slice(-max);
  const older = history.length - shown.length;
  return {
    history: shown.map((h) => ({ when: formatWhen(h.at), line: historyLine(h) })),
    olderHistory: older > 0 ? `and ${older} earlier ${older === 1 ? 'entry' : 'entries'}` : '',
  };
}

// ---- issue-triage ------------------------------------------------------------------------------------

export interface IssueTriageData {
  /** A banner, e.g. the conflict message "Amina already took this issue."; '' for none. */
  notice: string;
  ref: string;
  /** Carried in every action's data so a stale card is detectable. */
  version: number;
  title: string;
  description: string;
  reporter: string;
  site: string;
  created: string;
  status: string;
  statusColor: 'Attention' | 'Warning' | 'Accent' | 'Good' | 'Default';
  priority: string;
  priorityValue: string;
  location: string;
  category: string;
  severity: string;
  assignee: string;
  affected: string;
  extraFacts: Fact[];
  history: HistoryLine[];
  olderHistory: string;
  champions: Person[];
  /** "12 more champions are not listed here: …" when the whole team would take the card past Teams' limit; '' otherwise. */
  championsNote: string;
  /** False for a Closed issue: its priority and assignee are final, so the card offers no buttons for them. */
  editable: boolean;
  /** Whether "Duplicate of…" applies (the rule would refuse it from Waiting, Resolved, Won't fix). */
  canDuplicate: boolean;
  nextStatuses: Choice[];
  commentMax: number;
  refExample: string;
}

const STATUS_COLOR: Record<Status, IssueTriageData['statusColor']> = {
  new: 'Attention',
  triaged: 'Accent',
  in_progress: 'Accent',
  waiting: 'Warning',
  resolved: 'Good',
  closed: 'Default',
  wont_fix: 'Default',
  duplicate: 'Default',
};

export interface TriageCardOptions {
  /** Champions offered by "Assign…" (from src/roles). */
  champions: readonly Person[];
  notice?: string;
  historyLines?: number;
}

/**
 * What a card may weigh: Teams' limit less room for the activity around it (the attachment, the conversation and ids
 * of the message that carries it).
 */

/**
 * The triage card's data. Every champion is offered by "Assign…", as far as the card stays under Teams' limit: a big
 * champions team with long names would take it past that, and the channel would get no card at all. Those left out
 * are counted on the card (each can take the issue with "Assign to me").
 */
export function issueTriageData(issue: Issue, opts: TriageCardOptions): IssueTriageData {
  const data = triageDataOf(issue, opts);
  const all = data.champions;
  const withFirst = (n: number): IssueTriageData => ({
    ...data,
    champions: all.slice(0, n),
    championsNote: n < all.length ? `${all.length - n} more champions are not listed here: they can press Assign to me.` : '',
  });
  const fits = (n: number) => utf16Bytes(renderIssueCard('issue-triage', withFirst(n))) <= CARD_BUDGET_BYTES;
  return fits(all.length) ? data : withFirst(largestFitting(all.length - 1, fits));
}

function triageDataOf(issue: Issue, opts: TriageCardOptions): IssueTriageData {
  const extraFacts: Fact[] = [];
  if (issue.duplicateOf) extraFacts.push({ title: 'Duplicate of', value: issue.duplicateOf });
  if (issue.faqQuestion) extraFacts.push({ title: 'FAQ question', value: e(issue.faqQuestion) });
  const publicComments = issue.comments.filter((c) => c.visibility === 'public').length;
  if (issue.comments.length) {
    extraFacts.push({ title: 'Comments', value: `${issue.comments.length} (${publicComments} public)` });
  }
  const lastComment = issue.comments.at(-1);
  if (lastComment) {
    extraFacts.push({
      title: lastComment.visibility === 'public' ? 'Last comment' : 'Last note (internal)',
      value: `${e(lastComment.by.name)}: ${e(lastComment.text)}`,
    });
  }
  return {
    notice: e(opts.notice ?? ''),
    ref: issue.ref,
    version: issue.version,
    title: e(issue.title),
    description: e(issue.description),
    reporter: e(issue.reporter.name),
    site: e(issue.site),
    created: formatWhen(issue.createdAt),
    status: STATUS_LABEL[issue.status],
    statusColor: STATUS_COLOR[issue.status],
    priority: issue.priority ?? 'No priority',
    priorityValue: issue.priority ?? 'none',
    location: e(issue.location),
    category: e(issue.category),
    severity: SEVERITY_LABEL[issue.severity],
    assignee: issue.assignee ? e(issue.assignee.name) : 'Nobody yet',
    affected:
      issue.affected.length === 0
        ? `1 person (${e(issue.reporter.name)})`
        : `${people(issue.affected.length + 1)} (${e(issue.reporter.name)} and ${issue.affected.length} more)`,
    extraFacts,
    ...historyLines(issue.history, opts.historyLines ?? 5),
    champions: opts.champions.map((c) => ({ id: c.id, name: c.name })),
    championsNote: '',
    editable: isEditable(issue),
    canDuplicate: issue.status === 'duplicate' || canTransition(issue.status, 'duplicate'),
    nextStatuses: TRANSITIONS[issue.status]
      .filter((s) => s !== 'duplicate')
      .map((s) => ({ title: STATUS_LABEL[s], value: s })),
    commentMax: LIMITS.comment,
    refExample: issue.ref.replace(/\d+$/, '0042'),
  };
}

// ---- issue-list --------------------------------------------------------------------------------------

export type IssueListKind = 'triage' | 'mine' | 'assigned';

export interface IssueListItem {
  ref: string;
  title: string;
  details: string;
  status: string;
  priority: string;
}

export interface IssueListData {
  heading: string;
  subheading: string;
  /** A done list sorted among only the most recently closed (there were more): says so; '' otherwise. */
  note: string;
  emptyText: string;
  items: IssueListItem[];
  paging: {
    list: IssueListKind;
    filters: QueueFilters;
    hasNext: boolean;
    hasFirst: boolean;
    next: string;
  };
}

export interface IssueListOptions {
  list: IssueListKind;
  page: Page<IssueSummary>;
  /** Whether this page was reached with a token (then "First page" is offered). */
  paged?: boolean;
  filters?: QueueFilters;
  heading?: string;
}

const LIST_TEXT: Record<IssueListKind, { heading: string; empty: string }> = {
  triage: { heading: 'Triage queue', empty: 'Nothing waiting here.' },
  mine: { heading: 'Your issues', empty: 'You have not logged any issues. Type "report" to log one.' },
  assigned: { heading: 'Assigned to you', empty: 'Nothing is assigned to you right now.' },
};

/** How a done list is ordered: its own order (most recently closed first) or the one asked for. */
const DONE_ORDER: Record<ListSort | 'queue', string> = {
  queue: 'Most recently closed first',
  oldest: 'Oldest logged first',
  newest: 'Newest logged first',
  priority: 'By priority, then oldest logged',
};

export function issueListData(opts: IssueListOptions): IssueListData {
  const filters = opts.filters ?? {};
  const described = [
    filters.status ? `status ${STATUS_LABEL[filters.status]}` : '',
    filters.category ? `category ${e(filters.category)}` : '',
    filters.site ? `site ${e(filters.site)}` : '',
    filters.assigneeId ? 'one assignee' : '',
  ].filter(Boolean);
  const order =
    opts.list === 'mine'
      ? 'Newest first'
      : filters.status && !isOpen(filters.status)
        ? DONE_ORDER[filters.sort ?? 'queue']
        : 'New first, then by priority and age';
  return {
    heading: opts.heading ?? LIST_TEXT[opts.list].heading,
    subheading: [described.length ? `Filtered: ${described.join(', ')}` : '', order]
      .filter(Boolean)
      .join(' · '),
    note: opts.page.truncated ? sortedOnlyNote(opts.page.sorted) : '',
    // A later page with nothing on it: the list changed since the card was drawn (issues triaged, closed or
    // removed), which is not the same as the list being empty.
    emptyText: opts.paged ? 'No more issues here: the list has changed since this card was made. Press First page.' : LIST_TEXT[opts.list].empty,
    items: opts.page.items.map((i) => ({
      ref: i.ref,
      title: e(i.title),
      details: [
        e(i.category),
        e(i.site),
        i.assignee ? e(i.assignee.name) : 'unassigned',
        formatWhen(i.createdAt),
        i.affectedCount ? `+${i.affectedCount}` : '',
      ]
        .filter(Boolean)
        .join(' · '),
      status: STATUS_LABEL[i.status],
      priority: i.priority ?? '',
    })),
    paging: {
      list: opts.list,
      filters,
      hasNext: opts.page.next !== null,
      hasFirst: Boolean(opts.paged),
      next: opts.page.next ?? '',
    },
  };
}

// ---- issue-detail ------------------------------------------------------------------------------------

export interface IssueDetailData {
  ref: string;
  title: string;
  status: string;
  description: string;
  location: string;
  category: string;
  severity: string;
  site: string;
  created: string;
  extraFacts: Fact[];
  comments: { by: string; when: string; text: string }[];
  /** "3 earlier comments not shown" when the card keeps only the newest; '' when all are shown. */
  olderComments: string;
  history: HistoryLine[];
  olderHistory: string;
}

/** One issue with its history; for the reporter, internal notes are left out (see `reporterView`). */
export function issueDetailData(
  issue: Issue,
  audience: 'reporter' | 'champion',
  historyMax = 15,
): IssueDetailData {
  const shown = audience === 'reporter' ? reporterView(issue) : issue;
  const extraFacts: Fact[] = [
    { title: 'Assignee', value: shown.assignee ? e(shown.assignee.name) : 'Nobody yet' },
    { title: 'Affected', value: people(shown.affected.length + 1) },
  ];
  if (shown.priority) extraFacts.push({ title: 'Priority', value: shown.priority });
  if (shown.duplicateOf) extraFacts.push({ title: 'Duplicate of', value: shown.duplicateOf });
  return {
    ref: shown.ref,
    title: e(shown.title),
    status: STATUS_LABEL[shown.status],
    description: e(shown.description),
    location: e(shown.location),
    category: e(shown.category),
    severity: SEVERITY_LABEL[shown.severity],
    site: e(shown.site),
    created: formatWhen(shown.createdAt),
    extraFacts,
    ...recentComments(shown.comments),
    ...historyLines(shown.history, historyMax),
  };
}

/**
 * The newest comments, up to 10 and up to COMMENT_BUDGET bytes of card JSON (measured as the card's size is,
 * `utf16Bytes`): ten comments at their full 2,000 characters would take the card past the 40 KB Teams accepts,
 * and the issue would not open at all. The newest is always shown whole (one comment fits by itself).
 */
const COMMENT_BUDGET = 18_000;
function recentComments(comments: readonly Comment[]): Pick<IssueDetailData, 'comments' | 'olderComments'> {
  const picked: IssueDetailData['comments'] = [];
  let used = 0;
  for (const c of comments.slice(-10).reverse()) {
    const row = { by: `${e(c.by.name)}${c.visibility === 'internal' ? ' (internal)' : ''}`, when: formatWhen(c.at), text: e(c.text) };
    const size = utf16Bytes(row);
    if (picked.length && used + size > COMMENT_BUDGET) break;
    picked.unshift(row);
    used += size;
  }
  const older = comments.length - picked.length;
  return {
    comments: picked,
    olderComments: older > 0 ? `${older} earlier ${older === 1 ? 'comment' : 'comments'} not shown` : '',
  };
}

// ---- issue-update ------------------------------------------------------------------------------------

export interface IssueUpdateData {
  headline: string;
  ref: string;
  title: string;
  status: string;
  when: string;
  comment: string;
  commentBy: string;
  hint: string;
}

/**
 * The 1:1 message for a status change or a public comment (`notifyReporter` of an action). A follower ("+1")
 * did not report it, and the champion waits on the reporter, not on them: their card says "an issue you follow".
 */
export function issueUpdateData(
  issue: Issue,
  notification: Notification,
  entry: HistoryEntry,
  audience: 'reporter' | 'follower' = 'reporter',
): IssueUpdateData {
  const comment =
    notification.kind === 'comment' ? issue.comments.find((c) => c.id === entry.commentId) : undefined;
  const follower = audience === 'follower';
  const hints: Partial<Record<Status, string>> = {
    waiting: follower
      ? 'A champion is waiting on the reporter; you will hear when it moves on.'
      : 'A champion needs something from you: see the comment, or open the issue.',
    resolved: `If it is still not fixed for you, log a new issue and mention ${issue.ref}.`,
    duplicate: issue.duplicateOf
      ? follower
        ? `You now follow ${issue.duplicateOf} instead; you will hear when it changes.`
        : `It is followed as ${issue.duplicateOf}; you can open that one too.`
      : '',
  };
  const which = follower ? `An issue you follow (${issue.ref})` : 'Your issue';
  return {
    headline:
      notification.kind === 'comment'
        ? follower
          ? `New comment on an issue you follow (${issue.ref})`
          : `New comment on your issue ${issue.ref}`
        : issue.status === 'duplicate'
          ? `${which} is the same as ${issue.duplicateOf ?? 'another one'}`
          : `${which} is now ${STATUS_LABEL[issue.status]}`,
    ref: issue.ref,
    title: e(issue.title),
    status: STATUS_LABEL[issue.status],
    when: formatWhen(entry.at),
    comment: comment ? e(comment.text) : '',
    commentBy: comment ? `${e(comment.by.name)} wrote:` : '',
    hint: notification.kind === 'status' ? (hints[issue.status] ?? '') : '',
  };
}

// ---- SLA and urgent messages ------------------------------------------------------------------------

/** The markdown line the triage channel or the rollout team reads for an SLA event or a lost device. */
export function slaText(
  i: Pick<IssueSummary, 'ref' | 'title' | 'category' | 'site' | 'severity' | 'priority'>,
  kind: 'reminder' | 'escalation' | 'lostDevice',
  ageMinutes: number,
): string {
  const what = `**${i.ref}** — ${e(i.title)} (${e(i.category)}, ${e(i.site)})`;
  const hours = (ageMinutes / 60).toFixed(1);
  if (kind === 'lostDevice') {
    return `Urgent: ${what} is a lost or stolen device, logged as P1. Block and wipe it, and tell the Data Protection Officer.`;
  }
  if (kind === 'reminder') return `Reminder: ${what} has waited ${hours} h without triage. Type "triage" to see the queue.`;
  const why = i.severity === 'blocks' ? 'blocks someone’s work' : `is ${i.priority ?? 'urgent'}`;
  return `Escalation: ${what} ${why} and has waited ${hours} h without triage.`;
}

// ---- rendering ---------------------------------------------------------------------------------------

export interface IssueCards {
  'issue-cancelled': Record<string, never>;
  'issue-held': Record<string, never>;
  'issue-finished': IssueFinishedData;
  'issue-form': IssueFormData;
  'issue-similar': IssueSimilarData;
  'issue-confirmation': IssueConfirmationData;
  'issue-triage': IssueTriageData;
  'issue-list': IssueListData;
  'issue-detail': IssueDetailData;
  'issue-update': IssueUpdateData;
}

/** Fills `cards/<name>.json` with data of the matching type. */
export function renderIssueCard<K extends keyof IssueCards>(name: K, data: IssueCards[K]): AdaptiveCard {
  return renderCard(name, data);
}
