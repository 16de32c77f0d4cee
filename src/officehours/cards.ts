import { type AdaptiveCard, CARD_BUDGET_BYTES, escapeText, renderCard, utf16Bytes } from '../cards/template.js';
import { SEVERITIES, SEVERITY_LABEL, STATUS_LABEL } from '../issues/model.js';
import type { Membership, Rollout } from '../rollout/index.js';
import { goLiveText } from '../rollout/index.js';
import { AGENDA_PAGE, type AgendaView, agendaPage } from './agenda.js';
import { dateTimeIn, spanIn, zoneLabel } from './display.js';
import type { Occurrence } from './model.js';
import type { TimelineItem } from './rules.js';
import { type AddForm, listCursor, type Offer, QUESTION_LIMIT, type SessionPage, TYPED_CHOICE, type Viewer } from './service.js';
import { count } from '../text/count.js';
import { clip, cutUnits, listWithin } from '../text/fit.js';

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
  /** "Earlier sessions": before the first shown; "Later sessions": after the last (`listCursor`); '' for none. */
  earlier: string;
  later: string;
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
  /** "Courses 13–24 of 60" when they take more than one card, else empty. */
  pageNote: string;
  /** The courses after this card's, counted, when there are any. */
  more: string;
  /** "More courses": the course shown last (the next card starts after it); '' when it was the last. */
  next: string;
  /** "First courses": on every card but the first. */
  restart: boolean;
}

/** Data for cards/officehours-agenda.json. */
export interface AgendaCardData {
  title: string;
  when: string;
  notice: string;
  occurrenceId: string;
  counts: string;
  /** "People 26–50 of 300 …" when the booked take more than one page, else empty. */
  pageNote: string;
  /** This page (every action sends it, so the card redraws on the same page) and its neighbours (-1: none). */
  page: number;
  previousPage: number;
  nextPage: number;
  previousTitle: string;
  nextTitle: string;
  hasQuestions: boolean;
  questions: {
    personId: string;
    name: string;
    question: string;
    titleValue: string;
    status: string;
    open: boolean;
    /** Its "A gap in the guidance" button (and form, when `open`); only the last way to fit drops some. */
    buttons: boolean;
  }[];
  hasAttendees: boolean;
  attendeesNote: string;
  attendees: { personId: string; name: string; value: string }[];
  /** The ids of the people on this page: "Save attendance" changes theirs only. */
  shown: string[];
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
  /** The label of the input to type a cohort (a group) the list had no room for; empty when every one is listed. */
  cohortTypedLabel: string;
  groupTypedLabel: string;
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

/**
 * The "office hours" list: the page's sessions, as many as fit in one Teams message (40 KB). Five sessions
 * with ten 120-character hosts, a 300-character topic and a Teams join link (some 1,500 characters) were over
 * it, and the user got nothing: those that do not fit are left to the next press (the cursors go from the last
 * and first shown), so none is out of reach.
 */
export function scheduleCard(
  list: SessionPage,
  viewer: Pick<Viewer, 'zone' | 'zoneKnown'>,
  now: Date,
  opts: { question?: string; notice?: string; heading?: string; removeUrl?: string | undefined } = {},
): AdaptiveCard {
  const lines = list.offers.map((o) => sessionLine(o, viewer.zone, now));
  const render = (n: number, lineOf: (l: SessionLine) => SessionLine = (l) => l) => {
    // Going forward the first `n` are kept; going back (Earlier sessions), the last `n`.
    const from = list.keep === 'start' ? 0 : lines.length - n;
    const shown = list.offers.slice(from, from + n);
    const index = list.index + from;
    const paged = list.total > shown.length;
    return renderCard<ScheduleCardData>('officehours-schedule', {
      heading: opts.heading ?? 'Next office hours',
      zoneNote: zoneNote(viewer, now),
      notice: e(opts.notice ?? ''),
      removeUrl: opts.removeUrl ?? '',
      question: opts.question ?? '',
      questionLabel: `Your question, to send ahead (optional, at most ${QUESTION_LIMIT} characters)`,
      empty: shown.length === 0,
      sessions: lines.slice(from, from + n).map(lineOf),
      pageNote: paged && shown.length ? `Sessions ${index + 1}–${index + shown.length} of ${list.total} in the next four weeks` : '',
      earlier: index > 0 && shown[0] ? listCursor(shown[0].occurrence) : '',
      later: index + shown.length < list.total && shown.length ? listCursor(shown[shown.length - 1]!.occurrence) : '',
    });
  };
  const fits = (card: AdaptiveCard) => utf16Bytes(card) <= CARD_BUDGET_BYTES;
  for (let n = lines.length; n > 1; n--) {
    const card = render(n);
    if (fits(card)) return card;
  }
  // One session alone over the limit: only a join link of many thousand characters does that (the file sets no
  // limit on it). Shown without it, and with fewer hosts, rather than not at all: the list still moves on.
  const one = render(Math.min(1, lines.length));
  if (fits(one) || !lines.length) return one;
  return render(1, (l) => ({
    ...l,
    hosts: clip(l.hosts, 400),
    joinUrl: '',
    topic: `${l.topic}${l.topic ? ' ' : ''}(The join link is too long to show here: it is in the calendar file once you book.)`,
  }));
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

/** What the "belongs" line may take: 200 group names of 120 characters were 24,000, past a Teams message alone. */
const BELONGS_CHARS = 600;

/**
 * `my training`: the courses from the one after `after` (a course key, from "More courses"; none: the first), as
 * many as fit in one Teams message (40 KB), then "More courses" for the rest. A group with many courses of long
 * titles, topics and host lists made a card of over 100 KB, and the courses past the first card could not be
 * reached. A course no longer on the timeline (taken out since) starts it again from the first, saying so.
 */
export function trainingCard(
  training: { membership: Membership; items: (TimelineItem & { offer?: Offer })[] },
  viewer: Pick<Viewer, 'zone' | 'zoneKnown'>,
  now: Date,
  after?: string,
): AdaptiveCard {
  const m = training.membership;
  const names = m.groups.map((g) => e(g.name));
  const groups = listWithin(names, BELONGS_CHARS, { noun: 'groups', sep: ', ' });
  const belongs = groups ? `${groups}${m.cohort ? ` · ${e(m.cohort.name)} (${goLiveText(m.cohort)})` : ''}` : '';
  const found = after === undefined ? -1 : training.items.findIndex((item) => item.course === after);
  const start = found + 1;
  const lost = after !== undefined && found < 0;
  const items: TrainingCardData['items'] = training.items.slice(start).map((item) => {
    const o = item.occurrence;
    const session = item.offer ? sessionLine(item.offer, viewer.zone, now) : null;
    let detail = '';
    if (item.status === 'attended' && o) detail = `You attended on ${dateTimeIn(o.start, viewer.zone)}.`;
    if (item.status === 'booked') {
      // Its session held and not shown (Schedule.onHoldCourses): the seat stands, its time comes back with the entry.
      detail = o ? `Your seat: ${spanIn(o, viewer.zone)}.` : 'Your seat stands. The rollout team is correcting this session in the schedule, so its time is not shown just now.';
    }
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
  });
  const total = training.items.length;
  const render = (shown: number, itemOf: (i: TrainingCardData['items'][number]) => TrainingCardData['items'][number] = (i) => i) => {
    const rest = total - start - shown;
    const last = training.items[start + shown - 1];
    return renderCard<TrainingCardData>('officehours-training', {
      heading: 'Your training',
      belongs,
      zoneNote: lost ? `${zoneNote(viewer, now)} Your timeline changed since that card: here it is from the first course.` : zoneNote(viewer, now),
      empty: total === 0,
      emptyText: names.length
        ? 'No training is scheduled for your group yet. The rollout team adds it as your go-live comes closer.'
        : 'You are not in a user group yet, so I have no training timeline for you. Your supervisor or the rollout team can add you (for example "group add field-officers @you").',
      items: items.slice(0, shown).map(itemOf),
      pageNote: shown < total ? `Courses ${start + 1}–${start + shown} of ${total}` : '',
      more: rest > 0 ? `… and ${rest} more course${rest === 1 ? '' : 's'} of your group: "More courses" shows them.` : '',
      next: rest > 0 && last ? last.course : '',
      restart: start > 0,
    });
  };
  // The most courses that fit, found by halving; at least one, so "More courses" always moves on.
  const fits = (card: AdaptiveCard) => utf16Bytes(card) <= CARD_BUDGET_BYTES;
  const whole = render(items.length);
  if (fits(whole) || items.length === 0) return whole;
  let [lo, hi] = [1, items.length - 1];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(render(mid))) lo = mid;
    else hi = mid - 1;
  }
  const card = render(lo);
  // One course alone over the limit: only a join link of many thousand characters does that; shown without it.
  return fits(card) ? card : render(1, (i) => ({ ...i, session: i.session && { ...i.session, joinUrl: '' } }));
}

/**
 * The hosts' agenda, kept within one Teams message (40 KB) for any number booked: the booked are paged
 * (`AGENDA_PAGE` people a page, in the agenda's order, with "Previous"/"Next" buttons), and a page carries
 * those people's questions and attendance toggles; the open issues, most joined and gaps are the session's.
 * A page's questions, each with its "Log as an issue" form, run to three times a message: when they would not
 * fit, the forms go to the page's first questions not yet logged (logging one moves a form down), then long
 * questions and the open-issue list are shortened — every question of the page is still named on the card.
 * A page past the end (a forged number, or people cancelled since) is the last one.
 */
export function agendaCard(view: AgendaView, page = 0): AdaptiveCard {
  const { page: at, pages, start, end } = agendaPage(view.booked.length, page);
  const window: AgendaWindow = { page: at, pages, people: view.booked.slice(start, end) };
  const open = window.people.filter((b) => b.booking.question && !b.booking.issueRef).length;
  const fits = (card: AdaptiveCard) => utf16Bytes(card) <= CARD_BUDGET_BYTES;
  const whole = renderAgenda(view, window, { forms: open, questionMax: QUESTION_LIMIT, issueLines: Infinity, nameMax: Infinity, compact: false });
  if (fits(whole)) return whole;
  // Rather every question whole with fewer forms, then a shorter open-issue list, then shorter questions (a
  // few forms kept all along), and only then fewer forms still. A card's size grows with its forms: the most
  // that fit is found by halving (a full page's card takes a few renders, not one per form). Last, for a page
  // of the longest names Teams gives (120 characters) with long questions and issues: names shortened too,
  // and the gap buttons only beside the forms — every question of the page still named.
  const steps: Omit<AgendaFit, 'forms'>[] = [
    { questionMax: QUESTION_LIMIT, issueLines: Infinity, nameMax: Infinity, compact: false },
    { questionMax: QUESTION_LIMIT, issueLines: 15, nameMax: Infinity, compact: false },
    { questionMax: 200, issueLines: 15, nameMax: Infinity, compact: false },
    { questionMax: 80, issueLines: 10, nameMax: Infinity, compact: false },
    { questionMax: 80, issueLines: 5, nameMax: 40, compact: true },
  ];
  const least = Math.min(open, 3);
  for (const [lo, hi] of [[least, open], [0, least]] as const) {
    for (const step of steps) {
      let best = fits(renderAgenda(view, window, { ...step, forms: lo })) ? lo : -1;
      if (best < 0) continue;
      let top = hi;
      while (best < top) {
        const mid = Math.ceil((best + top) / 2);
        if (fits(renderAgenda(view, window, { ...step, forms: mid }))) best = mid;
        else top = mid - 1;
      }
      return renderAgenda(view, window, { ...step, forms: best });
    }
  }
  return renderAgenda(view, window, { ...steps[steps.length - 1]!, forms: 0 });
}

/**
 * How much of the agenda a card carries: forms for the first `forms` open questions, question, list and name
 * lengths; `compact`: the other questions without their gap button.
 */
interface AgendaFit {
  forms: number;
  questionMax: number;
  issueLines: number;
  nameMax: number;
  compact: boolean;
}

/** The page of booked people a card shows. */
interface AgendaWindow {
  page: number;
  pages: number;
  people: AgendaView['booked'];
}

function renderAgenda(view: AgendaView, window: AgendaWindow, fit: AgendaFit): AdaptiveCard {
  const o: Occurrence = view.occurrence;
  const zone = o.session.zone;
  const withQuestion = window.people.filter((b) => b.booking.question);
  const left = Math.max(0, o.session.capacity - view.seats.booked);
  const name = (b: { name: string }) => clip(b.name, fit.nameMax);
  // The page's people's issues: those the view looked up (`AgendaBuilder.view`).
  const issues = window.people.flatMap((b) =>
    b.openIssues.map((i) => `${i.ref} ${e(i.title)} (${STATUS_LABEL[i.status]}), reported by ${e(name(b.booking))}`),
  );
  const shownIssues = issues.slice(0, fit.issueLines);
  if (shownIssues.length < issues.length) shownIssues.push(`… and ${issues.length - shownIssues.length} more (see "my issues" of those booked, or the triage channel).`);
  const open = withQuestion.filter((b) => !b.booking.issueRef).length;
  let formsLeft = fit.forms;
  const paged = window.pages > 1;
  const first = window.page * AGENDA_PAGE + 1;
  const span = (page: number) => {
    const { start, end } = agendaPage(view.booked.length, page);
    return `${start + 1}–${end}`;
  };
  const hasPrevious = window.page > 0;
  const hasNext = window.page < window.pages - 1;
  return renderCard<AgendaCardData>('officehours-agenda', {
    title: `Agenda: ${e(o.session.title)}`,
    when: `${spanIn(o, zone)} (${zoneLabel(zone, o.start)})`,
    notice: e(view.notice ?? ''),
    occurrenceId: o.id,
    counts: `${view.seats.booked} booked, ${left} seats left${view.seats.attended ? `, ${view.seats.attended} marked present` : ''}.${
      // No room on one Teams message for every form: logging a question moves its form to the next one.
      fit.compact
        ? ` Names and questions are shortened, and only the first ${fit.forms} questions not yet logged${paged ? ' on this page' : ''} have their buttons (all of them would not fit on one card); logging one gives the next its buttons.`
        : fit.forms < open
          ? ` The first ${fit.forms} questions not yet logged${paged ? ' on this page' : ''} have a "Log as an issue" form (all of them would not fit on one card); logging one gives the next its form.`
          : ''
    }`,
    pageNote: paged
      ? `People ${first}–${first + window.people.length - 1} of ${view.booked.length}: their questions and attendance are on this page (Previous and Next for the others).`
      : '',
    page: window.page,
    previousPage: hasPrevious ? window.page - 1 : -1,
    nextPage: hasNext ? window.page + 1 : -1,
    previousTitle: hasPrevious ? `Previous people (${span(window.page - 1)})` : '',
    nextTitle: hasNext ? `Next people (${span(window.page + 1)})` : '',
    hasQuestions: withQuestion.length > 0,
    questions: withQuestion.map(({ booking: b }) => {
      const form = !b.issueRef && formsLeft-- > 0;
      const status = [
        b.issueRef ? `Logged as ${b.issueRef}.` : '',
        b.gapAt ? 'Marked as a guidance gap.' : '',
      ];
      return {
        personId: b.personId,
        name: e(name(b)),
        question: e(clip(b.question, fit.questionMax)),
        titleValue: cutUnits(b.question, 120),
        status: status.filter(Boolean).join(' '),
        open: form,
        buttons: form || !fit.compact,
      };
    }),
    hasAttendees: window.people.length > 0,
    attendeesNote: paged
      ? `Who came? Tick everyone present among people ${first}–${first + window.people.length - 1}; the other pages keep their marks.`
      : 'Who came? Tick everyone present.',
    attendees: window.people.map(({ booking: b }) => ({ personId: b.personId, name: name(b), value: b.attended ? b.personId : '' })),
    shown: window.people.map(({ booking: b }) => b.personId),
    openIssues: shownIssues.length
      ? shownIssues.map((line) => `- ${line}`).join('\n')
      : paged
        ? 'None of the people on this page has an open issue.'
        : 'None of those booked has an open issue.',
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
  const cohorts = fittedChoices(
    { title: 'Everyone', value: 'everyone' },
    rollout.cohorts.map((c) => ({ title: `${c.name} (${goLiveText(c)})`, value: c.id })),
    'Another cohort (type it below)',
    v.cohort ?? '',
  );
  const groups = fittedChoices(
    { title: 'No particular group', value: 'none' },
    rollout.groups.map((g) => ({ title: g.name, value: g.id })),
    'Another user group (type it below)',
    v.group ?? '',
  );
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
      cohortTyped: v.cohortTyped ?? '',
      groupTyped: v.groupTyped ?? '',
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
    cohorts: cohorts.choices,
    groups: groups.choices,
    cohortTypedLabel: cohorts.omitted ? `Another cohort: type its id or name (${count(cohorts.omitted)} more are not listed)` : '',
    groupTypedLabel: groups.omitted ? `Another user group: type its id or name (${count(groups.omitted)} more are not listed)` : '',
  });
}

/** What each of the form's cohort and user-group lists may take of the card (a rollout file may hold 200 of each). */
const FORM_CHOICES_CHARS = 6_000;
const FORM_CHOICE_TITLE_CHARS = 80;

/**
 * The first choice, then as many of `all` as fit in FORM_CHOICES_CHARS (titles shortened), then, when some are left
 * out, "another" (typed on the form: TYPED_CHOICE). The one chosen is listed whatever the room.
 */
function fittedChoices(first: Choice, all: readonly Choice[], another: string, chosen: string): { choices: Choice[]; omitted: number } {
  const choices = [first];
  let used = 0;
  let omitted = 0;
  for (const c of all) {
    const choice = { title: clip(c.title, FORM_CHOICE_TITLE_CHARS), value: c.value };
    used += JSON.stringify(choice).length;
    if (used <= FORM_CHOICES_CHARS || c.value === chosen) choices.push(choice);
    else omitted++;
  }
  if (omitted) choices.push({ title: another, value: TYPED_CHOICE });
  return { choices, omitted };
}
