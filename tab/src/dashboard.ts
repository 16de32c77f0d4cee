import { ApiError, call, problem, useCredentials } from './api.js';
import { destroyCharts, recolourCharts } from './charts.js';
import { announce, failure, h, fill } from './dom.js';
import { setLocale } from './format.js';
import { connect, ssoToken } from './teams.js';
import { applyTheme, onThemeChange } from './theme.js';
import type { DemoUser, Me } from './types.js';
import { issuesView } from './views/issues.js';
import { overviewView } from './views/overview.js';
import { communicationsView, officeHoursView } from './views/providers.js';
import { pulseView } from './views/pulse.js';
import { questionsView } from './views/questions.js';

/**
 * The adoption dashboard (personal tab and channel tab). Inside Teams: the Teams theme and locale, and the
 * user's SSO token for every API call. In a plain browser the page says it is outside Teams; when the
 * server runs in its local demo mode, it offers to run as one of the demo users.
 */

interface View {
  id: string;
  label: string;
  show: (me: Me) => boolean;
  render: (root: HTMLElement, me: Me) => Promise<void>;
}

const VIEWS: View[] = [
  { id: 'overview', label: 'Overview', show: () => true, render: (root, me) => overviewView(root, me) },
  { id: 'issues', label: 'Issues', show: () => true, render: (root, me) => issuesView(root, me, me.categories) },
  { id: 'questions', label: 'Questions', show: (me) => Boolean(me.can['faq.gaps']), render: (root) => questionsView(root) },
  { id: 'communications', label: 'Communications', show: (me) => me.panels.communications && Boolean(me.can['adoption.communications']), render: (root) => communicationsView(root) },
  { id: 'officehours', label: 'Office hours', show: (me) => me.panels.officeHours && Boolean(me.can['adoption.officeHours']), render: (root) => officeHoursView(root) },
  { id: 'pulse', label: 'Pulse', show: (me) => me.panels.pulse && Boolean(me.can['adoption.pulse.results']), render: (root) => pulseView(root) },
];

const DEMO_KEY = 'rollout-desk-demo-user';
let inTeams = false;
let teamsFailed = false;
const main = document.getElementById('main')!;
const where = document.getElementById('where')!;

function nav(me: Me, views: View[], current: string, go: (id: string) => void): HTMLElement {
  const tabs = views.map((v) =>
    h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${v.id}`,
        'aria-selected': v.id === current ? 'true' : 'false',
        'aria-controls': 'view',
        tabindex: v.id === current ? 0 : -1,
        onclick: () => go(v.id),
      },
      v.label,
    ),
  );
  const list = h('div', { role: 'tablist', 'aria-label': 'Dashboard views' }, ...tabs);
  // Arrow keys move between tabs (the ARIA tabs pattern); Tab moves into the view.
  list.addEventListener('keydown', (ev) => {
    const i = tabs.findIndex((t) => t === document.activeElement);
    if (i < 0) return;
    const next = ev.key === 'ArrowRight' ? (i + 1) % tabs.length : ev.key === 'ArrowLeft' ? (i - 1 + tabs.length) % tabs.length : ev.key === 'Home' ? 0 : ev.key === 'End' ? tabs.length - 1 : -1;
    if (next < 0) return;
    ev.preventDefault();
    tabs[next]!.focus();
    go(views[next]!.id);
  });
  return h('nav', { className: 'views' }, h('p', { className: 'who' }, `${me.user.name} · ${me.roleLabel}${me.via === 'demo' ? ' (local demo)' : ''}`), list);
}

async function show(me: Me): Promise<void> {
  const views = VIEWS.filter((v) => v.show(me));
  let view = h('div', { id: 'view', role: 'tabpanel', tabindex: -1 });
  const go = async (id: string) => {
    const v = views.find((x) => x.id === id) ?? views[0]!;
    history.replaceState(null, '', `#${v.id}`);
    const oldNav = main.querySelector('nav.views');
    const tabFocused = Boolean(oldNav?.contains(document.activeElement));
    oldNav?.replaceWith(nav(me, views, v.id, (next) => void go(next)));
    // The tabs are drawn anew: keep the keyboard on the chosen one, so the arrow keys go on working.
    if (tabFocused) document.getElementById(`tab-${v.id}`)?.focus();
    // Each choice renders into an element of its own: a view chosen earlier whose data comes late then
    // fills a detached element, never the view now shown.
    const mine = h('div', { id: 'view', role: 'tabpanel', tabindex: -1, 'aria-labelledby': `tab-${v.id}` }, h('p', { className: 'loading' }, 'Loading…'));
    destroyCharts(view);
    view.replaceWith(mine);
    view = mine;
    try {
      await v.render(mine, me);
    } catch (err) {
      fill(mine, failure(problem(err, 'This view could not be loaded. Try again in a moment.'), () => void go(v.id)));
    }
    if (view !== mine) destroyCharts(mine);
  };
  fill(main, nav(me, views, '', () => {}), view);
  // A link to another view of this page (…#issues) changes only the hash: follow it.
  window.addEventListener('hashchange', () => void go(location.hash.slice(1) || 'overview'));
  await go(location.hash.slice(1) || 'overview');
}

function demoChooser(users: DemoUser[]): void {
  const labels: Record<string, string> = { staff: 'staff', champion: 'champion', rolloutTeam: 'rollout team' };
  fill(main, 
    h(
      'form',
      {
        className: 'panel demo',
        'aria-labelledby': 'demo-h',
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          const id = String(new FormData(ev.target as HTMLFormElement).get('user') ?? '');
          sessionStorage.setItem(DEMO_KEY, id);
          void start();
        },
      },
      h('h2', { id: 'demo-h' }, 'Local demo: choose who you are'),
      h('p', {}, 'This server runs in local mode (no Microsoft Entra app is set up), so there is no sign-in. Choose a demo user to see the dashboard as they would.'),
      h('label', {}, 'Demo user ', h('select', { name: 'user' }, ...users.map((u) => h('option', { value: u.id }, `${u.name} (${labels[u.role] ?? u.role})`)))),
      h('button', { type: 'submit' }, 'Open the dashboard'),
    ),
  );
}

async function start(): Promise<void> {
  const demo = new URLSearchParams(location.search).get('demoUser') ?? sessionStorage.getItem(DEMO_KEY);
  if (demo) useCredentials({ kind: 'demo', userId: demo });
  try {
    await show(await call<Me>('me'));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && err.body.local === true) {
      sessionStorage.removeItem(DEMO_KEY);
      demoChooser((err.body.demoUsers as DemoUser[] | undefined) ?? []);
    } else if (err instanceof ApiError && err.status === 401 && teamsFailed) {
      fill(main, h('p', { className: 'notice', role: 'alert' }, 'The dashboard could not sign you in: Microsoft Teams did not answer. Reload the tab.'));
    } else if (err instanceof ApiError && err.status === 401 && !inTeams) {
      // A browser has no Teams sign-in: the server's reason (no SSO token) would only confuse.
      fill(main, h('p', { className: 'notice', role: 'alert' }, 'The dashboard signs you in through Microsoft Teams, so it cannot open in a plain browser. Open it from the Rollout Desk app in Teams.'));
    } else if (err instanceof ApiError && err.status === 401) {
      // Inside Teams already: reloading may get a fresh token; a refusal that lasts needs the rollout team.
      fill(main, h('p', { className: 'notice', role: 'alert' }, `Sign-in failed: ${err.message}. Reload the tab; if it keeps failing, tell the rollout team (the app's sign-in may need an administrator's consent).`));
    } else if (err instanceof ApiError && err.status === 0) {
      // No answer, or no connection: say which, rather than suggest the server failed.
      fill(main, h('p', { className: 'notice', role: 'alert' }, `The dashboard could not be loaded. ${err.message}`));
    } else {
      fill(main, h('p', { className: 'notice', role: 'alert' }, 'The dashboard could not be loaded. Try again in a moment.'));
    }
  }
}

async function boot(): Promise<void> {
  const params = new URLSearchParams(location.search);
  applyTheme(params.get('theme') ?? undefined);
  onThemeChange(() => recolourCharts());
  const host = await connect((theme) => applyTheme(theme));
  if (host.theme) applyTheme(host.theme);
  setLocale(host.locale ?? navigator.language);
  inTeams = host.inTeams;
  teamsFailed = Boolean(host.failed);
  if (host.inTeams) {
    useCredentials({ kind: 'sso', token: ssoToken });
    where.textContent = host.channel ? `In the ${host.channel} channel` : '';
  } else if (host.failed) {
    where.textContent = `Microsoft Teams did not answer (${host.failed}), so the dashboard cannot sign you in. Reload the tab; if it keeps happening, tell the rollout team.`;
    where.dataset.tone = 'error';
  } else {
    where.textContent = 'You are viewing this dashboard outside Microsoft Teams. Inside Teams it opens as the Rollout Desk tab and signs you in.';
    where.dataset.tone = 'info';
  }
  announce('');
  await start();
}

void boot();
