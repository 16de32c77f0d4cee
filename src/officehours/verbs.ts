import { z } from 'zod';
import { command, verb } from '../registry/define.js';
import { count } from '../text/count.js';

/** Office hours and training: commands and card verbs, declared once (see src/registry). */

export const OFFICE_HOURS_COMMANDS = {
  show: command('office hours', 'officehours.view', 'The next office hours in your time zone: book a seat and send your question ahead'),
  training: command('my training', 'officehours.view', "Your group's training timeline: next, attended, missed and when to catch up"),
  add: command('office hours add', 'officehours.manage', 'Rollout team: add office hours or a training session (a form)'),
  cancel: command('office hours cancel', 'officehours.manage', 'Rollout team: cancel one session, e.g. "office hours cancel 2026-12-08"'),
  move: command('office hours move', 'officehours.manage', 'Rollout team: move one session, e.g. "office hours move 2026-12-08 15:00"'),
};

const occurrenceId = z.string().trim().min(1).max(120);
const stale = 'This card is out of date; type "office hours" for the current sessions.';
/** Which page of the agenda a card is on: past the end is the last page (the card clamps); a bad one, the first. */
const agendaPage = z.coerce.number().int().min(0).transform((n) => Math.min(n, 1_000)).optional().catch(undefined);
const staleAgenda = 'This agenda is out of date; ask for it again.';
/**
 * Card inputs, bounded before they are read further: well over each field's own limit (the longest, the join link's,
 * is 2,000), so the service names a field too long with its limit and keeps the rest of the form. Past this bound
 * the form is refused as a whole, saying why (`addRefused`), not as an out-of-date card.
 */
const FIELD_CAP = 10_000;
const input = z.union([z.string(), z.number(), z.boolean()]).transform(String).pipe(z.string().max(FIELD_CAP)).optional();
const addRefused = `A field on the form has more than ${count(FIELD_CAP)} characters (or is not text), so nothing was added. Type "office hours add" for a new form.`;

/**
 * "Later sessions" / "Earlier sessions": the occurrence shown last (or first) as `<start ms>|<occurrence id>`
 * (service.listCursor). A malformed one is as if there were none: the first page.
 */
const listCursor = z
  .string()
  .max(200)
  .regex(/^\d{1,15}\|[^|]{1,60}\|[^|]{1,60}$/)
  .transform((s) => ({ t: Number(s.slice(0, s.indexOf('|'))), id: s.slice(s.indexOf('|') + 1) }))
  .optional()
  .catch(undefined);

export const OFFICE_HOURS_VERBS = {
  /**
   * A page of the list: after `after`, before `before`, or (a card from before cursors) `page`, counted in pages
   * of five; `question`: the prefill carried along.
   */
  show: verb(
    'officehours.show',
    'officehours.view',
    z.object({
      // Past the end is the last page (the service clamps), never the first: a busy schedule has over 100.
      page: z.coerce.number().int().min(0).transform((n) => Math.min(n, 1_000_000)).optional().catch(undefined),
      after: listCursor,
      before: listCursor,
      question: z.string().max(4000).optional().catch(undefined),
    }),
  ),
  /** "More courses" on `my training`: the courses after `after` (a course key; none, or one gone: the first). */
  training: verb('officehours.training', 'officehours.view', z.object({ after: z.string().trim().min(1).max(60).optional().catch(undefined) })),
  /** `field` names the card's question input (each session in a list has its own). */
  book: verb(
    'officehours.book',
    'officehours.book',
    z.looseObject({ occurrenceId, field: z.string().regex(/^question\d{1,3}$/).optional() }),
    stale,
  ),
  cancel: verb('officehours.cancel', 'officehours.book', z.object({ occurrenceId }), stale),
  add: verb(
    'officehours.add',
    'officehours.manage',
    z.object(
      Object.fromEntries(
        ['title', 'kind', 'date', 'time', 'zone', 'minutes', 'capacity', 'repeat', 'until', 'joinUrl', 'topic', 'cohort', 'group', 'cohortTyped', 'groupTyped'].map((k) => [
          k,
          input,
        ]),
      ) as Record<string, typeof input>,
    ),
    addRefused,
  ),
  /** "Previous"/"Next" on the hosts' agenda: the card redrawn on another page of the people booked. */
  agenda: verb('officehours.agenda', 'officehours.host', z.object({ occurrenceId, page: agendaPage }), staleAgenda),
  /**
   * The toggles arrive as `attended<n>`: each the person's id when ticked, empty when not. `shown`: the ids of
   * the people on the card's page (absent on a card from before paging). Bounded here by the largest session
   * so parsing stays cheap; the service refuses more than a page with a message saying so.
   */
  attendance: verb(
    'officehours.attendance',
    'officehours.host',
    z.looseObject({ occurrenceId, page: agendaPage, shown: z.array(z.string().max(100)).max(1000).optional() }),
    staleAgenda,
  ),
  questionIssue: verb(
    'officehours.questionIssue',
    'officehours.host',
    z.looseObject({ occurrenceId, personId: z.string().max(100), index: z.coerce.number().int().min(0).max(999), page: agendaPage }),
    staleAgenda,
  ),
  questionGap: verb(
    'officehours.questionGap',
    'officehours.host',
    z.object({ occurrenceId, personId: z.string().max(100), page: agendaPage }),
    staleAgenda,
  ),
};
