import {
  type Comment,
  type HistoryEntry,
  type HistoryWhat,
  type Issue,
  isOpen,
  loggedByClause,
  OFFICE_HOURS_LOCATION,
  type NewIssue,
  type Person,
  type Priority,
  type Reporter,
  STATUS_LABEL,
  type Status,
  type Visibility,
} from './model.js';

/**
 * The issue log's rules as pure functions: (issue, action, actor, now) → new issue + history entry,
 * or a refusal saying why. The store runs them inside its ETag-guarded read-modify-write, so a rule is
 * checked against the state that is actually written.
 */

export type TriageAction =
  | { kind: 'assignMe' }
  | { kind: 'assign'; assignee: Person }
  | { kind: 'status'; status: Status }
  | { kind: 'priority'; priority: Priority | null }
  | { kind: 'comment'; text: string; visibility: Visibility }
  | { kind: 'duplicate'; of: string };

export type ActionKind = TriageAction['kind'];
/** Which status may follow which. Duplicate is reached only through the duplicate action (it needs a target). */
export const TRANSITIONS: Record<Status, readonly Status[]> = {
  new: ['triaged', 'in_progress', 'waiting', 'resolved', 'wont_fix', 'duplicate'],
  triaged: ['in_progress', 'waiting', 'resolved', 'wont_fix', 'duplicate'],
  in_progress: ['triaged', 'waiting', 'resolved', 'wont_fix', 'duplicate'],
  waiting: ['in_progress', 'resolved', 'wont_fix', 'closed'],
  resolved: ['closed', 'in_progress'],
  closed: [],
  wont_fix: ['triaged'],
  duplicate: ['triaged'],
};

export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * Whether an issue's priority and assignee may still change. A Closed issue is final (no status follows it):
 * re-prioritising or assigning it would put work on a problem nobody will pick up, and the SLA and dashboard
 * figures would count it. The other done statuses can be reopened, so they stay editable.
 */
export const isEditable = (issue: Pick<Issue, 'status'>): boolean => issue.status !== 'closed';

/** What a champion reads when they try to change a Closed issue (card, tab). */
export const closedRefusal = (issue: Pick<Issue, 'ref'>): string =>
  `${issue.ref} is closed, so its priority and assignee stay as they are. If the problem is back, log a new issue and mention ${issue.ref}.`;

/**
 * Why an issue cannot be the original a duplicate is linked to, or null when it can. A duplicate's reporter and
 * +1s follow the original and hear only of its changes, so it must be open: a duplicate would send them one step
 * further (and two issues duplicates of each other would close the problem with nobody on it), a done one would
 * leave them waiting on an issue nobody works on. Resolved and Won't fix can be reopened first; Closed is final.
 */
export function originalRefusal(original: Pick<Issue, 'ref' | 'status' | 'duplicateOf'>, self: string | undefined): string | null {
  const { ref } = original;
  switch (original.status) {
    case 'duplicate':
      // Done all the same (a damaged row, or one written by hand): its followers would wait on nothing.
      if (!original.duplicateOf) return `${ref} is marked a duplicate of no issue, so it is not open: reopen it (set it Triaged) or pick an open issue.`;
      return original.duplicateOf === self
        ? `${ref} is already marked a duplicate of this issue.`
        : `${ref} is itself a duplicate of ${original.duplicateOf}; link to ${original.duplicateOf} instead.`;
    case 'closed':
      return `${ref} is closed, and a closed issue cannot be reopened: pick an open issue, or keep this one open.`;
    case 'wont_fix':
      return `${ref} is Won't fix; reopen it (set it Triaged) or pick an open issue.`;
    case 'resolved':
      return `${ref} is Resolved; reopen it (set it In progress) if the problem is back, or pick an open issue.`;
    default:
      return null;
  }
}

export interface Notification {
  kind: 'status' | 'comment';
  text: string;
}

export type Refusal = { ok: false; code: 'invalid' | 'no-change'; message: string };

export type ActionOutcome =
  | { ok: true; issue: Issue; entry: HistoryEntry; notifyReporter?: Notification }
  | Refusal;

const person = (p: Person): Person => ({ id: p.id, name: p.name });

/** `loggedBy`: someone logging it on the reporter's behalf; its "created" line is theirs (see loggedByClause). */
export function createIssue(
  input: NewIssue,
  reporter: Reporter,
  ref: string,
  n: number,
  now: Date,
  priority: Priority | null = null,
  loggedBy?: Person,
): Issue {
  const at = now.toISOString();
  return {
    ...input,
    ref,
    number: n,
    reporter,
    status: 'new',
    priority,
    assignee: null,
    duplicateOf: null,
    affected: [],
    comments: [],
    history: [{ at, by: person(loggedBy ?? reporter), what: 'created', to: 'new', version: 1 }],
    createdAt: at,
    updatedAt: at,
    closedAt: null,
    version: 1,
  };
}

function bump(
  issue: Issue,
  now: Date,
  by: Person,
  change: Partial<Issue>,
  entry: Omit<HistoryEntry, 'at' | 'by' | 'version'>,
) {
  const version = issue.version + 1;
  const at = now.toISOString();
  const full: HistoryEntry = { at, by: person(by), ...entry, version };
  const next: Issue = { ...issue, ...change, updatedAt: at, version, history: [...issue.history, full] };
  return { issue: next, entry: full };
}

const refuse = (code: Refusal['code'], message: string): Refusal => ({ ok: false, code, message });

function statusChange(issue: Issue, to: Status, now: Date): Partial<Issue> {
  const closedAt = isOpen(to) ? null : now.toISOString();
  return { status: to, closedAt, duplicateOf: to === 'duplicate' ? issue.duplicateOf : null };
}

function statusNotice(issue: Issue, to: Status): Notification {
  const extra: Partial<Record<Status, string>> = {
    waiting: ' A champion needs something from you: see the latest comment.',
    resolved: ` If it is still not fixed for you, log a new issue and mention ${issue.ref}.`,
  };
  return {
    kind: 'status',
    text: `Your issue ${issue.ref} "${issue.title}" is now ${STATUS_LABEL[to]}.${extra[to] ?? ''}`,
  };
}

/**
 * The issue as it stood just after `version` (its status, what it was a duplicate of, who followed it), read from its
 * history: a change told late (its follow-ups failed the first time) is told as it was made, to those on it then.
 * A "+1" with no history line of its own counts from the start, as it did before +1s were dated.
 */
export function issueAsOf(issue: Issue, version: number): Issue {
  let status: Status = 'new';
  let duplicateOf: string | null = null;
  const joined = new Map<string, number>();
  for (const h of issue.history) {
    if (h.what === 'affected' && !joined.has(h.by.id)) joined.set(h.by.id, h.version);
    if (h.version > version) continue;
    if (h.what === 'status' && h.to) [status, duplicateOf] = [h.to as Status, null];
    if (h.what === 'duplicate' && h.to) [status, duplicateOf] = ['duplicate', h.to];
  }
  const affected = issue.affected.filter((a) => (joined.get(a.id) ?? 0) <= version);
  return { ...issue, status, duplicateOf, affected };
}

/**
 * What the reporter and followers are told of one change, read from the issue and the change's history line (so a
 * change saved before its notices could be queued can be told later, once): a status change, a duplicate link, a
 * public comment; nothing for the rest.
 */
export function noticeOf(issue: Issue, entry: HistoryEntry): Notification | undefined {
  switch (entry.what) {
    case 'status':
      return statusNotice(issue, entry.to as Status);
    case 'duplicate':
      return { kind: 'status', text: `Your issue ${issue.ref} "${issue.title}" is the same problem as ${entry.to}; it is followed there.` };
    case 'comment': {
      const comment = issue.comments.find((c) => c.id === entry.commentId);
      if (!comment || comment.visibility !== 'public') return undefined;
      return { kind: 'comment', text: `${entry.by.name} commented on ${issue.ref}: ${comment.text}` };
    }
    default:
      return undefined;
  }
}

/** Applies one champion action. The actor's role has been checked by the caller (issues.triage). */
export function applyTriageAction(
  issue: Issue,
  action: TriageAction,
  actor: Person,
  now: Date,
): ActionOutcome {
  switch (action.kind) {
    case 'assignMe':
    case 'assign': {
      if (!isEditable(issue)) return refuse('invalid', closedRefusal(issue));
      const to = action.kind === 'assignMe' ? person(actor) : person(action.assignee);
      if (issue.assignee?.id === to.id) {
        return refuse(
          'no-change',
          to.id === actor.id ? 'It is already assigned to you.' : `It is already assigned to ${to.name}.`,
        );
      }
      const r = bump(
        issue,
        now,
        actor,
        { assignee: to },
        {
          what: 'assigned',
          ...(issue.assignee ? { from: issue.assignee.name } : {}),
          to: to.name,
          toId: to.id,
        },
      );
      return { ok: true, ...r };
    }
    case 'status': {
      const to = action.status;
      if (to === issue.status) return refuse('no-change', `It is already ${STATUS_LABEL[to]}.`);
      if (to === 'duplicate')
        return refuse('invalid', 'Use "Link duplicate" to mark it as a duplicate of another issue.');
      if (!canTransition(issue.status, to)) {
        return refuse(
          'invalid',
          `An issue that is ${STATUS_LABEL[issue.status]} cannot become ${STATUS_LABEL[to]}.`,
        );
      }
      const r = bump(issue, now, actor, statusChange(issue, to, now), {
        what: 'status',
        from: issue.status,
        to,
      });
      return { ok: true, ...r, notifyReporter: noticeOf(r.issue, r.entry)! };
    }
    case 'priority': {
      if (!isEditable(issue)) return refuse('invalid', closedRefusal(issue));
      if (action.priority === issue.priority) {
        return refuse('no-change', `The priority is already ${action.priority ?? 'none'}.`);
      }
      const r = bump(
        issue,
        now,
        actor,
        { priority: action.priority },
        { what: 'priority', from: issue.priority ?? 'none', to: action.priority ?? 'none' },
      );
      return { ok: true, ...r };
    }
    case 'comment': {
      const text = action.text.trim();
      if (!text) return refuse('invalid', 'Comment is required.');
      // The version the comment lands in is unique per issue, so it makes a stable comment id.
      const comment: Comment = {
        id: `c${issue.version + 1}`,
        at: now.toISOString(),
        by: person(actor),
        text,
        visibility: action.visibility,
      };
      const r = bump(
        issue,
        now,
        actor,
        { comments: [...issue.comments, comment] },
        { what: 'comment', commentId: comment.id, visibility: action.visibility },
      );
      if (action.visibility !== 'public') return { ok: true, ...r };
      return { ok: true, ...r, notifyReporter: noticeOf(r.issue, r.entry)! };
    }
    case 'duplicate': {
      if (action.of === issue.ref) return refuse('invalid', 'An issue cannot be a duplicate of itself.');
      if (issue.status === 'duplicate' && issue.duplicateOf === action.of) {
        return refuse('no-change', `It is already a duplicate of ${action.of}.`);
      }
      if (issue.status !== 'duplicate' && !canTransition(issue.status, 'duplicate')) {
        return refuse('invalid', `An issue that is ${STATUS_LABEL[issue.status]} cannot become a duplicate.`);
      }
      const r = bump(
        issue,
        now,
        actor,
        { status: 'duplicate', duplicateOf: action.of, closedAt: now.toISOString() },
        { what: 'duplicate', from: issue.status, to: action.of },
      );
      return { ok: true, ...r, notifyReporter: noticeOf(r.issue, r.entry)! };
    }
  }
}

/** +1 from another user: idempotent per user (a second +1 changes nothing). */
export function addAffectedUser(issue: Issue, user: Person, now: Date): ActionOutcome {
  // A duplicate is done: its followers hear nothing more, so a +1 belongs on its original (see IssueService.follow).
  if (issue.status === 'duplicate') return refuse('invalid', `${issue.ref} is the same problem as ${issue.duplicateOf ?? 'another issue'}.`);
  if (user.id === issue.reporter.id) return refuse('no-change', `You reported ${issue.ref} yourself.`);
  if (issue.affected.some((a) => a.id === user.id)) {
    return refuse('no-change', `You are already counted as affected by ${issue.ref}.`);
  }
  // A finished issue is worked on no more: whoever still has the problem is told what was done and logs theirs.
  if (!isOpen(issue.status)) return refuse('invalid', `${issue.ref} is ${STATUS_LABEL[issue.status]}.`);
  if (issue.affected.length >= MAX_AFFECTED) {
    return refuse(
      'no-change',
      `${issue.ref} already has ${MAX_AFFECTED} people affected; it is getting attention.`,
    );
  }
  const r = bump(issue, now, user, { affected: [...issue.affected, person(user)] }, { what: 'affected' });
  return { ok: true, ...r };
}

/** Bounds the size of the stored issue; far beyond any real "me too" count. */
export const MAX_AFFECTED = 1000;

/** The field an action changes: two changes to the same field conflict, comments never do. */
const ACTION_FIELD: Record<ActionKind, 'assignee' | 'status' | 'priority' | null> = {
  assignMe: 'assignee',
  assign: 'assignee',
  status: 'status',
  duplicate: 'status',
  priority: 'priority',
  comment: null,
};
const HISTORY_FIELD: Partial<Record<HistoryWhat, 'assignee' | 'status' | 'priority'>> = {
  assigned: 'assignee',
  status: 'status',
  duplicate: 'status',
  priority: 'priority',
};

/**
 * When an action was made on an older version of the issue (a stale card, or a 412 on write): the
 * latest change since then to the field the action changes, or null if there was none and the action
 * still applies to the fresh issue.
 */
export function concurrentChange(
  issue: Issue,
  baseVersion: number,
  action: TriageAction,
): HistoryEntry | null {
  const field = ACTION_FIELD[action.kind];
  if (!field) return null;
  const since = issue.history.filter((h) => h.version > baseVersion && HISTORY_FIELD[h.what] === field);
  return since.at(-1) ?? null;
}

/** Whether `actor` posted this very comment (same text and visibility) after `baseVersion`. */
export function sameCommentSince(
  issue: Issue,
  baseVersion: number,
  action: Extract<TriageAction, { kind: 'comment' }>,
  actor: Person,
): boolean {
  const text = action.text.trim();
  return issue.history.some(
    (h) =>
      h.what === 'comment' &&
      h.version > baseVersion &&
      h.by.id === actor.id &&
      issue.comments.some((c) => c.id === h.commentId && c.text === text && c.visibility === action.visibility),
  );
}

/** "Amina already took this issue" and friends, for the champion whose action lost the race. */
export function describeChange(entry: HistoryEntry): string {
  const who = entry.by.name;
  switch (entry.what) {
    case 'assigned':
      return entry.toId === entry.by.id
        ? `${who} already took this issue.`
        : `${who} already assigned this to ${entry.to}.`;
    case 'status':
      return `${who} already set the status to ${STATUS_LABEL[entry.to as Status] ?? entry.to}.`;
    case 'priority':
      return `${who} already set the priority to ${entry.to}.`;
    case 'duplicate':
      return `${who} already marked this as a duplicate of ${entry.to}.`;
    default:
      return `${who} changed this issue meanwhile.`;
  }
}

/** What the reporter may see of an issue: internal comments and their history lines are left out. */
export function reporterView(issue: Issue): Issue {
  return {
    ...issue,
    comments: issue.comments.filter((c) => c.visibility === 'public'),
    history: issue.history.filter((h) => h.what !== 'comment' || h.visibility === 'public'),
  };
}

/**
 * Privacy, for an issue an office-hours host logged before its "created" line named them (that line named the
 * reporter): the description's closing "; logged by <name>." is all that names the host, so it is found by `name`.
 * The issue with `stand`'s name there, version bumped; null when it is not of that shape or does not end so. An
 * issue whose "created" line names who logged it is left to `replacePersonIn` (by id: a namesake is not touched).
 */
export function replaceLegacyLoggedByIn(issue: Issue, name: string, stand: Person): Issue | null {
  const created = issue.history.find((h) => h.what === 'created');
  const clause = `; ${loggedByClause(name)}`;
  if (issue.location !== OFFICE_HOURS_LOCATION || !created || created.by.id !== issue.reporter.id || !issue.description.endsWith(clause)) return null;
  return { ...issue, description: `${issue.description.slice(0, -clause.length)}; ${loggedByClause(stand.name)}`, version: issue.version + 1 };
}

/**
 * Privacy: the issue with `stand` wherever it names a person (reporter, +1s, assignee, authors of comments and
 * history lines, the assignee named in an assignment line, who logged it for the reporter and the description's
 * "logged by" that names them: loggedByClause), and the version bumped so cards showing the old
 * name are redrawn; what people wrote stays. Null when the issue does not name them (nothing to change).
 */
export function replacePersonIn(issue: Issue, isPerson: (id: string) => boolean, stand: Person): Issue | null {
  const swap = (p: Person): Person => (isPerson(p.id) ? person(stand) : p);
  let assigneeBefore: string | undefined;
  const history = issue.history.map((h) => {
    const next: HistoryEntry = { ...h, by: swap(h.by) };
    if (h.what === 'assigned') {
      // `from` names the previous assignee, whose id is the previous assignment's `toId`.
      if (h.from !== undefined && assigneeBefore && isPerson(assigneeBefore)) next.from = stand.name;
      if (h.toId && isPerson(h.toId)) Object.assign(next, { toId: stand.id, to: stand.name });
      assigneeBefore = h.toId;
    }
    return next;
  });
  const r = issue.reporter;
  const reporterIsPerson = [r.id, r.aadObjectId, r.conversationKey].some((id) => id !== undefined && isPerson(id));
  const affected = [...new Map(issue.affected.map(swap).map((p) => [p.id, p])).values()];
  // Logged on the reporter's behalf by the person: the description's closing "logged by <name>." names them too.
  const created = issue.history.find((h) => h.what === 'created');
  const loggedBy = created && created.by.id !== r.id && isPerson(created.by.id) ? created.by : undefined;
  const description =
    loggedBy && issue.description.endsWith(loggedByClause(loggedBy.name))
      ? `${issue.description.slice(0, -loggedByClause(loggedBy.name).length)}${loggedByClause(stand.name)}`
      : issue.description;
  const next: Issue = {
    ...issue,
    description,
    reporter: reporterIsPerson ? person(stand) : r,
    affected,
    assignee: issue.assignee ? swap(issue.assignee) : null,
    comments: issue.comments.map((c) => ({ ...c, by: swap(c.by) })),
    history,
  };
  const changed = JSON.stringify({ ...next, version: 0 }) !== JSON.stringify({ ...issue, version: 0 });
  return changed ? { ...next, version: issue.version + 1 } : null;
}
