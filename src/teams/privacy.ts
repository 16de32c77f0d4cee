import { escapeText } from '../cards/template.js';
import { forgetCancelledCard, forgetConfirmCard, forgetDoneCard, forgetPickCard } from '../privacy/cards.js';
import type { Named, PrivacyCaller, PrivacyService } from '../privacy/service.js';
import { PRIVACY_COMMANDS, PRIVACY_VERBS } from '../privacy/verbs.js';
import { personOf } from '../roles/roles.js';
import type { CardActionResult, RolloutDeskBot, Turn } from './bot.js';
import { type DownloadWiring, offerDownload } from './downloads.js';
import { retryGetsPlainAnswer } from './invoke.js';
import { firstMention, personKeysOf } from './rollout.js';

export interface PrivacyWiring extends DownloadWiring {
  service: PrivacyService;
}

const callerOf = (turn: Turn): PrivacyCaller => ({ person: personOf(turn.actor), keys: personKeysOf(turn), role: turn.role });

/** An Entra object id (GUID) or a Teams user id (29:…), as the rollout team may type or paste it. */
const KEY = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|29:[\w:.-]{1,190})$/i;

/** What `forget …` names: an @mention, a key typed out, a name to look up, or no one (the pick card). */
function namedIn(turn: Turn, args: string): Named | 'none' | { text: string } {
  const mention = firstMention(turn);
  if (mention) return { id: mention.person.id, name: mention.person.name };
  const text = args.replace(/<at>[^<]*<\/at>/g, ' ').trim();
  if (!text) return 'none';
  if (KEY.test(text)) return { id: text };
  return { text };
}

/** `my data` (anyone) and `forget` (the rollout team): parse what Teams sent, call the service, render its result. */
export function registerPrivacy(bot: RolloutDeskBot, w: PrivacyWiring): void {
  bot.command(PRIVACY_COMMANDS.myData, async (turn) => {
    await turn.context.sendActivity({ type: 'typing' });
    const caller = callerOf(turn);
    const file = await w.service.myData(caller);
    turn.log.info('personal data downloaded by its owner');
    await offerDownload(turn, w, { ...file, userKey: caller.person.id }, (url, until) =>
      `Everything Rollout Desk holds about you is ready: [download it (JSON)](${url}). The link works until ${until}; don't forward it.`,
    );
  });

  /** The confirmation card for a named person, or a sentence when there is nothing to confirm. */
  const confirmation = async (turn: Turn, named: Named): Promise<CardActionResult> => {
    const plan = await w.service.prepareForget(callerOf(turn), named);
    if ('kind' in plan) return { message: plan.message };
    if (!plan.holdings.length && !plan.notes.length) {
      return { message: `Rollout Desk holds nothing about ${plan.name}: there is nothing to forget. (Check the id if you expected something.)` };
    }
    return { card: forgetConfirmCard(plan) };
  };

  /** The pick card with the app's known people, or the refusal. */
  const pickCard = async (turn: Turn, shown: { error?: string; person?: string; personKey?: string } = {}): Promise<CardActionResult> => {
    const people = await w.service.pickChoices(callerOf(turn));
    if ('kind' in people) return { message: people.message };
    return { card: forgetPickCard(people, shown) };
  };

  bot.command(PRIVACY_COMMANDS.forget, async (turn, args) => {
    const named = namedIn(turn, args);
    let res: CardActionResult;
    if (named === 'none') res = await pickCard(turn);
    else if ('text' in named) {
      const found = await w.service.findByName(callerOf(turn), named.text);
      const shown = named.text.slice(0, 60);
      if ('kind' in found) res = { message: found.message };
      else if (found.length === 1 && found[0]) res = await confirmation(turn, found[0]);
      else if (found.length > 1) res = await pickCard(turn, { error: `More than one person is called "${shown}": pick the one you mean.` });
      else {
        res = {
          message: `Rollout Desk knows no one called "${shown}". @mention them, type their Entra object id, or type "forget" alone to pick them.`,
        };
      }
    } else res = await confirmation(turn, named);
    await turn.reply(res.card ?? escapeText(res.message ?? ''));
  });

  bot.verb(PRIVACY_VERBS.pick, async (turn, data) => {
    const key = (data.person || data.personKey || '').trim();
    if (!key) return pickCard(turn, { error: 'Pick a person, or type their Entra object id.' });
    if (!KEY.test(key)) {
      return pickCard(turn, { error: `"${key.slice(0, 60)}" is not an Entra object id or a Teams id.`, personKey: key });
    }
    return confirmation(turn, { id: key });
  });

  bot.verb(PRIVACY_VERBS.confirm, async (turn, data) => {
    // Every answer here names the person being forgotten: a retry gets "already handled", not a kept copy.
    retryGetsPlainAnswer(turn.context);
    const res = await w.service.forget(callerOf(turn), data.name ? { ids: data.keys, name: data.name } : { ids: data.keys }, data.token);
    if (res.kind === 'refused') return { message: res.message };
    // Counts and the pseudonym only: the log names no one.
    const counts = Object.fromEntries(res.holdings.map((h) => [h.kind, h.count]));
    if (res.kind === 'stopped') {
      turn.log.error({ err: res.cause, pseudonym: res.pseudonym.name, stoppedAt: res.stoppedAt, counts }, 'forget stopped part-way');
      const done = res.holdings.map((h) => `${h.count} ${h.label}`).join('; ');
      return {
        message:
          `Forgetting ${res.name} stopped part-way (storage did not answer, at ${res.stoppedAt}). ` +
          // The feature it stopped in may have done some of its part: never say nothing changed.
          `${done ? `Done so far: ${done}; ` : ''}${res.stoppedAt} may be partly done. Press Forget again to finish it: what is done is not done twice.`,
      };
    }
    turn.log.info({ pseudonym: res.pseudonym.name, counts }, 'person forgotten');
    return { card: forgetDoneCard(res) };
  });

  bot.verb(PRIVACY_VERBS.cancel, async () => ({ card: forgetCancelledCard() }));
}
