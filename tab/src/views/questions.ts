import { call, problem } from '../api.js';
import { announce, h, fill } from '../dom.js';
import { num, pct, when } from '../format.js';
import type { QuestionsPanel } from '../types.js';

/** Questions: how many were asked and answered, and the groups of questions the guidance did not answer. */
export async function questionsView(root: HTMLElement, days = 30): Promise<void> {
  const q = await call<QuestionsPanel>(`questions?days=${days}`);
  const picker = h(
    'label',
    {},
    'Period ',
    h(
      'select',
      {
        // A period that fails to load says so and the picker goes back to the period still shown.
        onchange: (ev: Event) => {
          const select = ev.target as HTMLSelectElement;
          void questionsView(root, Number(select.value)).catch((err: unknown) => {
            select.value = String(days);
            announce(problem(err, 'The questions could not be loaded. Try again in a moment.'), 'error');
          });
        },
      },
      ...[7, 30, 90].map((d) => h('option', { value: d, selected: d === days }, `Last ${d} days`)),
    ),
  );
  fill(root, 
    h(
      'section',
      { className: 'panel', 'aria-labelledby': 'questions-h' },
      h('h2', { id: 'questions-h' }, 'Questions'),
      picker,
      h(
        'dl',
        { className: 'facts' },
        h('div', {}, h('dt', {}, 'Asked'), h('dd', {}, num(q.asked))),
        h('div', {}, h('dt', {}, 'Answered from the guidance'), h('dd', {}, pct(q.shareAnswered))),
        h('div', {}, h('dt', {}, 'Rated helpful'), h('dd', {}, pct(q.shareHelpful))),
      ),
      h('h3', {}, 'Where the guidance has gaps'),
      q.gaps.length
        ? h(
            'table',
            { className: 'gaps' },
            h('caption', {}, 'Questions not answered, or answered but marked not helpful, grouped; those most people asked first'),
            h('thead', {}, h('tr', {}, ...['Question (latest wording)', 'People', 'Times asked', 'Not answered', 'Not helpful', 'Last asked'].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, ...q.gaps.map((g) => h('tr', {}, h('th', { scope: 'row', className: 'text' }, g.example), h('td', {}, num(g.askers)), h('td', {}, num(g.count)), h('td', {}, num(g.unanswered)), h('td', {}, num(g.notHelpful)), h('td', {}, when(g.lastAskedAt))))),
          )
        : h('p', { className: 'empty' }, 'No gaps in this period.'),
      h('p', { className: 'hint' }, 'Champions answer a gap from Teams: type "gaps" to the bot and use "Answer this".'),
    ),
  );
}
