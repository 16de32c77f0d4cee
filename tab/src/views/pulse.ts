import { call, problem } from '../api.js';
import { lineChart } from '../charts.js';
import { announce, append, h, fill } from '../dom.js';
import { day, num, shortDay, when } from '../format.js';
import { steppedNote } from '../../../src/adoption/metrics.js';
import type { PulseMetrics, PulseResult } from '../types.js';

/** Pulse surveys: each pulse's results in aggregate (none below the minimum), and trends of repeated ones. */

/**
 * A free-text question's answers: the first page, and the rest a page at a time on asking, each from where the
 * page before ended (`next`), so answers that come in meanwhile are neither repeated nor skipped.
 */
function texts(pulseId: string, questionId: string, first: string[], more: number, next: string | null): HTMLElement {
  const list = h('ul', { className: 'texts' }, ...first.map((t) => h('li', {}, t)));
  const wrap = h('div', {}, list);
  let after = next;
  const button = h('button', { type: 'button', className: 'secondary' }, '');
  const label = (n: number) => (button.textContent = `Show more answers (${num(n)} more)`);
  label(more);
  button.addEventListener('click', () => {
    if (!after) return;
    button.disabled = true;
    void call<{ answers: string[]; more: number; next: string | null }>(
      `pulse/${encodeURIComponent(pulseId)}/texts?question=${questionId}&after=${encodeURIComponent(after)}`,
    )
      .then((page) => {
        append(list, page.answers.map((t) => h('li', {}, t)));
        after = page.next;
        if (page.more > 0 && after) {
          label(page.more);
          button.disabled = false;
        } else button.remove();
      })
      .catch((err: unknown) => {
        button.disabled = false;
        announce(problem(err, 'More answers could not be loaded. Try again in a moment.'), 'error');
      });
  });
  if (more > 0 && next) wrap.append(button);
  return wrap;
}

function result(p: PulseResult): HTMLElement {
  return h(
    'article',
    { className: 'pulse', 'aria-labelledby': `p-${p.id}` },
    h('h3', { id: `p-${p.id}` }, p.title),
    h(
      'p',
      { className: 'line' },
      `Sent to ${num(p.sentTo)} on ${day(p.sentAt)} · ${p.asOf ? `${num(p.answers)} answered as of ${when(p.asOf)}` : 'answers not counted yet'} · open until ${day(p.closesAt)}`,
    ),
    !p.asOf
      ? h('p', {}, 'The answers are being counted: look again in a minute.')
      : p.shown
      ? p.questions.map((q) =>
          h(
            'div',
            { className: 'question' },
            h('h4', {}, q.text),
            q.result?.kind === 'scale'
              ? h('p', {}, `Average ${num(q.result.mean, 2)} of 5 — ${q.result.counts.map((c, i) => `${i + 1}: ${c}`).join(', ')}`)
              : q.result?.kind === 'choice'
                ? h('ul', {}, ...q.result.options.map((o) => h('li', {}, `${o.label}: ${num(o.count)}`)))
                : q.result?.kind === 'text'
                  ? texts(p.id, q.id, q.result.answers, q.result.more ?? 0, q.result.next ?? null)
                  : h('p', { className: 'hint' }, `Fewer than ${p.minAnswers} people answered this question (${num(q.answered)} so far): not shown, so that nobody can be picked out.`),
            q.result && q.shownFrom !== undefined ? h('p', { className: 'hint' }, steppedNote(p.minAnswers, q.shownFrom)) : null,
          ),
        )
      : h('p', {}, `Results appear once ${p.minAnswers} people have answered (${p.answers} so far), so that nobody can be picked out.`),
  );
}

export async function pulseView(root: HTMLElement): Promise<void> {
  const data = await call<PulseMetrics>('pulse');
  fill(root, 
    h(
      'section',
      { className: 'panel', 'aria-labelledby': 'pulse-h' },
      h('h2', { id: 'pulse-h' }, 'Pulse surveys'),
      h('p', { className: 'hint' }, 'Answers are anonymous: only totals are shown, and free text without names. The rollout team sends a pulse from Teams ("adoption" → Send a pulse).'),
      data.trends
        .filter((t) => t.kind === 'scale' && t.points.length > 1)
        .map((t, i) => lineChart(`chart-pulse-${i}`, `Trend: ${t.question}`, t.points.map((p) => shortDay(p.sentAt)), [{ label: 'Average (1–5)', values: t.points.map((p) => p.mean ?? null) }])),
      data.pulses.length ? data.pulses.map(result) : h('p', { className: 'empty' }, 'No pulse has been sent yet.'),
    ),
  );
}
