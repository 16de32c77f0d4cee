import { z } from 'zod';
import { command, verb } from '../registry/define.js';
import { FORM_FIELDS, FORM_ID } from './fields.js';
import { LIMITS, PRIORITIES, STATUSES } from './model.js';
import type { TriageAction } from './rules.js';
import { LIST_SORTS } from './order.js';
import { formatRef, parseRef } from './refs.js';
import { commentTextSchema } from './validation.js';

/**
 * The issue log's commands and card verbs, declared once (see src/registry). Card data is client-written:
 * these schemas bound and shape it; the service then checks it against the issue as stored.
 */

export const ISSUE_COMMANDS = {
  report: command('report', 'issues.report', 'Log an issue that blocks or slows you', { freeText: true }),
  lostDevice: command(
    'report lost device',
    'issues.report',
    'A tablet or phone is lost or stolen: log it at once as urgent (P1)',
    { freeText: true },
  ),
  mine: command('my issues', 'issues.readOwn', 'The issues you logged, with their status'),
  one: command('issue', 'issues.readOwn', 'One issue and its history, e.g. "issue R-0042"'),
  triage: command(
    'triage',
    'issues.readAll',
    'Champions: the triage queue with filters; done issues too (status:closed), sortable (sort:oldest, newest, priority)',
  ),
  assigned: command('assigned', 'issues.readAll', 'Champions: the issues assigned to you'),
  export: command('export issues', 'issues.export', 'Rollout team: all issues as a CSV file'),
};

const ref = z.string().trim().min(1).max(30);
/**
 * A form field as sent. Its own limit is the service's to check, so a paste far over it (a whole error log in
 * "What happened") comes back as that field's message with the form, not as an out-of-date card that loses
 * what was typed; this bound is only the sanity cap (the body itself is capped at the HTTP edge).
 */
const FORM_TEXT_CAP = 100_000;
const cardText = z.string().max(FORM_TEXT_CAP).optional();

/** The form's own fields as loose text: the service validates them field by field, so the form can show why. */
export const formData = z.object(
  Object.fromEntries(FORM_FIELDS.map((f) => [f, cardText])) as Record<(typeof FORM_FIELDS)[number], typeof cardText>,
);
export type FormData = z.infer<typeof formData>;

const refData = z.object({ ref });
const triageBase = z.object({ ref, version: z.coerce.number().int().min(1) });

export const listFilters = z.object({
  status: z.enum(STATUSES).optional(),
  category: z.string().trim().min(1).max(80).optional(),
  site: z.string().trim().min(1).max(LIMITS.site).optional(),
  assigneeId: z.string().trim().min(1).max(LIMITS.personId).optional(),
  sort: z.enum(LIST_SORTS).optional(),
});

const staleRef = 'This button has no issue reference; open the issue again.';
const staleTriage = 'This card is out of date; open the issue again.';

/** The form's id (see newFormId); '' or none from a card made before forms had one. */
const formId = z.union([z.string().regex(FORM_ID), z.literal('')]).optional();
const submitData = formData.extend({ formId });

export const ISSUE_VERBS = {
  form: verb('issue.form', 'issues.report', z.object({ questionId: z.string().max(100).optional() })),
  submit: verb('issue.submit', 'issues.report', submitData),
  /** The same form, from `report lost device`: logged as P1 and escalated at once. */
  submitLostDevice: verb('issue.submitLostDevice', 'issues.report', submitData),
  cancel: verb('issue.cancel', 'issues.report', z.object({})),
  logAnyway: verb('issue.logAnyway', 'issues.report', z.object({ form: formData.optional(), formId })),
  /**
   * The similar card's +1 carries the form's id (its form is kept with the offer), so an issue finished since can
   * offer "Log it anyway"; cards sent before carried the whole form.
   */
  affected: verb('issue.affected', 'issues.follow', refData.extend({ form: formData.optional(), formId }), staleRef),
  view: verb('issue.view', 'issues.readOwn', refData, staleRef),
  mine: verb('issue.mine', 'issues.readOwn', z.object({})),
  /** Paging of every list: "mine" needs issues.readOwn, "triage"/"assigned" issues.readAll (see the handler). */
  page: verb(
    'issue.page',
    'issues.readOwn',
    z.object({
      list: z.enum(['triage', 'mine', 'assigned']),
      token: z.string().max(2048).optional().default(''),
      filters: listFilters.optional().default({}),
    }),
    'This list button is out of date; ask for the list again.',
  ),
  assignMe: verb('issue.assignMe', 'issues.triage', triageBase, staleTriage),
  assign: verb(
    'issue.assign',
    'issues.triage',
    triageBase.extend({ assignee: z.string().max(LIMITS.personId).optional() }),
    staleTriage,
  ),
  status: verb(
    'issue.status',
    'issues.triage',
    triageBase.extend({ status: z.string().max(40).optional() }),
    staleTriage,
  ),
  priority: verb(
    'issue.priority',
    'issues.triage',
    triageBase.extend({ priority: z.string().max(10).optional() }),
    staleTriage,
  ),
  comment: verb(
    'issue.comment',
    'issues.triage',
    triageBase.extend({
      // Its limit is the service's to check (a long paste is told the limit); FORM_TEXT_CAP only caps it.
      comment: z.string().max(FORM_TEXT_CAP).optional(),
      public: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
    }),
    staleTriage,
  ),
  duplicate: verb(
    'issue.duplicate',
    'issues.triage',
    // Checked as a reference by triageActionOf (a paste comes back as that field's message); this is only the cap.
    triageBase.extend({ duplicateOf: z.string().max(FORM_TEXT_CAP).optional() }),
    staleTriage,
  ),
};

export type TriageVerb = 'assignMe' | 'assign' | 'status' | 'priority' | 'comment' | 'duplicate';
export type TriageData = z.infer<(typeof ISSUE_VERBS)['comment']['data']> &
  z.infer<(typeof ISSUE_VERBS)['assign']['data']> &
  z.infer<(typeof ISSUE_VERBS)['status']['data']> &
  z.infer<(typeof ISSUE_VERBS)['priority']['data']> &
  z.infer<(typeof ISSUE_VERBS)['duplicate']['data']>;

/** `field`: the input at fault, when one is (the tab's API names it in a 400). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; field?: string };

const firstMessage = (err: z.ZodError) => err.issues[0]?.message ?? 'The card sent something I cannot read.';
const statusInput = z.enum(STATUSES, { error: 'Choose a status.' });
const priorityInput = z.union([z.enum(PRIORITIES), z.literal('none')], {
  error: 'Choose a priority P1–P4 or none.',
});

/**
 * A triage card's inputs → the action they ask for. `champions` is who may be assigned: an id not among
 * them is refused (the card's choice list is written by the client). `refPrefix`: the log's reference prefix,
 * so a "duplicate of" that is no reference at all is the input's fault (400 in the tab), not a conflict.
 */
export function triageActionOf(
  kind: TriageVerb,
  data: Partial<TriageData>,
  champions: readonly { id: string; name: string }[],
  refPrefix: string,
): Parsed<TriageAction> {
  switch (kind) {
    case 'assignMe':
      return { ok: true, value: { kind: 'assignMe' } };
    case 'assign': {
      const champion = champions.find((c) => c.id === data.assignee);
      return champion
        ? { ok: true, value: { kind: 'assign', assignee: { id: champion.id, name: champion.name } } }
        : { ok: false, field: 'assignee', message: 'Choose a champion from the list.' };
    }
    case 'status': {
      const s = statusInput.safeParse(data.status);
      return s.success ? { ok: true, value: { kind: 'status', status: s.data } } : { ok: false, field: 'status', message: firstMessage(s.error) };
    }
    case 'priority': {
      const p = priorityInput.safeParse(data.priority);
      if (!p.success) return { ok: false, field: 'priority', message: firstMessage(p.error) };
      return { ok: true, value: { kind: 'priority', priority: p.data === 'none' ? null : p.data } };
    }
    case 'comment': {
      const text = commentTextSchema.safeParse(data.comment ?? '');
      if (!text.success) return { ok: false, field: 'comment', message: firstMessage(text.error) };
      const visibility = data.public === true || data.public === 'true' ? 'public' : 'internal';
      return { ok: true, value: { kind: 'comment', text: text.data, visibility } };
    }
    case 'duplicate': {
      const of = (data.duplicateOf ?? '').trim();
      if (!of) return { ok: false, field: 'duplicateOf', message: 'Type the reference of the original issue.' };
      const parsed = parseRef(of, refPrefix);
      if (!parsed) {
        // Named back only when short: a paste is not repeated to the champion.
        const what = of.length <= 30 ? `"${of}"` : 'That';
        return { ok: false, field: 'duplicateOf', message: `${what} is not an issue reference: type the original issue's, such as ${formatRef(refPrefix, 42)}.` };
      }
      return { ok: true, value: { kind: 'duplicate', of: parsed.ref } };
    }
  }
}
