/**
 * Simulated Teams users for `npm run bench:load`: staff ask FAQ questions, vote on answers, log issues (and
 * "+1" a similar one when offered), look at their issues; champions triage in the channel — assign, status,
 * priority, comment — on the cards the app posted there, and list the queue. Every click uses a button of a
 * card the app actually sent, with its inputs filled as Teams would (associatedInputs: auto).
 */

export type Kind =
  | 'faq'
  | 'faq.vote'
  | 'issue.submit'
  | 'issue.logAnyway'
  | 'issue.affected'
  | 'my issues'
  | 'triage list'
  | 'triage action'
  | 'echo';

export interface SimUser {
  id: string;
  aadObjectId: string;
  name: string;
  champion: boolean;
  /** Buttons of the last FAQ answer (helpful / not helpful). */
  votes: CardAction[];
  /** Buttons of a "similar issues" card waiting for the user's choice. */
  similar: CardAction[];
}

export interface CardAction {
  verb: string;
  data: Record<string, unknown>;
}

export interface Step {
  kind: Kind;
  body: Record<string, unknown>;
  /** Reads what the user got back (cards to click next). */
  after?: (reply: unknown) => void;
}

export interface Shared {
  serviceUrl: string;
  /** The latest triage card of each issue, as posted to the channel or returned to a champion. */
  triageCards: Map<string, unknown>;
  rand: () => number;
}

const QUESTIONS = [
  'the submit button is greyed out',
  'how do I reset my password',
  'my tablet does not sync in the evening',
  'how do I record a household visit offline',
  'who can see the data I enter',
  'where do I find the weekly report',
  'what does error FL-403 mean',
  'can I still use the paper forms',
  'how do I change my district',
  'the app logs me out every hour',
  'how do I export to excel',
  'what is a data quality check',
  'how long is the data kept',
  'is there training this week',
  'how do I add a new household member',
  'the dashboard shows zero visits',
];

const ISSUES = [
  ['Sync fails every evening', 'Sync / offline', 'The tablet shows a conflict and visits stay pending.'],
  ['Cannot log in after update', 'Access / login', 'The login page says my account is locked.'],
  ['Report shows zero visits', 'Reports', 'The weekly dashboard shows no visits for my ward.'],
  ['Submit button greyed out', 'Data entry', 'I cannot submit the household form.'],
  ['Saving a visit takes a minute', 'Performance', 'Every save spins for a minute before it finishes.'],
] as const;

const SITES = ['Marula district', 'North clinic', 'Baobab ward', 'Central office'];

/** `count` users; every tenth is a champion. */
export function simUsers(count: number): SimUser[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `29:bench-${i}`,
    aadObjectId: `aad-bench-${i}`,
    name: `Bench User ${i}`,
    champion: i % 10 === 0,
    votes: [],
    similar: [],
  }));
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

export function baseActivity(user: SimUser, shared: Shared, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'message',
    id: `bench-${user.id}-${Math.floor(shared.rand() * 1e12)}`,
    channelId: 'msteams',
    serviceUrl: shared.serviceUrl,
    from: { id: user.id, aadObjectId: user.aadObjectId, name: user.name },
    recipient: { id: '28:bot', name: 'Rollout Desk' },
    conversation: { id: `a:bench-${user.id}`, conversationType: 'personal', tenantId: 'tenant-1' },
    channelData: { tenant: { id: 'tenant-1' } },
    locale: 'en-US',
    ...extra,
  };
}

const message = (user: SimUser, shared: Shared, text: string) =>
  baseActivity(user, shared, { text, deliveryMode: 'expectReplies' });

const click = (user: SimUser, shared: Shared, action: CardAction, extra: Record<string, unknown> = {}) =>
  baseActivity(user, shared, {
    type: 'invoke',
    name: 'adaptiveCard/action',
    replyToId: 'bot-message',
    value: { action: { type: 'Action.Execute', verb: action.verb, data: action.data } },
    ...extra,
  });

/** The next thing this user does. */
export function nextStep(user: SimUser, shared: Shared): Step {
  const r = shared.rand();
  if (user.champion) {
    const cards = [...shared.triageCards.values()];
    if (r < 0.5 && cards.length) {
      const actions = actionsOf(pick(shared.rand, cards)).filter((a) => /^issue\.(assignMe|status|priority|comment)$/.test(a.verb));
      if (actions.length) {
        const action = pick(shared.rand, actions);
        return {
          kind: 'triage action',
          body: click(user, shared, action, {
            // The triage card lives in the triage channel.
            conversation: { id: '19:bench-triage@thread.tacv2;messageid=1', conversationType: 'channel', tenantId: 'tenant-1' },
            channelData: { tenant: { id: 'tenant-1' }, team: { id: '19:bench-team@thread.tacv2' }, channel: { id: '19:bench-triage@thread.tacv2' } },
          }),
          after: (reply) => rememberTriageCard(shared, reply),
        };
      }
    }
    if (r < 0.65) return { kind: 'triage list', body: message(user, shared, 'triage status:new') };
    return faqStep(user, shared);
  }
  if (user.similar.length) {
    const choice = pick(shared.rand, user.similar);
    user.similar = [];
    return {
      kind: choice.verb === 'issue.affected' ? 'issue.affected' : 'issue.logAnyway',
      body: click(user, shared, choice),
    };
  }
  if (r < 0.15 && user.votes.length) {
    const vote = pick(shared.rand, user.votes);
    user.votes = [];
    return { kind: 'faq.vote', body: click(user, shared, vote) };
  }
  if (r < 0.27) {
    const [title, category, description] = pick(shared.rand, ISSUES);
    const form = {
      title,
      category,
      description,
      location: 'Household form',
      severity: pick(shared.rand, ['blocks', 'slows', 'minor']),
      site: pick(shared.rand, SITES),
    };
    return {
      kind: 'issue.submit',
      body: click(user, shared, { verb: 'issue.submit', data: { action: 'issue.submit', ...form } }),
      after: (reply) => {
        user.similar = actionsOf(reply).filter((a) => a.verb === 'issue.affected' || a.verb === 'issue.logAnyway');
      },
    };
  }
  if (r < 0.35) return { kind: 'my issues', body: message(user, shared, 'my issues') };
  return faqStep(user, shared);
}

/** A question (FAQ only: the bot's core path, no channel posts). */
export function faqStep(user: SimUser, shared: Shared): Step {
  return {
    kind: 'faq',
    body: message(user, shared, pick(shared.rand, QUESTIONS)),
    after: (reply) => {
      user.votes = actionsOf(reply).filter((a) => a.verb === 'faq.helpful' || a.verb === 'faq.notHelpful');
    },
  };
}

export function echoStep(user: SimUser, shared: Shared): Step {
  return { kind: 'echo', body: message(user, shared, pick(shared.rand, QUESTIONS)) };
}

/** Keeps the fresh triage card a champion got back (its version moved on). */
export function rememberTriageCard(shared: Shared, reply: unknown): void {
  for (const card of cardsIn(reply)) {
    const ref = actionsOf(card).find((a) => /^issue\.(assignMe|status)$/.test(a.verb))?.data.ref;
    if (typeof ref === 'string') shared.triageCards.set(ref, card);
  }
}

/** Adaptive Cards in a reply: an invoke response's card, or the attachments of messages. */
function cardsIn(reply: unknown): unknown[] {
  const r = reply as { type?: string; value?: unknown; activities?: { attachments?: { content?: unknown }[] }[]; attachments?: { content?: unknown }[] };
  if (r?.type === 'application/vnd.microsoft.card.adaptive') return [r.value];
  const messages = r?.activities ?? [r];
  return messages.flatMap((m) => (m?.attachments ?? []).map((a) => a.content));
}

/**
 * The Action.Execute buttons of a card (also inside Action.ShowCard), each with the card's inputs filled:
 * the first choice of a choice set, a short text for a text input, false for a toggle.
 */
export function actionsOf(reply: unknown): CardAction[] {
  const out: CardAction[] = [];
  for (const card of cardsIn(reply).length ? cardsIn(reply) : [reply]) {
    const inputs: Record<string, unknown> = {};
    const actions: CardAction[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (typeof n.type === 'string' && n.type.startsWith('Input.') && typeof n.id === 'string') {
        const choices = (n.choices as { value?: string }[] | undefined) ?? [];
        inputs[n.id] =
          n.type === 'Input.ChoiceSet' ? (choices[0]?.value ?? '') : n.type === 'Input.Toggle' ? 'false' : 'Looking into it now.';
      }
      if (n.type === 'Action.Execute' && typeof n.verb === 'string') {
        actions.push({ verb: n.verb, data: (n.data as Record<string, unknown>) ?? {} });
      }
      for (const v of Object.values(n)) if (v && typeof v === 'object') walk(v);
    };
    walk(card);
    for (const a of actions) out.push({ verb: a.verb, data: { ...inputs, ...a.data } });
  }
  return out;
}
