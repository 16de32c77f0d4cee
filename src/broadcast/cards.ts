import { type AdaptiveCard, CARD_BUDGET_BYTES, escapeText, renderCard, utf16Bytes } from '../cards/template.js';
import { sectionExcerpt } from '../faq/docs/excerpt.js';
import { formatWhen } from '../issues/cards.js';
import { DELIVERY_STATE_LABEL, type DeliveryState, TEXT_LIMITS, type MessageContent } from './model.js';
import { type Progress, type Report, shareText, timeLeftText } from './progress.js';
import { isPseudonym } from '../privacy/pseudonym.js';
import { clip } from '../text/fit.js';
import { TYPED_AUDIENCE, TYPED_CHOICE } from './audience.js';
import { count, people } from '../text/count.js';

/**
 * Typed data for the broadcast cards (`cards/broadcast-*.json`) and the builders that fill them. Titles,
 * names and what people typed go through `escapeText`; a message's body is the author's markdown, turned
 * into the subset a card renders (as guidance sections are).
 */

const e = escapeText;

export interface Fact {
  title: string;
  value: string;
}

// ---- broadcast-message: what recipients read -----------------------------------------------------------

export interface MessageCardData {
  sendId: string;
  /** Teams user id of the one reader of a 1:1 card, so Teams refreshes it for them ('' in channels). */
  refreshUserId: string;
  title: string;
  image: string;
  imageAlt: string;
  body: string;
  /** "✓ You acknowledged this on …", or '' (then the "Got it" button shows). */
  acknowledged: string;
  notice: string;
  footer: string;
  links: { title: string; url: string }[];
}

export interface MessageCardOptions {
  sendId: string;
  refreshUserId?: string;
  /** When the reader acknowledged it (ISO), if they did. */
  acknowledgedAt?: string;
  notice?: string;
  footer?: string;
  timeZone?: string;
}

/** The author's markdown in the subset a card's TextBlock renders (lists, bold, links), `<at>` kept out. */
export function cardMarkdown(markdown: string): string {
  const section = { id: '', doc: '', docTitle: '', heading: '', headingPath: [], anchor: '', level: 0, text: '', markdown };
  return sectionExcerpt(section, 6000).markdown.replace(/</g, '\u2039').replace(/>/g, '\u203A');
}

export function messageCardData(content: MessageContent, opts: MessageCardOptions): MessageCardData {
  return {
    sendId: opts.sendId,
    refreshUserId: opts.refreshUserId ?? '',
    title: e(content.title),
    image: content.image ?? '',
    imageAlt: e(content.title),
    body: cardMarkdown(content.body),
    acknowledged: opts.acknowledgedAt ? `✓ You acknowledged this on ${formatWhen(opts.acknowledgedAt, opts.timeZone)}` : '',
    notice: e(opts.notice ?? ''),
    footer: e(opts.footer ?? 'From the rollout team'),
    links: content.links.map((l) => ({ title: l.title, url: l.url })),
  };
}

export function messageCard(content: MessageContent, opts: MessageCardOptions): AdaptiveCard {
  const card = renderCard<MessageCardData>('broadcast-message', messageCardData(content, opts));
  // A template drops a `$when: false` object to null; Teams wants no refresh at all.
  if (!card.refresh) delete card.refresh;
  return card;
}

// ---- broadcast-confirm -------------------------------------------------------------------------------

export interface ConfirmCardData {
  heading: string;
  id: string;
  /** The message as confirmed (Confirmation.version): a press after the plan file changed it sends nothing. */
  version: string;
  /** The sends of this message under way that the card warned of (Confirmation.underWay), comma-separated. */
  underWay: string;
  title: string;
  audience: string;
  recipients: string;
  extraFacts: Fact[];
  notes: string;
  canSend: boolean;
  sendLabel: string;
}

export interface Confirmation {
  id: string;
  title: string;
  audienceLabel: string;
  toChannel: boolean;
  recipients: number;
  /** Of those, how many have no 1:1 chat with the app (undefined: too many to check before sending). */
  notInstalled: number | undefined;
  notes: string[];
  /** Teams did not answer for its team (throttled, down): who is in it is not known yet, and it may be sent to wait. */
  unanswered?: boolean;
  /** A hash of what the card confirms (the message's text and audience): see BroadcastService.send. */
  version: string;
  /** The ids of the sends of this message under way when the card was drawn (it warned of them): see BroadcastService.send. */
  underWay?: string[];
}

export function confirmCard(c: Confirmation): AdaptiveCard {
  const reached = people(c.recipients);
  // Nobody read because Teams did not answer: sent, it waits for Teams (BroadcastService.send).
  const waiting = !c.recipients && c.unanswered === true;
  const extraFacts: Fact[] =
    c.notInstalled === undefined || c.toChannel
      ? []
      : [{ title: 'Without the app', value: `${count(c.notInstalled)} (reported as "not installed")` }];
  return renderCard<ConfirmCardData>('broadcast-confirm', {
    heading: c.recipients ? 'Send this message now?' : waiting ? 'Teams did not answer for this audience just now' : 'Nobody to send this to',
    id: c.id,
    version: c.version,
    underWay: (c.underWay ?? []).join(','),
    title: e(c.title),
    audience: e(c.audienceLabel),
    recipients: c.toChannel ? 'one post in the channel' : waiting ? 'not known yet' : `${reached}, 1:1`,
    extraFacts: waiting ? [] : extraFacts,
    notes: e(c.notes.join(' ')),
    canSend: c.recipients > 0 || waiting,
    sendLabel: c.toChannel ? 'Post it' : waiting ? 'Send when Teams answers' : `Send to ${reached}`,
  });
}

// ---- broadcast-progress and broadcast-report ------------------------------------------------------------

/** What the progress card and the report (the same post, redrawn) both show. */
interface SendFiguresData {
  heading: string;
  sendId: string;
  title: string;
  audience: string;
  facts: Fact[];
  note: string;
}

export interface ProgressCardData extends SendFiguresData {
  canCancel: boolean;
}

const SHOWN_STATES: DeliveryState[] = ['sent', 'failed', 'blocked', 'notInstalled', 'cancelled'];

export function progressCard(p: Progress): AdaptiveCard {
  const facts: Fact[] = [{ title: 'Sent', value: `${count(p.counts.sent)} of ${count(p.total)}` }];
  for (const s of SHOWN_STATES.slice(1)) if (p.counts[s]) facts.push({ title: DELIVERY_STATE_LABEL[s], value: count(p.counts[s]) });
  facts.push({ title: 'Pending', value: count(p.counts.pending) });
  if (p.held) facts.push({ title: 'Held for working hours', value: count(p.held) });
  facts.push({ title: 'Rate', value: `${p.rate.toFixed(1)} messages/s` });
  facts.push({ title: 'Time left', value: p.counts.pending - p.held > 0 ? timeLeftText(p.secondsLeft) : '—' });
  return renderCard<ProgressCardData>('broadcast-progress', {
    heading: p.cancelled ? 'Cancelled: finishing what was already handed over' : 'Sending…',
    sendId: p.sendId,
    title: e(p.title),
    audience: e(p.audienceLabel),
    facts,
    note: p.held ? 'Messages to people outside their working hours wait until their next working hour.' : '',
    canCancel: !p.cancelled,
  });
}

export interface ReportCardData extends SendFiguresData {
  failed: number;
  unacknowledged: number;
}

export function reportCard(r: Report, timeZone = 'UTC'): AdaptiveCard {
  const facts: Fact[] = SHOWN_STATES.filter((s) => s === 'sent' || r.counts[s]).map((s) => ({
    title: DELIVERY_STATE_LABEL[s],
    value: count(r.counts[s]),
  }));
  if (r.counts.pending) facts.push({ title: 'Pending', value: count(r.counts.pending) });
  facts.push(
    r.toChannel
      ? { title: 'Acknowledged', value: `${people(r.channelAcknowledged)} in the channel` }
      : { title: 'Acknowledged', value: shareText(r.acknowledged, r.reached) },
  );
  if (r.startedAt) facts.push({ title: 'Started', value: formatWhen(r.startedAt, timeZone) });
  if (r.finishedAt) facts.push({ title: 'Finished', value: formatWhen(r.finishedAt, timeZone) });
  const cancelled = r.status === 'cancelled';
  return renderCard<ReportCardData>('broadcast-report', {
    heading: cancelled ? 'Delivery report (cancelled)' : r.status === 'done' ? 'Delivery report' : 'Delivery report so far',
    sendId: r.sendId,
    title: e(r.title),
    audience: e(r.audienceLabel),
    facts,
    note: e(
      [
        cancelled ? `Cancelled${r.cancelledBy ? ` by ${r.cancelledBy}` : ''}: what was not yet sent stays unsent.` : '',
        r.unconfirmed
          ? `${count(r.unconfirmed)} of the failed may have reached people (the sender stopped when the request may have left): "Resend to failed" leaves ${r.unconfirmed === 1 ? 'it' : 'them'} out, so nobody gets it twice.`
          : '',
      ]
        .filter(Boolean)
        .join(' '),
    ),
    failed: r.failed,
    unacknowledged: r.status === 'done' && !r.toChannel ? r.unacknowledged : 0,
  });
}

// ---- broadcast-plan ------------------------------------------------------------------------------------

export interface PlanItem {
  id: string;
  stage: string;
  title: string;
  audience: string;
  when: string;
  status: string;
}

export interface PlanCardData {
  heading: string;
  intro: string;
  notice: string;
  items: PlanItem[];
  empty: string;
  pageText: string;
  /** This page (the service's cursor): More and Previous page from it, not from a position. */
  cursor: string;
  hasPrevious: boolean;
  hasNext: boolean;
}

export function planCard(
  items: PlanItem[],
  page: { first: number; total: number; cursor: string; hasPrevious: boolean; hasNext: boolean; notice?: string },
  timeZone: string,
): AdaptiveCard {
  return renderCard<PlanCardData>('broadcast-plan', {
    heading: 'Communication plan',
    intro: `Times in ${timeZone} unless a cohort's own. Type "preview <id>", "send <id>" or "cancel <id>"; "announce" for a message not in the plan.`,
    notice: e(page.notice ?? ''),
    items: items.map((i) => ({
      id: i.id,
      stage: i.stage,
      title: e(i.title),
      audience: e(i.audience),
      when: e(i.when),
      status: e(i.status),
    })),
    empty: items.length ? '' : 'The plan has no messages yet (COMM_PLAN_FILE), and nothing was announced.',
    pageText: page.hasPrevious || page.hasNext ? `${page.first + 1}–${page.first + items.length} of ${page.total}` : '',
    cursor: page.cursor,
    hasPrevious: page.hasPrevious,
    hasNext: page.hasNext,
  });
}

// ---- broadcast-announce-form ------------------------------------------------------------------------------

export const ANNOUNCE_FIELDS = ['title', 'body', 'audience', 'timing', 'date', 'time'] as const;
export type AnnounceField = (typeof ANNOUNCE_FIELDS)[number];
/** `audienceTyped`: a user group or cohort typed, when the form could not list them all (audience "typed"). */
export type AnnounceValues = Record<AnnounceField, string> & { audienceTyped?: string };
export type AnnounceErrors = Partial<Record<'form' | 'title' | 'body' | 'audience' | 'when', string>>;

export interface AnnounceFormData {
  values: AnnounceValues;
  errors: Record<'form' | 'title' | 'body' | 'audience' | 'when', string>;
  limits: { title: number; body: number };
  zone: string;
  audiences: { title: string; value: string }[];
  /** Said when some user groups and cohorts are not listed (they are typed instead); '' when all are. */
  omitted: string;
  audienceTyped: string;
}

type AudienceChoices = { choices: { title: string; value: string }[]; omitted: number };

/**
 * The announce form, empty or shown again with what was typed and why it was not sent. Shown again, it must stay
 * one card Teams accepts (over 40 KB Teams refuses it and the person gets nothing), yet a client sends a body of
 * up to 40,000 characters. So, when the form as typed does not fit:
 * - first the user groups and cohorts are no longer listed (the one chosen stays; the rest are typed, as on a
 *   large rollout), which leaves room for any body within the limit, however much JSON escapes it;
 * - then, for a body over the limit that still does not fit, the box holds as much of its start as fits (more
 *   than the limit, so there is enough to shorten from) and the card says how much was not kept, and from where.
 * Nothing is stored for it: a message that cannot be sent anyway is not kept on the server, and the person is
 * told plainly what the box lacks rather than getting no answer.
 */
export function announceForm(
  values: Partial<AnnounceValues>,
  errors: AnnounceErrors,
  audiences: AudienceChoices,
  zone: string,
): AdaptiveCard {
  const fits = (card: AdaptiveCard) => utf16Bytes(card) <= CARD_BUDGET_BYTES;
  const full = announceFormCard(values, errors, audiences, zone);
  if (fits(full)) return full;
  const fewer = chosenAudienceOnly(audiences, values.audience ?? '');
  const compact = announceFormCard(values, errors, fewer, zone);
  if (fits(compact)) return compact;
  const chars = Array.from(values.body ?? '');
  const cut = (k: number) => {
    // At a space near the cut, so the box does not end mid-word.
    const space = chars.lastIndexOf(' ', k);
    const end = k < chars.length && space > k - 200 && space > 0 ? space : k;
    const note = [
      errors.body,
      `The message typed (${count(chars.length)} characters) is too long to show again in full on this card: the box holds its first ${count(end)} characters;`,
      `the other ${count(chars.length - end)} characters, from "${clip(chars.slice(end, end + 40).join('').trim(), 30)}", are not kept.`,
      `Shorten it to at most ${count(TEXT_LIMITS.body)} characters and send again.`,
    ].filter(Boolean).join(' ');
    return announceFormCard({ ...values, body: chars.slice(0, end).join('') }, { ...errors, body: note }, fewer, zone);
  };
  // The longest start of the body that fits (the note's figures change its size a little: checked at the end).
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(cut(mid))) lo = mid;
    else hi = mid - 1;
  }
  let card = cut(lo);
  while (lo > 0 && !fits(card)) card = cut(--lo);
  return card;
}

/** The fixed audiences, and of the user groups and cohorts only the one chosen; the others are typed. */
function chosenAudienceOnly(audiences: AudienceChoices, chosen: string): AudienceChoices {
  const listed = (v: string) => v.startsWith('group:') || v.startsWith('cohort:');
  const kept = audiences.choices.filter((c) => c.value !== TYPED_AUDIENCE && (!listed(c.value) || c.value === chosen));
  const dropped = audiences.choices.filter((c) => listed(c.value) && c.value !== chosen).length;
  const omitted = audiences.omitted + dropped;
  return { choices: omitted ? [...kept, { ...TYPED_CHOICE }] : kept, omitted };
}

function announceFormCard(
  values: Partial<AnnounceValues>,
  errors: AnnounceErrors,
  audiences: AudienceChoices,
  zone: string,
): AdaptiveCard {
  return renderCard<AnnounceFormData>('broadcast-announce-form', {
    values: {
      title: values.title ?? '',
      body: values.body ?? '',
      audience: values.audience ?? '',
      timing: values.timing || 'now',
      date: values.date ?? '',
      time: values.time ?? '',
    },
    errors: {
      form: e(errors.form ?? ''),
      title: e(errors.title ?? ''),
      body: e(errors.body ?? ''),
      audience: e(errors.audience ?? ''),
      when: e(errors.when ?? ''),
    },
    limits: { title: TEXT_LIMITS.title, body: TEXT_LIMITS.body },
    zone,
    audiences: audiences.choices.map((c) => ({ title: e(c.title), value: c.value })),
    omitted: audiences.omitted
      ? `${audiences.omitted} more user groups and cohorts than fit here: choose "Another user group or cohort" and type its id (or its name).`
      : '',
    audienceTyped: clip(values.audienceTyped ?? '', 200),
  });
}

// ---- broadcast-celebrate-form and broadcast-celebration -------------------------------------------------

export type CelebrateValues = { who: string; what: string; image: string };
export type CelebrateErrors = Partial<Record<'form' | 'who' | 'what' | 'image', string>>;

export interface CelebrateFormData {
  values: CelebrateValues;
  errors: Record<'form' | 'who' | 'what' | 'image', string>;
  /** The server's limits, as the inputs' maxLength: the client stops typing there (the server still checks). */
  limits: { what: number; image: number };
  /** The choices shown where the client has no people picker: people the app knows by name. */
  people: { id: string; name: string }[];
}

export function celebrateForm(
  values: Partial<CelebrateValues>,
  errors: CelebrateErrors,
  people: { id: string; name: string }[],
): AdaptiveCard {
  return renderCard<CelebrateFormData>('broadcast-celebrate-form', {
    values: { who: values.who ?? '', what: values.what ?? '', image: values.image ?? '' },
    errors: {
      form: e(errors.form ?? ''),
      who: e(errors.who ?? ''),
      what: e(errors.what ?? ''),
      image: e(errors.image ?? ''),
    },
    limits: { what: TEXT_LIMITS.celebration, image: TEXT_LIMITS.url },
    people,
  });
}

export interface CelebrationCardData {
  id: string;
  headline: string;
  what: string;
  image: string;
  byline: string;
  kudosText: string;
  notice: string;
  mentions: { id: string; name: string }[];
}

export interface CelebrationView {
  id: string;
  people: { id: string; name: string }[];
  what: string;
  image: string;
  /** Who posted it; null for a win the app noticed in the rollout's own data. */
  by: { name: string } | null;
  at: string;
  kudos: number;
}

/** A name as it may stand inside `<at>…</at>` (no angle brackets), shortened for the card. */
export const mentionName = (name: string) => name.replace(/[<>]/g, '').trim().slice(0, 80) || 'a colleague';

/** "A", "A and B", "A, B and C". */
function listOf(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export function celebrationCard(c: CelebrationView, notice = ''): AdaptiveCard {
  const named = c.people.map((p) => ({ id: p.id, name: mentionName(p.name) }));
  // Someone forgotten since is their stand-in: named plainly, as no Teams user has that id to mention.
  const mentions = named.filter((p) => !isPseudonym(p.id));
  const headline = named.length
    ? `🎉 Well done, ${listOf(named.map((m) => (isPseudonym(m.id) ? e(m.name) : `<at>${m.name}</at>`)))}!`
    : '🎉 A win for the rollout';
  return renderCard<CelebrationCardData>('broadcast-celebration', {
    id: c.id,
    headline,
    what: c.by ? e(c.what) : c.what,
    image: c.image,
    byline: c.by ? `Celebrated by ${e(c.by.name)} · ${formatWhen(c.at).replace(/ \d\d:\d\d.*$/, '')}` : 'Noticed by Rollout Desk in the rollout’s own figures',
    kudosText: c.kudos ? `👏 ${count(c.kudos)} kudos` : 'Be the first to send kudos',
    notice: e(notice),
    mentions,
  });
}
