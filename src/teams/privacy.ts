import { escapeText } from '../cards/template.js';
import type { PostStore } from '../conversations/posts.js';
import { forgetCancelledCard, forgetConfirmCard, forgetDoneCard, forgetPickCard, forgetStoppedText } from '../privacy/cards.js';
import { FORGET_POST, type ForgetJobs, startKeyOf, type StoredOutcome } from '../privacy/jobs.js';
import type { MyDataJobs } from '../privacy/my-data-jobs.js';
import type { Named, PrivacyCaller, PrivacyService } from '../privacy/service.js';
import { PRIVACY_COMMANDS, PRIVACY_VERBS } from '../privacy/verbs.js';
import { personOf } from '../roles/roles.js';
import type { CardActionResult, RolloutDeskBot, Turn } from './bot.js';
import type { DownloadWiring } from './downloads.js';
import { retryGetsPlainAnswer } from './invoke.js';
import { firstMention, personKeysOf } from './rollout.js';
import { cardPostOf, storedConversationOf } from './turn.js';
import type { ConversationStore } from '../conversations/store.js';

export interface PrivacyWiring extends Omit<DownloadWiring, 'conversations'> {
  conversations: Pick<ConversationStore, 'personalChat' | 'remember'>;
  service: PrivacyService;
  jobs: ForgetJobs;
  /** `my data`'s durable background jobs: the turn starts one and answers at once. */
  myData: Pick<MyDataJobs, 'begin' | 'start'>;
  /** Where the lead's card is, for the background job to redraw it. */
  posts: Pick<PostStore, 'save'>;
  /** How long the confirm click waits for a forget to finish before handing it to the background (ms). */
  inlineMs: number;
}

const callerOf = (turn: Turn): PrivacyCaller => ({ person: personOf(turn.actor), keys: personKeysOf(turn), role: turn.role });

/** An Entra object id (GUID) or a Teams user id (29:…), as the rollout team may type or paste it. */
const KEY = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|29:[\w:.-]{1,190})$/i;

/** What `forget …` names: an @mention, a key typed out, a name to look up, or no one (the pick card). */
function namedIn(turn: Turn, args: string): Named | 'none' | { text: string } {
  const mention = firstMention(turn);
  // As `group add` resolves a mention: its own Entra id when Teams gives one, else the person's stored 1:1 chat (subjectOf).
  if (mention) return { id: mention.person.id, name: mention.person.name, ...(mention.aadObjectId ? { aadObjectId: mention.aadObjectId } : {}) };
  const text = args.replace(/<at>[^<]*<\/at>/g, ' ').trim();
  if (!text) return 'none';
  if (KEY.test(text)) return { id: text };
  return { text };
}

/** `my data` (anyone) and `forget` (the rollout team): parse what Teams sent, call the service, render its result. */
export function registerPrivacy(bot: RolloutDeskBot, w: PrivacyWiring): void {
  bot.command(PRIVACY_COMMANDS.myData, async (turn) => {
    const caller = callerOf(turn);
    const personal = turn.context.activity.conversation.conversationType === 'personal';
    // The link goes only 1:1 (a link in a channel is readable by everyone there): with no private chat, nothing is made.
    if (!personal && !(await w.conversations.personalChat(caller.person.id))) {
      return turn.reply('I send download links only in a private chat with me, and we have none yet: open a private chat with Rollout Desk and ask there.');
    }
    // The file is made by a background job (my-data-jobs.ts): reading every feature grows with what the person
    // left behind, and Teams stops waiting for a turn after ~15 s. The turn only writes the job's row.
    // The link is sent to this chat later, from the job: it must be known even if the bot had let it go (the person
    // was forgotten on another instance, and this one has not yet read the forget marker: src/conversations/saved.ts).
    if (personal) await w.conversations.remember(storedConversationOf(turn.context));
    const job = await w.myData.begin({ ids: [...new Set(caller.keys)], name: caller.person.name }, caller.person.id);
    if (!job.fresh) {
      return turn.reply('Your data is already being prepared: I will send you the download link in our private chat when it is ready.');
    }
    w.myData.start(job.key);
    turn.log.info('personal data asked for by its owner');
    // In their chat the progress card the job posted there is the answer; elsewhere they are told where to look.
    if (!personal) return turn.reply('Preparing your data… I will show how far it is, then the download link, in a private chat with you.');
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

  /**
   * The answer for a forget that finished while the turn waited; the job's row (and its card's post) then go.
   * `sentApart`: the progress card went 1:1 (the click named no card), and is redrawn as the end too.
   */
  const told = async (job: { key: string; run: string }, outcome: StoredOutcome, sentApart = false): Promise<CardActionResult> => {
    await w.jobs.told(job.key, job.run, sentApart ? outcome : undefined);
    return outcome.kind === 'stopped' ? { message: forgetStoppedText(outcome) } : { card: forgetDoneCard(outcome) };
  };

  bot.verb(PRIVACY_VERBS.confirm, async (turn, data) => {
    // Every answer here names the person being forgotten: a retry gets "already handled", not a kept copy.
    retryGetsPlainAnswer(turn.context);
    const subject = data.name ? { ids: data.keys, name: data.name } : { ids: data.keys };
    const res = await w.service.startForget(callerOf(turn), subject, data.token);
    if (res.kind === 'refused') return { message: res.message };
    const name = subject.name ?? res.job.subject.name ?? 'them';
    if (!res.fresh && res.job.status === 'finished') {
      return { message: `Forgetting ${name} has just finished. Type "forget" with the person again to see that nothing is left.` };
    }
    if (!res.fresh) {
      return { message: `Forgetting ${name} is already under way (${res.job.next} of ${res.job.total} parts done); the card it started from says when it is done.` };
    }
    // A small forget is done within the turn; a big one goes on in the background and this card follows it.
    const inline = await w.jobs.runWithin(res.job.key, w.inlineMs);
    if (inline !== 'running') return told(res.job, inline);
    const post = cardPostOf(turn.context);
    if (post) await w.posts.save(FORGET_POST, res.job.run, post);
    else {
      // No card to redraw (a client that sent no replyToId): the progress card goes 1:1 and is redrawn there.
      const content = w.jobs.progressCard(res.job);
      await w.outbox.enqueue([
        { op: 'send', key: startKeyOf(res.job.run), to: { kind: 'user', userKey: callerOf(turn).person.id }, content, post: { kind: FORGET_POST, id: res.job.run, version: 0 } },
      ]);
    }
    const handed = await w.jobs.handOver(res.job.key);
    if (handed.kind === 'finished') return told(res.job, handed.outcome, !post);
    if (handed.kind === 'gone') {
      // Its end went elsewhere (1:1) before this turn saved the card: that card is never redrawn. A progress card
      // sent 1:1 instead is the one the end redraws (jobs.ts, tell): its post stays until it shows the end.
      if (post) await w.jobs.dropCard(res.job.run);
      return { message: `Forgetting ${name} has finished. Type "forget" with the person again to see that nothing is left.` };
    }
    turn.log.info({ run: res.job.run, done: handed.job.next, total: handed.job.total }, 'forget goes on in the background');
    return { card: w.jobs.progressCard(handed.job) };
  });

  bot.verb(PRIVACY_VERBS.cancel, async () => ({ card: forgetCancelledCard() }));
}
