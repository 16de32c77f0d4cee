import { z } from 'zod';
import { LIMITS, type Person, STATUSES } from './model.js';
import { ACTION_ROLE, type ActionKind, OPERATION_ROLE, type Role, type TriageAction } from './rules.js';
import type { QueueFilters } from './store.js';
import { commentTextSchema, prioritySchema, statusSchema } from './validation.js';

/**
 * Card verbs of the issue cards, and parsing of what a card action sends back. Card data is
 * client-controlled: a verb is only a request, the role check (ACTION_ROLE) and these schemas decide.
 */

export const ISSUE_VERBS = {
  submit: 'issue.submit',
  affected: 'issue.affected',
  logAnyway: 'issue.logAnyway',
  view: 'issue.view',
  mine: 'issue.mine',
  page: 'issue.page',
  assignMe: 'issue.assignMe',
  assign: 'issue.assign',
  status: 'issue.status',
  priority: 'issue.priority',
  comment: 'issue.comment',
  duplicate: 'issue.duplicate',
} as const;

/** The champion verbs of the triage card and the action each one requests. */
export const TRIAGE_VERBS: Readonly<Record<string, ActionKind>> = {
  [ISSUE_VERBS.assignMe]: 'assignMe',
  [ISSUE_VERBS.assign]: 'assign',
  [ISSUE_VERBS.status]: 'status',
  [ISSUE_VERBS.priority]: 'priority',
  [ISSUE_VERBS.comment]: 'comment',
  [ISSUE_VERBS.duplicate]: 'duplicate',
};

export const isTriageVerb = (verb: string): boolean => Object.hasOwn(TRIAGE_VERBS, verb);

/**
 * The least role a card verb needs, checked by the caller before anything else (a staff member's
 * client can send a champion verb). Unknown verbs need nothing here: they are refused as unknown.
 */
export function roleForVerb(verb: string): Role | null {
  if (isTriageVerb(verb)) return ACTION_ROLE[TRIAGE_VERBS[verb]!];
  switch (verb) {
    case ISSUE_VERBS.submit:
    case ISSUE_VERBS.logAnyway:
      return OPERATION_ROLE.log;
    case ISSUE_VERBS.affected:
      return OPERATION_ROLE.addAffected;
    case ISSUE_VERBS.view:
      return OPERATION_ROLE.view;
    case ISSUE_VERBS.mine:
      return OPERATION_ROLE.myIssues;
    case ISSUE_VERBS.page:
      // "mine" needs staff, "triage"/"assigned" a champion: see roleForList.
      return OPERATION_ROLE.myIssues;
    default:
      return null;
  }
}

/** The least role to read a list. */
export function roleForList(list: 'triage' | 'mine' | 'assigned'): Role {
  return list === 'mine'
    ? OPERATION_ROLE.myIssues
    : list === 'triage'
      ? OPERATION_ROLE.triageQueue
      : OPERATION_ROLE.listAssigned;
}

export interface TriageRequest {
  ref: string;
  /** The issue version the card showed. */
  version: number;
  action: TriageAction;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const base = z.object({
  ref: z.string().trim().min(1).max(30),
  version: z.coerce.number().int().min(1),
});

const priorityInput = z.union([prioritySchema, z.literal('none')]);
const toggle = z.union([z.boolean(), z.enum(['true', 'false'])]).optional();

const firstMessage = (err: z.ZodError) => err.issues[0]?.message ?? 'The card sent something I cannot read.';

/**
 * Reads a triage card's invoke (verb + data, inputs merged into data by Teams) into an action.
 * `champions` is who may be assigned: an id not among them is refused.
 */
export function parseTriageInvoke(
  verb: string,
  data: unknown,
  champions: readonly Person[],
): Parsed<TriageRequest> {
  const kind = TRIAGE_VERBS[verb];
  if (!kind) return { ok: false, message: `Unknown action "${verb.slice(0, 40)}".` };
  const head = base.safeParse(data);
  if (!head.success)
    return { ok: false, message: 'This card is missing its issue reference; open the issue again.' };
  const raw = (data ?? {}) as Record<string, unknown>;
  const done = (action: TriageAction): Parsed<TriageRequest> => ({
    ok: true,
    value: { ...head.data, action },
  });
  switch (kind) {
    case 'assignMe':
      return done({ kind: 'assignMe' });
    case 'assign': {
      const id = z.string().max(LIMITS.personId).safeParse(raw.assignee);
      const champion = id.success ? champions.find((c) => c.id === id.data) : undefined;
      if (!champion) return { ok: false, message: 'Choose a champion from the list.' };
      return done({ kind: 'assign', assignee: { id: champion.id, name: champion.name } });
    }
    case 'status': {
      const s = statusSchema.safeParse(raw.status);
      return s.success
        ? done({ kind: 'status', status: s.data })
        : { ok: false, message: firstMessage(s.error) };
    }
    case 'priority': {
      const p = priorityInput.safeParse(raw.priority);
      if (!p.success) return { ok: false, message: firstMessage(p.error) };
      return done({ kind: 'priority', priority: p.data === 'none' ? null : p.data });
    }
    case 'comment': {
      const text = commentTextSchema.safeParse(raw.comment ?? '');
      if (!text.success) return { ok: false, message: firstMessage(text.error) };
      const pub = toggle.safeParse(raw.public);
      const visibility = pub.success && (pub.data === true || pub.data === 'true') ? 'public' : 'internal';
      return done({ kind: 'comment', text: text.data, visibility });
    }
    case 'duplicate': {
      const of = z.string().trim().min(1).max(20).safeParse(raw.duplicateOf);
      if (!of.success) return { ok: false, message: 'Type the reference of the original issue.' };
      return done({ kind: 'duplicate', of: of.data });
    }
  }
}

export type IssueListKindInput = 'triage' | 'mine' | 'assigned';

const pageSchema = z.object({
  list: z.enum(['triage', 'mine', 'assigned']),
  token: z.string().max(2048).optional().default(''),
  filters: z
    .object({
      status: z.enum(STATUSES).optional(),
      category: z.string().trim().min(1).max(80).optional(),
      site: z.string().trim().min(1).max(LIMITS.site).optional(),
      assigneeId: z.string().trim().min(1).max(LIMITS.personId).optional(),
    })
    .optional()
    .default({}),
});

/**
 * Reads a paging button's data. Whose list it is ("mine", "assigned") comes from the caller's identity,
 * never from here; filters only narrow a list the caller may read anyway.
 */
export function parsePageInvoke(
  data: unknown,
): Parsed<{ list: IssueListKindInput; token: string | null; filters: QueueFilters }> {
  const p = pageSchema.safeParse(data);
  if (!p.success) return { ok: false, message: 'This list button is out of date; ask for the list again.' };
  const filters: QueueFilters = {};
  for (const [k, v] of Object.entries(p.data.filters))
    if (v !== undefined) Object.assign(filters, { [k]: v });
  return { ok: true, value: { list: p.data.list, token: p.data.token || null, filters } };
}

/** Reads the ref of a "+1" or "View issue" button. */
export function parseRefInvoke(data: unknown): Parsed<string> {
  const p = z.object({ ref: z.string().trim().min(1).max(30) }).safeParse(data);
  return p.success
    ? { ok: true, value: p.data.ref }
    : { ok: false, message: 'This button has no issue reference.' };
}
