import { type AdaptiveCard, escapeText, renderCard, TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../cards/template.js';
import { SEVERITIES, SEVERITY_LABEL, STATUS_LABEL } from '../issues/model.js';
import type { Membership, Rollout } from '../rollout/index.js';
import { goLiveText } from '../rollout/index.js';
import type { AgendaView } from './agenda.js';
import { dateTimeIn, spanIn, zoneLabel } from './display.js';
import type { Occurrence } from './model.js';
import type { TimelineItem } from './rules.js';
import { type AddForm, type Offer, QUESTION_LIMIT, type SessionPage, type Viewer } from './service.js';

/**
 * Typed data for the office-hours cards (`cards/officehours-*.json`) and the builders that fill it. Text
 * someone typed (questions, titles, names) goes through `escapeText` before a TextBlock or FactSet; input
 * values and choice titles stay as typed.
 */

const e = escapeText;

export interface Choice {
  title: string;
  value: string;
}

/** One session as a list line: when (in the reader's zone), who hosts, seats, and what the reader can do. */
export interface SessionLine {
  occurrenceId: string;
  title: string;
  when: string;
  hosts: string;
  seats: string;
  topic: string;
  joinUrl: string;
  canBook: boolean;
  booked: boolean;
  bookingText: string;
  calendarUrl: string;
}

/** Data for cards/officehours-schedule.json. */
export interface ScheduleCardData {
  heading: string;
  zoneNote: string;
  notice: string;
  /** After "Cancel my seat": the cancelled seat's calendar file, which removes the entry; '' for none. */
  removeUrl: string;
  /** Prefilled in every "Book a seat" form: the FAQ question the reader came from. */
  question: string;
  questionLabel: string;
  empty: boolean;
  sessions: SessionLine[];
  /** "Sessions 6–10 of 14 in the next four weeks" when there is more than one page, else empty. */
  pageNote: string;
  /** The pages before and after this one (-1: none), for "Earlier sessions" and "Later sessions". */
  previousPage: number;
  nextPage: number;
}

/** Data for cards/officehours-booking.json. */
export interface BookingCardData {
  headline: string;
  session: SessionLine;
  question: string;
  zoneNote: string;
}

/** Data for cards/officehours-training.json. */
export interface TrainingCardData {
  heading: string;
  belongs: string;
  zoneNote: string;
  empty: boolean;
  emptyText: string;
  items: { course: string; title: string; status: string; color: string; detail: string; session: SessionLine | null; canBook: boolean; booked: boolean }[];
}

/** Data for cards/officehours-agenda.json. */
export interface AgendaCardData {
  title: string;
  when: string;
  notice: string;
  occurrenceId: string;
  counts: string;
  hasQuestions: boolean;
  questions: {
    personId: string;
    name: string;
    question: string;
    titleValue: string;
    status: string;
    open: boolean;
  }[];
  hasAttendees: boolean;
  attendees: { personId: string; name: string; value: string }[];
  openIssues: string;
  hasPopular: boolean;
  popular: { line: string }[];
  hasGaps: boolean;
  gaps: { line: string }[];
  categories: Choice[];
  severities: Choice[];
}

/** Data for cards/officehours-form.json. */
export interface AddFormCardData {
  error: string;
  values: Required<AddForm>;
  kinds: Choice[];
  repeats: Choice[];
  cohorts: Choice[];
  groups: Choice[];
}

/** "Times in Asia/Kolkata (IST)", or programme time with why. */
export function zoneNote(viewer: Pick<Viewer, 'zone' | 'zoneKnown'>, at: Date): string {
  return viewer.zoneKnown
    ? `Times in your time zone, ${zoneLabel(viewer.zone, at)}.`
    : `Times in ${zoneLabel(viewer.zone, at)}, programme time: Teams did not tell me your time zone.`;
}

export function sessionLine(offer: Offer, zone: string, now: Date): SessionLine {
  const o = offer.occurrence;
  const left = Math.max(0, o.session.capacity - offer.seats.booked);
  const booked = offer.mine !== undefined;
  return {
    occurrenceId: o.id,
    title: e(o.session.title),
    when: spanIn(o, zone),
    hosts: o.session.hosts.map((h) => e(h.name)).join(', ') || 'To be confirmed',
    seats: left === 0 ? `Full (${o.session.capacity} seats)` : `${left} of ${o.session.capacity} seats left`,
    topic: e(o.session.topic ?? ''),
    joinUrl: o.session.joinUrl,
    canBook: !booked && left > 0 && o.status === 'scheduled' && o.start.getTime() > now.getTime(),
    booked,
    bookingText: offer.mine ? `You're booked (${offer.mine.id})${offer.mine.question ? `, bringing: ${e(offer.mine.question)}` : '.'}` : '',
    calendarUrl: offer.calendarUrl ?? '',
  };
}

export function scheduleCard(
  list: SessionPage,
  viewer: Pick<Viewer, 'zone' | 'zoneKnown'>,
  now: Date,
  opts: { question?: string; notice?: string; heading?: string; removeUrl?: string | undefined } = {},
): AdaptiveCard {
  const { offers } = list;
  const paged = list.total > offers.length;
  return renderCard<ScheduleCardData>('officehours-schedule', {
    heading: opts.heading ?? 'Next office hours',
    zoneNote: zoneNote(viewer, now),
    notice: e(opts.notice ?? ''),
    removeUrl: opts.removeUrl ?? '',
    question: opts.question ?? '',
    questionLabel: `Your question, to send ahead (optional, at most ${QUESTION_LIMIT} characters)`,
    empty: offers.length === 0,
    sessions: offers.map((o) => sessionLine(o, viewer.zone, now)),
    pageNote: paged ? `Sessions ${list.from}–${list.from + offers.length - 1} of ${list.total} in the next four weeks` : '',
    previousPage: list.page > 0 ? list.page - 1 : -1,
    nextPage: list.from + offers.length - 1 < list.total ? list.page + 1 : -1,
  });
}

export function bookingCard(offer: Offer, viewer: Pick<Viewer, 'zone' | 'zoneKnown'>, now: Date, headline?: string): AdaptiveCard {
  return renderCard<BookingCardData>('officehours-booking', {
    headline: headline ?? `You're booked for ${e(offer.occurrence.session.title)}`,
    session: sessionLine(offer, viewer.zone, now),
    question: e(offer.mine?.question ?? ''),
    zoneNote: zoneNote(viewer, offer.occurrence.start),
  });
}

const STATUS: Record<TimelineItem['status'], { label: string; color: string }> = {
  attended: { label: 'Attended', color: 'Good' },
  booked: { label: 'Booked', color: 'Accent' },
  missed: { label: 'Missed', color: 'Attention' },
  next: { label: 'Next', color: 'Accent' },
  unscheduled: { label: 'Not scheduled yet', color: 'Default' },
};

export function trainingCard(
  training: { membership: Membership; items: (TimelineItem & { offer?: Offer })[] },
  viewer: Pick<Viewer, 'zone' | 'zoneKnown'>,
  now: Date,
): AdaptiveCard {
  const m = training.membership;
  const groups = m.groups.map((g) => e(g.name)).join(', ');
  const belongs = groups ? `${groups}${m.cohort ? ` · ${e(m.cohort.name)} (${goLiveText(m.cohort)})` : ''}` : '';
  return renderCard<TrainingCardData>('officehours-training', {
    heading: 'Your training',
    belongs,
    zoneNote: zoneNote(viewer, now),
    empty: training.items.length === 0,
    emptyText: groups
      ? 'No training is scheduled for your group yet. The rollout team adds it as your go-live comes closer.'
      : 'You are not in a user group yet, so I have no training timeline for you. Your supervisor or the rollout team can add you (for example "group add field-officers @you").',
    items: training.items.map((item) => {
      const o = item.occurrence;
      const session = item.offer ? sessionLine(item.offer, viewer.zone, now) : null;
      let detail = '';
      if (item.status === 'attended' && o) detail = `You attended on ${dateTimeIn(o.start, viewer.zone)}.`;
      if (item.status === 'booked' && o) detail = `Your seat: ${spanIn(o, viewer.zone)}.`;
      if (item.status === 'next' && o) detail = `${spanIn(o, viewer.zone)}.`;
      if (item.status === 'missed' && o) {
        detail = item.nextChance
          ? `You missed it on ${dateTimeIn(o.start, viewer.zone)}. Next chance to catch up: ${spanIn(item.nextChance, viewer.zone)}.`
          : `You missed it on ${dateTimeIn(o.start, viewer.zone)}, and no other session is planned yet: ask your training coordinator for a make-up place.`;
      }
      if (item.status === 'unscheduled') detail = 'No date yet.';
      return {
        course: e(item.course),
        title: e(item.title),
        status: STATUS[item.status].label,
        color: STATUS[item.status].color,
        detail,
        session,
        canBook: session?.canBook ?? false,
        booked: session?.booked ?? false,
      };
    }),
  });
}

/**
 * The hosts' agenda, kept within one Teams message (40 KB): a full session's questions, each with its "Log as
 * an issue" form, run to three times that. When it would not fit, the forms go to the first questions not yet
 * logged (logging one moves a form down), then long questions and the open-issue list are shortened — every
 * question is still named on the card.
 */
export function agendaCard(view: AgendaView): AdaptiveCard {
  const open = view.booked.filter((b) => b.booking.question && !b.booking.issueRef).length;
  const fits = (card: AdaptiveCard) => utf16Bytes(card) < TEAMS_MESSAGE_LIMIT_BYTES;
  const whole = renderAgenda(view, { forms: open, questionMax: QUESTION_LIMIT, issueLines: Infinity });
  if (fits(whole)) return whole;
  // Rather every question whole with fewer forms, then a shorter open-issue list, then shorter questions (a
  // few forms kept all along), and only then fewer forms still. A card's size grows with its forms: the most
  // that fit is found by halving (a full session's card takes a few renders, not one per form).
  const steps: Omit<AgendaFit, 'forms'>[] = [
    { questionMax: QUESTION_LIMIT, issueLines: Infinity },
    { questionMax: QUESTION_LIMIT, issueLines: 15 },
    { questionMax: 200, issueLines: 15 },
    { questionMax: 80, issueLines: 10 },
  ];
  const least = Math.min(open, 3);
  for (const [lo, hi] of [[least, open], [0, least]] as const) {
    for (const step of steps) {
      let best = fits(renderAgenda(view, { ...step, forms: lo })) ? lo : -1;
      if (best < 0) continue;
      let top = hi;
      while (best < top) {
        const mid = Math.ceil((best + top) / 2);
        if (fits(renderAgenda(view, { ...step, forms: mid }))) best = mid;
        else top = mid - 1;
      }
      return renderAgenda(view, { ...step, forms: best });
    }
  }
  return renderAgenda(view, { forms: 0, ...steps[steps.length - 1]! });
}

/** How much of the agenda a card carries: forms for the first `forms` open questions, question and list lengths. */
interface AgendaFit {
  forms: number;
  questionMax: number;
  issueLines: number;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function renderAgenda(view: AgendaView, fit: AgendaFit): AdaptiveCard {
  const o: Occurrence = view.occurrence;
  const zone = o.session.zone;
  const withQuestion = view.booked.filter((b) => b.booking.question);
  const left = Math.max(0, o.session.capacity - view.seats.booked);
  const issues = view.booked.flatMap((b) =>
    b.openIssues.map((i) => `${i.ref} ${e(i.title)} (${STATUS_LABEL[i.status]}), reported by ${e(b.booking.name)}`),
  );
  const shownIssues = issues.slice(0, fit.issueLines);
  if (shownIssues.length < issues.length) shownIssues.push(`… and ${issues.length - shownIssues.length} more (see "my issues" of those booked, or the triage channel).`);
  const open = withQuestion.filter((b) => !b.booking.issueRef).length;
  let formsLeft = fit.forms;
  return renderCard<AgendaCardData>('officehours-agenda', {
    title: `Agenda: ${e(o.session.title)}`,
    when: `${spanIn(o, zone)} (${zoneLabel(zone, o.start)})`,
    notice: e(view.notice ?? ''),
    occurrenceId: o.id,
    counts: `${view.seats.booked} booked, ${left} seats left${view.seats.attended ? `, ${view.seats.attended} marked present` : ''}.${
      // No room on one Teams message for every form: logging a question moves its form to the next one.
      fit.forms < open ? ` The first ${fit.forms} questions not yet logged have a "Log as an issue" form (all of them would not fit on one card); logging one gives the next its form.` : ''
    }`,
    hasQuestions: withQuestion.length > 0,
    questions: withQuestion.map(({ booking: b }) => {
      const form = !b.issueRef && formsLeft-- > 0;
      const status = [
        b.issueRef ? `Logged as ${b.issueRef}.` : '',
        b.gapAt ? 'Marked as a guidance gap.' : '',
      ];
      return {
        personId: b.personId,
        name: e(b.name),
        question: e(clip(b.question, fit.questionMax)),
        titleValue: b.question.slice(0, 120),
        status: status.filter(Boolean).join(' '),
        open: form,
      };
    }),
    hasAttendees: view.booked.length > 0,
    attendees: view.booked.map(({ booking: b }) => ({ personId: b.personId, name: b.name, value: b.attended ? b.personId : '' })),
    openIssues: shownIssues.length ? shownIssues.map((line) => `- ${line}`).join('\n') : 'None of those booked has an open issue.',
    hasPopular: view.popular.length > 0,
    popular: view.popular.map((i) => ({ line: `${i.ref} ${e(i.title)}: ${i.affectedCount + 1} people affected (${STATUS_LABEL[i.status]})` })),
    hasGaps: view.gaps.length > 0,
    gaps: view.gaps.map((g) => ({ line: `"${e(g.example)}": asked ${g.count} time${g.count === 1 ? '' : 's'} by ${g.askers} ${g.askers === 1 ? 'person' : 'people'}` })),
    categories: view.categories.map((c) => ({ title: c, value: c })),
    severities: SEVERITIES.map((s) => ({ title: SEVERITY_LABEL[s], value: s })),
  });
}

export function addFormCard(
  rollout: Pick<Rollout, 'cohorts' | 'groups'>,
  defaultZone: string,
  opts: { values?: AddForm; error?: string } = {},
): AdaptiveCard {
  const v = opts.values ?? {};
  return renderCard<AddFormCardData>('officehours-form', {
    error: e(opts.error ?? ''),
    values: {
      title: v.title ?? '',
      kind: v.kind ?? 'office-hours',
      date: v.date ?? '',
      time: v.time ?? '14:00',
      zone: v.zone ?? defaultZone,
      minutes: v.minutes ?? '60',
      capacity: v.capacity ?? '20',
      repeat: v.repeat ?? 'none',
      until: v.until ?? '',
      joinUrl: v.joinUrl ?? '',
      topic: v.topic ?? '',
      cohort: v.cohort || 'everyone',
      group: v.group || 'none',
    },
    kinds: [
      { title: 'Office hours', value: 'office-hours' },
      { title: 'Training session', value: 'training' },
    ],
    repeats: [
      { title: 'Once', value: 'none' },
      { title: 'Every week', value: 'weekly' },
      { title: 'Every two weeks', value: 'fortnightly' },
    ],
    cohorts: [{ title: 'Everyone', value: 'everyone' }, ...rollout.cohorts.map((c) => ({ title: `${c.name} (${goLiveText(c)})`, value: c.id }))],
    groups: [{ title: 'No particular group', value: 'none' }, ...rollout.groups.map((g) => ({ title: g.name, value: g.id }))],
  });
}
