import { escapeText } from '../cards/template.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import {
  type AgendaBuilder,
  addFormCard,
  agendaCard,
  asksForOfficeHours,
  bookingCard,
  listCommand,
  OFFICE_HOURS_COMMANDS,
  OFFICE_HOURS_VERBS,
  type OfficeHoursService,
  scheduleCard,
  trainingCard,
  type ListAt,
  type Viewer,
} from '../officehours/index.js';
import { personOf } from '../roles/roles.js';
import type { RolloutDirectory } from '../rollout/index.js';
import type { CardActionResult, RolloutDeskBot, Turn } from './bot.js';
import { personKeysOf } from './rollout.js';
import { timeZoneOf } from './turn.js';

export interface OfficeHoursWiring {
  service: OfficeHoursService;
  agenda: AgendaBuilder;
  directory: Pick<RolloutDirectory, 'rollout'>;
  clock: Clock;
  log: Logger;
}

export function viewerOf(turn: Turn, defaultZone: string): Viewer {
  const zone = timeZoneOf(turn.context.activity);
  return { person: personOf(turn.actor), role: turn.role, keys: personKeysOf(turn), zone: zone ?? defaultZone, zoneKnown: zone !== undefined };
}

/** What the FAQ's handlers call: the live schedule instead of the guidance's page about office hours. */
export interface OfficeHoursHooks {
  /** Answers "when are office hours?" from the live schedule; false when the text asks something else. */
  answer(turn: Turn, text: string): Promise<boolean>;
  /** "Ask at office hours" on an answer card: the next sessions, with the question filled in. */
  ask(turn: Turn, question: string): Promise<CardActionResult>;
}

/** Office hours, training and the hosts' agenda: parse what Teams sent, call the service, render its result. */
export function registerOfficeHours(bot: RolloutDeskBot, w: OfficeHoursWiring): OfficeHoursHooks {
  const { service } = w;
  const viewer = (turn: Turn) => viewerOf(turn, service.defaultZone);
  const now = () => w.clock.now();
  const schedule = async (turn: Turn, opts: { question?: string; notice?: string; heading?: string; at?: ListAt; removeUrl?: string | undefined } = {}) => {
    const v = viewer(turn);
    return scheduleCard(await service.upcoming(v, opts.at), v, now(), opts);
  };
  // Every action on the agenda redraws it on the page it was pressed on (`page`, from the card's data).
  const agendaOf = async (res: Awaited<ReturnType<OfficeHoursService['markAttendance']>>, page?: number): Promise<CardActionResult> =>
    res.kind === 'message' ? { message: res.text } : { card: agendaCard(await w.agenda.view(res.occurrence, res.notice, page), page) };

  // ---- staff --------------------------------------------------------------------------------------------

  bot.command(OFFICE_HOURS_COMMANDS.show, async (turn) => turn.reply(await schedule(turn)));
  bot.verb(OFFICE_HOURS_VERBS.show, async (turn, data) => {
    // A cursor when the card has one; a card from before cursors carries the page number it meant.
    const at: ListAt | undefined = data.after ? { after: data.after } : data.before ? { before: data.before } : data.page !== undefined ? { page: data.page } : undefined;
    return { card: await schedule(turn, { at, question: data.question }) };
  });

  bot.command(OFFICE_HOURS_COMMANDS.training, async (turn) => {
    const v = viewer(turn);
    await turn.reply(trainingCard(await service.training(v), v, now()));
  });
  bot.verb(OFFICE_HOURS_VERBS.training, async (turn, data) => {
    const v = viewer(turn);
    return { card: trainingCard(await service.training(v), v, now(), data.after) };
  });

  bot.verb(OFFICE_HOURS_VERBS.book, async (turn, data) => {
    const typed = data.field ? data[data.field] : undefined;
    const v = viewer(turn);
    const res = await service.book(v, data.occurrenceId, typeof typed === 'string' ? typed : '');
    if (res.kind === 'message') return { message: res.text };
    if (res.fresh) turn.log.info({ occurrence: data.occurrenceId }, 'office hours booked');
    return { card: bookingCard(res.offer, v, now(), res.fresh ? undefined : `You already have a seat at ${escapeText(res.offer.occurrence.session.title)}`) };
  });

  bot.verb(OFFICE_HOURS_VERBS.cancel, async (turn, data) => {
    const res = await service.cancelBooking(viewer(turn), data.occurrenceId);
    return { card: await schedule(turn, { notice: res.text, removeUrl: res.calendarUrl }) };
  });

  // ---- rollout team ---------------------------------------------------------------------------------------

  bot.command(OFFICE_HOURS_COMMANDS.add, async (turn) => turn.reply(addFormCard(w.directory.rollout, service.defaultZone)));
  bot.verb(OFFICE_HOURS_VERBS.add, async (turn, data) => {
    // The form's own card: a second press of Add on it (a double click) finds what the first one added.
    const formKey = `${turn.context.activity.conversation.id}|${turn.context.activity.replyToId ?? turn.context.activity.id ?? ''}`;
    const res = await service.addSession(viewer(turn), data, formKey);
    if (res.kind === 'message') return { message: res.text };
    if (res.kind === 'invalid') return { card: addFormCard(w.directory.rollout, service.defaultZone, { values: res.values, error: res.error }) };
    if (res.again) return { message: `${res.session.title} (${res.session.id}) was already added from this form; it was not added again.` };
    turn.log.info({ session: res.session.id }, 'session added');
    const first = res.next[0];
    return {
      message: `Added ${res.session.title} (${res.session.id})${first ? `: first on ${first.start.toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''}. Staff see it with "${listCommand(res.session.kind)}".`,
    };
  });
  bot.command(OFFICE_HOURS_COMMANDS.cancel, async (turn, args) => turn.reply(escapeText(await service.cancelOccurrence(viewer(turn), args))));
  bot.command(OFFICE_HOURS_COMMANDS.move, async (turn, args) => turn.reply(escapeText(await service.moveOccurrence(viewer(turn), args))));

  // ---- hosts ----------------------------------------------------------------------------------------------

  bot.verb(OFFICE_HOURS_VERBS.agenda, async (turn, data) => agendaOf(await service.agenda(viewer(turn), data.occurrenceId), data.page));
  bot.verb(OFFICE_HOURS_VERBS.attendance, async (turn, data) => {
    const present = Object.entries(data)
      .filter(([k, v]) => /^attended\d{1,4}$/.test(k) && typeof v === 'string' && v.length > 0 && v.length <= 100)
      .map(([, v]) => v as string);
    return agendaOf(await service.markAttendance(viewer(turn), data.occurrenceId, present, data.shown), data.page);
  });
  bot.verb(OFFICE_HOURS_VERBS.questionIssue, async (turn, data) => {
    const field = (name: string) => {
      const v = data[`${name}${data.index}`];
      return typeof v === 'string' ? v.slice(0, 4000) : undefined;
    };
    const res = await service.questionToIssue(viewer(turn), data.occurrenceId, data.personId, {
      title: field('title'),
      category: field('category'),
      severity: field('severity'),
      site: field('site'),
    });
    if (res.kind === 'invalid') return { card: agendaCard(await w.agenda.view(res.occurrence, res.notice, data.page), data.page) };
    return agendaOf(res, data.page);
  });
  bot.verb(OFFICE_HOURS_VERBS.questionGap, async (turn, data) =>
    agendaOf(await service.questionGap(viewer(turn), data.occurrenceId, data.personId), data.page),
  );

  return {
    answer: async (turn, text) => {
      if (!asksForOfficeHours(text)) return false;
      await turn.reply(await schedule(turn, { heading: 'Next office hours (from the live schedule)' }));
      return true;
    },
    ask: async (turn, question) => {
      // A new message, so the answer the user came from stays on screen.
      await turn.reply(await schedule(turn, { question }));
      return { message: 'The next office hours are below: book a seat and your question goes to the hosts ahead.' };
    },
  };
}
