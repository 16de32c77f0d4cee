import { STATUS_LABEL } from '../../../src/issues/model.js';
import { sortedOnlyNote } from '../../../src/issues/order.js';
import { ApiError, call, problem } from '../api.js';
import { groupedBarChart } from '../charts.js';
import { announce, failure, h, fill } from '../dom.js';
import { day, num, when } from '../format.js';
import type { CommentPage, FlowLine, IssueComment, IssueDetail, IssueFlow, IssueList, IssueSummary, Me, Person, Status } from '../types.js';

/**
 * Issues: for champions and the rollout team, the triage board (filter, search, sort, page) and an issue's
 * actions — assign, status, priority — sent to the same service as the triage card's buttons, with the
 * version the board showed, so a change someone made meanwhile is never overwritten. For staff, their own
 * issues only.
 */

const OPEN: Status[] = ['new', 'triaged', 'in_progress', 'waiting'];
const DONE: Status[] = ['resolved', 'closed', 'wont_fix', 'duplicate'];
/** How the done list is ordered, by the Order chosen ("New first, then priority" means the archive's own order). */
const DONE_ORDER: Record<string, string> = {
  queue: 'most recently closed first',
  oldest: 'oldest first',
  newest: 'newest first',
  priority: 'by priority',
};

interface BoardState {
  filters: Record<string, string>;
  page: number;
  token: string | null;
  tokens: (string | null)[];
  /** The board in queue order: where this page starts, and where the pages before it did. */
  after: string | null;
  afters: (string | null)[];
}

function issueRow(i: IssueSummary, open: (ref: string) => void): HTMLElement {
  return h(
    'tr',
    { 'data-ref': i.ref },
    h('th', { scope: 'row' }, h('button', { type: 'button', className: 'link', onclick: () => open(i.ref), 'aria-label': `Open ${i.ref}: ${i.title}` }, i.ref)),
    h('td', { className: 'text' }, i.title),
    h('td', { className: 'status' }, STATUS_LABEL[i.status] ?? i.status),
    h('td', {}, i.priority ?? '—'),
    h('td', { className: 'text' }, i.category),
    h('td', { className: 'text' }, i.site),
    h('td', { className: 'text' }, i.assignee?.name ?? 'Unassigned'),
    h('td', {}, day(i.createdAt)),
  );
}

function table(items: IssueSummary[], caption: string, open: (ref: string) => void): HTMLElement {
  if (!items.length) return h('p', { className: 'empty' }, 'No issues match.');
  return h(
    'table',
    { className: 'issues' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...['Ref', 'Title', 'Status', 'Priority', 'Category', 'Site', 'Assignee', 'Logged'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...items.map((i) => issueRow(i, open))),
  );
}

function flowChart(id: string, title: string, lines: FlowLine[], label: (l: FlowLine) => string): HTMLElement {
  return groupedBarChart(id, title, lines.map(label), [
    { label: 'Opened', values: lines.map((l) => l.opened) },
    { label: 'Resolved', values: lines.map((l) => l.resolved) },
  ]);
}

/**
 * Issues opened and resolved over the charted weeks, by category, site and priority: from the roll-up's week rows,
 * so it costs the same at 100 issues as at 100,000. The week under way counts so far.
 */
async function flowPanel(panel: HTMLElement): Promise<void> {
  let flow: IssueFlow;
  try {
    flow = await call<IssueFlow>('issue-flow');
  } catch (err) {
    fill(panel, h('h2', { id: 'flow-h' }, 'Opened and resolved'), failure(problem(err, 'The issues opened and resolved could not be loaded. Try again in a moment.'), () => void flowPanel(panel)));
    return;
  }
  const other = (what: string) => (l: FlowLine) => (l.others ? `Other (${l.others} ${what})` : l.name);
  fill(panel,
    h('h2', { id: 'flow-h' }, 'Opened and resolved, by category, site and priority'),
    h('p', { className: 'hint' }, `From ${day(flow.range.from)} to ${day(flow.range.to)} (this week so far): ${num(flow.opened)} opened, ${num(flow.resolved)} resolved.`),
    flow.opened || flow.resolved
      ? [
          flowChart('chart-flow-category', 'By category', flow.byCategory, other('categories')),
          flowChart('chart-flow-site', 'By site (most first)', flow.bySite, other('sites')),
          flowChart('chart-flow-priority', 'By priority', flow.byPriority, (l) => (l.name === 'none' ? 'None' : l.name)),
        ]
      : h('p', { className: 'empty' }, 'No issues were opened or resolved in these weeks.'),
  );
}

function commentItem(c: IssueComment): HTMLElement {
  return h('li', {}, h('strong', {}, c.by), ` (${when(c.at)}${c.visibility === 'internal' ? ', internal' : ''}): `, c.text);
}

/**
 * An issue's comments: the newest the detail carried, and "Show older comments" for the page before the oldest
 * shown (asked from that comment, so comments added meanwhile neither repeat nor skip one).
 */
function comments(ref: string, issue: IssueDetail): HTMLElement {
  let shown = issue.comments.length;
  const heading = h('h3', {}, '');
  const list = h('ul', { className: 'comments' }, ...issue.comments.map(commentItem));
  const label = () => (heading.textContent = shown < issue.commentCount ? `Comments (newest ${shown} of ${issue.commentCount})` : `Comments (${issue.commentCount})`);
  label();
  let older = issue.olderComments;
  const more = h('button', { type: 'button', className: 'secondary', hidden: !older }, 'Show older comments');
  more.addEventListener('click', () => {
    if (!older) return;
    more.disabled = true;
    void call<CommentPage>(`issues/${encodeURIComponent(ref)}/comments?${new URLSearchParams({ before: older })}`).then(
      (page) => {
        list.prepend(...page.comments.map(commentItem));
        shown += page.comments.length;
        older = page.olderComments;
        label();
        more.hidden = !older;
        more.disabled = false;
        announce(`${page.comments.length} older comments shown.`);
      },
      (err: unknown) => {
        more.disabled = false;
        announce(problem(err, 'The older comments could not be loaded. Try again in a moment.'), 'error');
      },
    );
  });
  return h('div', { className: 'thread' }, heading, more, list);
}

export async function issuesView(root: HTMLElement, me: Me, categories: readonly string[]): Promise<void> {
  const champion = Boolean(me.can['issues.readAll']);
  const detail = h('section', { className: 'panel detail', 'aria-labelledby': 'detail-h', hidden: true });
  const results = h('div', { className: 'results', 'aria-live': 'polite' });
  const state: BoardState = { filters: { sort: 'queue' }, page: 0, token: null, tokens: [], after: null, afters: [] };
  let champions: Person[] = [];
  if (champion) champions = (await call<{ champions: Person[] }>('champions')).champions;

  // Which load is the latest: a list asked for earlier that answers later must not replace the one now chosen.
  let latest = 0;
  // A page, a filter or a refresh that fails says so where the list is (its callers do not wait on it).
  const load = async () => {
    const mine = ++latest;
    try {
      await loadList(() => mine === latest);
    } catch (err) {
      if (mine !== latest) return;
      fill(results, failure(problem(err, 'The issues could not be loaded. Try again in a moment.'), () => void load()));
    }
  };

  const loadList = async (current: () => boolean) => {
    const q = new URLSearchParams(Object.entries(state.filters).filter(([, v]) => v !== ''));
    if (state.page) q.set('page', String(state.page));
    if (state.token) q.set('token', state.token);
    if (state.after) q.set('after', state.after);
    const list = await call<IssueList>(`issues?${q}`);
    if (!current()) return;
    const pager = h('nav', { className: 'pager', 'aria-label': 'Pages' });
    if (list.mode === 'board') {
      // A cursor the board no longer takes (an older version's, after a deploy) gives page 1 again: count from it.
      if (list.page === 0 && state.page !== 0) {
        state.page = 0;
        state.after = null;
        state.afters = [];
      }
      // Where the page starts in the list as it is now: issues triaged out of it since page 1 are not counted.
      const first = (list.start ?? list.page * list.pageSize) + 1;
      const shown = list.items.length ? `${first}–${first + list.items.length - 1}${list.total === null ? '' : ` of ${list.total}`}` : '0';
      pager.append(
        h('button', { type: 'button', disabled: list.page === 0, onclick: () => ((state.page -= 1), (state.after = state.afters.pop() ?? null), void load()) }, 'Previous page'),
        h('span', {}, `Issues ${shown}`),
        h('button', { type: 'button', disabled: !list.hasMore, onclick: () => ((state.page += 1), state.afters.push(state.after), (state.after = list.next ?? null), void load()) }, 'Next page'),
      );
      fill(results, 
        list.truncated ? h('p', { className: 'hint' }, 'More than 1,000 open issues match: the search and the order cover the first 1,000 in queue order. Narrow the filters to see the rest.') : null,
        table(list.items, 'Open issues', (ref) => void openIssue(ref)),
        pager,
      );
    } else {
      pager.append(
        h('button', { type: 'button', disabled: !state.tokens.length, onclick: () => ((state.token = state.tokens.pop() ?? null), void load()) }, 'Previous page'),
        h('button', { type: 'button', disabled: !list.next, onclick: () => (state.tokens.push(state.token), (state.token = list.next), void load()) }, 'Next page'),
      );
      // A search of the done issues reads a bounded stretch per page: none there yet is not none at all.
      const further = !list.items.length && list.next && list.mode === 'archive' ? h('p', { className: 'hint' }, 'No match among the issues searched so far: Next page searches further back.') : null;
      const caption = list.mode === 'mine' ? 'Your issues' : `Done issues, ${DONE_ORDER[list.sort] ?? DONE_ORDER.queue}`;
      fill(results,
        list.mode === 'archive' && list.truncated ? h('p', { className: 'hint' }, sortedOnlyNote(list.sorted)) : null,
        further ?? table(list.items, caption, (ref) => void openIssue(ref)),
        pager,
      );
    }
  };

  const openIssue = async (ref: string, notice?: string) => {
    let issue: IssueDetail;
    try {
      issue = await call<IssueDetail>(`issues/${encodeURIComponent(ref)}`);
    } catch (err) {
      announce(problem(err, 'The issue could not be opened.'), 'error');
      return;
    }
    const act = async (body: Record<string, unknown>, done: (i: IssueDetail) => string) => {
      try {
        const res = await call<{ issue: IssueDetail }>(`issues/${encodeURIComponent(ref)}/triage`, { method: 'POST', body: { ...body, version: issue.version } });
        announce(`${ref}: ${done(res.issue)}.`, 'success');
        await openIssue(ref);
        await load();
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) {
          announce(`${ref}: ${err.message}`, 'error');
          await openIssue(ref, err.message);
          await load();
        } else announce(problem(err, 'The change could not be made.'), 'error');
      }
    };
    const statusSelect = h('select', { name: 'status', 'aria-label': 'New status' }, ...issue.transitions.filter((s) => s !== 'duplicate').map((s) => h('option', { value: s }, STATUS_LABEL[s])));
    const prioritySelect = h('select', { name: 'priority', 'aria-label': 'Priority' }, ...['P1', 'P2', 'P3', 'P4', 'none'].map((p) => h('option', { value: p, selected: (issue.priority ?? 'none') === p }, p === 'none' ? 'None' : p)));
    const assignSelect = h('select', { name: 'assignee', 'aria-label': 'Assign to' }, ...champions.map((c) => h('option', { value: c.id, selected: issue.assignee?.id === c.id }, c.name)));
    detail.hidden = false;
    fill(detail, 
      h('h2', { id: 'detail-h', tabindex: -1 }, `${issue.ref} ${issue.title}`),
      notice ? h('p', { className: 'notice', role: 'alert' }, notice) : null,
      h(
        'dl',
        { className: 'facts' },
        ...[
          ['Status', STATUS_LABEL[issue.status]],
          ['Priority', issue.priority ?? 'None'],
          ['Assignee', issue.assignee?.name ?? 'Unassigned'],
          ['Category', issue.category],
          ['Site', issue.site],
          ['Where', issue.location],
          ['Reported by', issue.reporter.name],
          ['Logged', when(issue.createdAt)],
          ['People affected', String(issue.affectedCount + 1)],
        ].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
      ),
      h('p', { className: 'description' }, issue.description),
      champion && me.can['issues.triage']
        ? h(
            'div',
            { className: 'actions', role: 'group', 'aria-label': `Triage ${issue.ref}` },
            issue.transitions.length
              ? h('form', { onsubmit: (ev: Event) => (ev.preventDefault(), void act({ kind: 'status', status: statusSelect.value }, (i) => `now ${STATUS_LABEL[i.status]}`)) }, h('label', {}, 'Status ', statusSelect), h('button', { type: 'submit' }, 'Change status'))
              : null,
            // A Closed issue is final: its priority and assignee are not offered (the service would refuse them).
            issue.editable
              ? h('form', { onsubmit: (ev: Event) => (ev.preventDefault(), void act({ kind: 'priority', priority: prioritySelect.value }, (i) => `priority ${i.priority ?? 'none'}`)) }, h('label', {}, 'Priority ', prioritySelect), h('button', { type: 'submit' }, 'Set priority'))
              : h('p', { className: 'hint' }, 'This issue is closed: its priority and assignee stay as they are.'),
            issue.editable && champions.length
              ? h('form', { onsubmit: (ev: Event) => (ev.preventDefault(), void act({ kind: 'assign', assignee: assignSelect.value }, (i) => `assigned to ${i.assignee?.name ?? 'nobody'}`)) }, h('label', {}, 'Assign to ', assignSelect), h('button', { type: 'submit' }, 'Assign'))
              : null,
            issue.editable ? h('button', { type: 'button', onclick: () => void act({ kind: 'assignMe' }, () => 'assigned to you') }, 'Assign to me') : null,
          )
        : null,
      issue.commentCount ? comments(ref, issue) : null,
      h('button', { type: 'button', className: 'secondary', onclick: () => ((detail.hidden = true), results.querySelector<HTMLButtonElement>(`tr[data-ref="${ref}"] button`)?.focus()) }, 'Close'),
    );
    detail.querySelector<HTMLElement>('h2')?.focus();
  };

  const filters = champion
    ? h(
        'form',
        {
          className: 'filters',
          role: 'search',
          'aria-label': 'Filter the issues',
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            const f = new FormData(ev.target as HTMLFormElement);
            state.filters = Object.fromEntries([...f.entries()].map(([k, v]) => [k, String(v).trim()]));
            state.page = 0;
            state.token = null;
            state.tokens = [];
            state.after = null;
            state.afters = [];
            void load();
          },
        },
        h('label', {}, 'Status', h('select', { name: 'status' }, h('option', { value: '' }, 'Any open'), ...OPEN.map((s) => h('option', { value: s }, STATUS_LABEL[s])), ...DONE.map((s) => h('option', { value: s }, `${STATUS_LABEL[s]} (done)`)))),
        h('label', {}, 'Category', h('select', { name: 'category' }, h('option', { value: '' }, 'Any'), ...categories.map((c) => h('option', { value: c }, c)))),
        h('label', {}, 'Site', h('input', { name: 'site', maxlength: 80 })),
        h('label', {}, 'Priority', h('select', { name: 'priority' }, h('option', { value: '' }, 'Any'), ...['P1', 'P2', 'P3', 'P4'].map((p) => h('option', { value: p }, p)), h('option', { value: 'none' }, 'None'))),
        h('label', {}, 'Assignee', h('select', { name: 'assignee' }, h('option', { value: '' }, 'Anyone'), h('option', { value: 'me' }, 'Me'), ...champions.map((c) => h('option', { value: c.id }, c.name)))),
        h('label', {}, 'Search', h('input', { name: 'q', type: 'search', maxlength: 100, placeholder: 'Words, a reference, a name' })),
        h('label', {}, 'Order', h('select', { name: 'sort' }, h('option', { value: 'queue' }, 'New first, then priority'), h('option', { value: 'oldest' }, 'Oldest first'), h('option', { value: 'newest' }, 'Newest first'), h('option', { value: 'priority' }, 'Priority'))),
        h('button', { type: 'submit' }, 'Show issues'),
      )
    : h('p', {}, 'Your issues, newest first. Champions triage them; you hear back in Teams at every step.');

  // Aggregate figures: everyone who sees the dashboard sees them, staff too (as on the Overview).
  const flow = me.can['adoption.view'] ? h('section', { className: 'panel charts flow', 'aria-labelledby': 'flow-h' }) : null;
  fill(root, h('section', { className: 'panel', 'aria-labelledby': 'issues-h' }, h('h2', { id: 'issues-h' }, champion ? 'Triage board' : 'My issues'), filters, results), detail, flow);
  await Promise.all([load(), flow ? flowPanel(flow) : null]);
}
