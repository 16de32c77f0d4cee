import { escapeText, markdownLink } from '../cards/template.js';
import { answerCard, curatedFormCard, curatedListCard, gapsCard, notCoveredCard } from '../faq/cards.js';
import type { CuratedAnswers } from '../faq/curated-answers.js';
import { type CuratedTellJobs, type TellCard, tellNote } from '../faq/curated-tell.js';
import { recogniseEchoedCard } from '../faq/echo.js';
import { findGapGroup, type GapGroup } from '../faq/gaps.js';
import { curatedAnswerMessages, gapCardMessages, newlyAnsweredMessages } from '../faq/notices.js';
import type { FaqAnswer, FaqService, GapRedraw } from '../faq/service.js';
import { FAQ_COMMANDS, FAQ_VERBS } from '../faq/verbs.js';
import type { Logger } from '../log.js';
import type { Outbox } from '../outbound/message.js';
import { refusalFor } from '../roles/permissions.js';
import { metrics } from '../telemetry/metrics.js';
import type { CardActionResult, RolloutDeskBot, Turn } from './bot.js';
import type { OfficeHoursHooks } from './officehours.js';
import { cardPostOf, hasAttachedFiles, messageKeyOf, sharedConversationOf, storedConversationOf, timestampOf } from './turn.js';
import { type DownloadWiring, offerDownload } from './downloads.js';
import type { ExportStore } from '../exports/store.js';
import type { Clock } from '../clock.js';
import { count, people } from '../text/count.js';

export interface FaqWiring {
  faq: FaqService;
  curated: CuratedAnswers;
  outbox: Outbox;
  log: Logger;
  /** Whether a curated answer is cited with its author's name (FAQ_CURATED_SHOW_AUTHOR). */
  showAuthor: boolean;
  /** The live office-hours schedule: asked before the guidance, and behind "Ask at office hours". */
  officeHours?: OfficeHoursHooks;
  /** Finds a new answer's askers past the rows its turn read, off the turn (absent: the turn's askers only). */
  tellJobs?: Pick<CuratedTellJobs, 'begin' | 'beginCorrections' | 'start'>;
  /** Where `export curated` saves its file and sends the link (as `export issues` does). */
  downloads?: DownloadWiring & { exports: Pick<ExportStore, 'save'>; clock: Clock };
}

/** Teams' retry starts at ~15 s; the answer (model included) must be on its way well before. */
const ANSWER_BUDGET_MS = 10_000;

const EDITED = 'You edited your question, so here is the answer to it as it reads now:';

const NO_QUESTION = 'I\'m here when you need me: ask a question about the rollout in your own words, or type "help" for what else I can do.';

const GAP_DAYS_DEFAULT = 14;
/** Guidance sections offered in the "Answer this" picker: the nearest to the question, not all of them. */
const SECTION_CHOICES = 15;
/** Guidance sections a compose-box search offers in all (past these the matches are weak). */
const SEARCH_RESULTS = 10;

/** Questions, feedback, office-hours pointer, gaps, and the champions' guidance search. */
export function registerFaq(bot: RolloutDeskBot, w: FaqWiring): void {
  const { faq, curated, outbox, log } = w;

  /** An unanswered or unhelpful question shows in the triage channel, grouped with the same question. */
  const showGapToChampions = async (questionId: string) => {
    const view = await faq.gapView(GAP_DAYS_DEFAULT);
    const found = view.groups.find((g) => g.questionIds.includes(questionId));
    if (found) await drawGapCard({ group: found, view });
  };
  /**
   * Posts or redraws a gap group's "Answer this" card, with the claims its view was read with (not read again); one
   * `withdrawn` (no question left) is only redrawn, never posted.
   */
  const drawGapCard = async ({ group: found, view, withdrawn = false }: GapRedraw) => {
    const card = await faq.gapCard(found, view.groups, view.claims);
    const group = { ...found, id: card.key };
    const messages = gapCardMessages(group, curatedFormCard(group, withdrawn ? [] : candidateSections(group), { withdrawn }), { version: card.version });
    await outbox.enqueue(withdrawn ? messages.filter((m) => m.op === 'update') : messages);
  };
  const candidateSections = (group: Pick<GapGroup, 'example' | 'questions'>) =>
    faq.nearestSections([group.example, ...group.questions], SECTION_CHOICES);

  /** The answer card, or "not covered" with the gap shown to the champions (unless its card is `drawn` already). */
  const replyWithAnswer = async (turn: Turn, answer: Exclude<FaqAnswer, { kind: 'no-question' }>, drawn = false) => {
    if (answer.kind === 'other-language') {
      await turn.reply(notCoveredCard(answer.question, '', [], { long: answer.long, otherLanguage: true }));
      return;
    }
    metrics.questionAnswered(answer.kind === 'answer');
    if (answer.kind === 'answer') {
      await turn.reply(answerCard(answer));
    } else {
      await turn.reply(notCoveredCard(answer.question, answer.questionId, [], { long: answer.long }));
      if (!drawn) await showGapToChampions(answer.questionId);
    }
  };

  // `text`: the message's words (a formatted one's too), without a card's, with others' @mentioned names.
  bot.onQuestion(async (turn, text) => {
    if (!text) {
      // A formatted message with no words (a pasted picture's HTML) still gets an answer; the bot told of the picture.
      // A card someone picked in the guidance search comes back as HTML: not a question (nor a gap).
      if (recogniseEchoedCard(turn.context.activity).echoed || hasAttachedFiles(turn.context.activity)) turn.log.info('an echoed card or a picture, no words; not answered');
      else await turn.reply(NO_QUESTION);
      return;
    }
    // "When are office hours?" is answered from the live schedule, not from the guidance's page.
    if (w.officeHours && (await w.officeHours.answer(turn, text))) return;
    // Typing first: a model answer can take seconds, and users should see the bot is on it.
    await turn.context.sendActivity({ type: 'typing' });
    const signal = AbortSignal.timeout(ANSWER_BUDGET_MS);
    const answer = await faq.ask(text, turn.actor, signal, sharedConversationOf(turn.context), messageKeyOf(turn.context));
    if (answer.kind === 'no-question') {
      await turn.reply(NO_QUESTION);
      return;
    }
    await replyWithAnswer(turn, answer);
  });

  // A question edited in Teams is answered as it now reads, in place of the one logged; any other edit is left.
  bot.onQuestionEdited(async (turn, message, text) => {
    const edited = text && !recogniseEchoedCard(turn.context.activity).echoed
      ? await faq.askEdited(message, text, turn.actor, AbortSignal.timeout(ANSWER_BUDGET_MS), sharedConversationOf(turn.context), GAP_DAYS_DEFAULT)
      : undefined;
    if (!edited) {
      turn.log.info('an edited message with no question of the editor\'s to answer again; left');
      return;
    }
    await turn.reply(EDITED);
    // The gap cards that showed the old wording, redrawn as they read now (the new wording on one it joined).
    for (const r of edited.redraw) await drawGapCard(r);
    const { answer } = edited;
    await replyWithAnswer(turn, answer, edited.redraw.some((r) => r.group.questionIds.includes(answer.questionId)));
  });

  // A question deleted in Teams is withdrawn: out of the gaps, the counts, and the askers told of an answer.
  bot.onMessageDeleted(async (turn, message) => {
    const { removed, redraw } = await faq.withdraw(message, turn.actor, GAP_DAYS_DEFAULT, timestampOf(turn.context));
    if (removed) turn.log.info({ removed, cards: redraw.length }, 'question withdrawn: its message was deleted');
    // The gap cards that listed it, redrawn without it (through the outbox: the turn waits on no one).
    for (const r of redraw) await drawGapCard(r);
  });

  // The asker undid the delete in Teams: the question they withdrew is back (logged, in the gaps, on its card).
  bot.onMessageUndeleted(async (turn, message) => {
    // Stamped, so an undelete Teams retries after the message was deleted again brings nothing back (nor a late delete).
    const { restored, redraw } = await faq.restore(message, turn.actor, GAP_DAYS_DEFAULT, timestampOf(turn.context));
    if (restored) turn.log.info({ restored, cards: redraw.length }, 'question restored: its message was undeleted');
    for (const r of redraw) await drawGapCard(r);
  });

  const vote =
    (helpful: boolean) =>
    async (turn: Turn, data: { questionId: string }): Promise<CardActionResult> => {
      const question = await faq.feedback(data.questionId, turn.actor, helpful, sharedConversationOf(turn.context));
      if (!question)
        return { message: 'I could not find that question any more, so your feedback was not recorded.' };
      const note = helpful
        ? 'Thanks — glad it helped.'
        : 'Thanks for telling us. The rollout team reviews unhelpful answers to improve the guidance; if this blocks you, log it as an issue.';
      if (!helpful) await showGapToChampions(question.id);
      const answer = faq.storedAnswer(question);
      if (!answer) return { message: note };
      return {
        card: answerCard(answer, { feedbackNote: note, showFeedback: false, showFollowUp: !helpful }),
      };
    };
  bot.verb(FAQ_VERBS.helpful, vote(true));
  bot.verb(FAQ_VERBS.notHelpful, vote(false));

  bot.verb(FAQ_VERBS.officeHours, async (turn, data) => {
    if (w.officeHours) {
      // Only a question the user may see is filled in: the id comes from the card, which the client writes.
      const asked = await faq.questionFor(data.questionId, turn.actor, sharedConversationOf(turn.context));
      return w.officeHours.ask(turn, asked?.question ?? '');
    }
    const info = faq.officeHours();
    if (!info) {
      return {
        message: 'The guidance does not list office hours yet. Ask in the support channel, or log an issue.',
      };
    }
    // A new message, so the answer the user came from stays on screen.
    await turn.reply(answerCard(info, { showFeedback: false, showFollowUp: false }));
    return { message: 'Office hours are below: bring your question along.' };
  });

  bot.command(FAQ_COMMANDS.gaps, async (turn, args) => {
    if (args && !/^\d+$/.test(args)) {
      await turn.reply('Usage: "gaps" or "gaps 30" — the number of days to look back (1–90).');
      return;
    }
    await turn.reply(gapsCard(await faq.gapsList({ days: args || undefined })));
  });
  bot.verb(FAQ_VERBS.gaps, async (_turn, data) => ({ card: gapsCard(await faq.gapsList(data)) }));

  // ---- champions' curated answers -----------------------------------------------------------------

  const by = (turn: Turn) => ({ actor: turn.actor, role: turn.role });
  const findGroup = async (groupId: string, days: unknown) =>
    findGapGroup(await faq.gaps(clampInt(days, GAP_DAYS_DEFAULT, 1, 90)), groupId) ??
    findGapGroup(await faq.gaps(90), groupId);
  const gone = { message: 'Those questions are no longer open (answered, or older than 90 days). Type "gaps" for the current list.' };

  bot.verb(FAQ_VERBS.curatedForm, async (_turn, data) => {
    const group = await findGroup(data.groupId, data.days);
    return group ? { card: curatedFormCard(group, candidateSections(group)) } : gone;
  });

  bot.verb(FAQ_VERBS.curatedAnswer, async (turn, data) => {
    const group = await findGroup(data.groupId, undefined);
    if (!group) return gone;
    const answer = data.answer?.trim() || undefined;
    const sectionId = data.sectionId?.trim() || undefined;
    const outcome = await curated.answerFromChampion(by(turn), {
      question: group.example,
      variants: group.questions,
      groupId: group.id,
      ...(answer ? { answer } : {}),
      ...(sectionId ? { sectionId } : {}),
    }, { questionIds: group.questionIds });
    if (!outcome.result.ok) {
      return { card: curatedFormCard(group, candidateSections(group), { error: escapeText(outcome.result.message), answer: data.answer ?? '' }) };
    }
    const stored = outcome.result.answer;
    await outbox.enqueue([
      ...curatedAnswerMessages(stored, outcome.tell, (r) => faq.answerFromSection(`curated-answers#${stored.id}`, r.question, r.questionId)),
      ...gapCardMessages(group, curatedFormCard(group, [], { answeredBy: turn.actor.name }), { answered: true }),
    ]);
    const told = outcome.tell.length;
    // The month holds more than the turn read: the rest of its askers are found off the turn, this card following the
    // count. Begun before the answer is recorded as sent, so a press found "sent" had its job begun (or finished).
    const rest = outcome.more && w.tellJobs ? w.tellJobs : undefined;
    const begun = rest && !outcome.repeated ? await rest.begin(stored, told, tellCardOf(turn)) : undefined;
    // Started whether begun now or by an earlier press, as an edit's corrections are: a Save retried by Teams after its
    // first turn stopped short of starting the job resumes it now, not minutes later once the upkeep finds its claim
    // lapsed. The job's claim decides: one running (here or elsewhere) goes on alone, one finished is gone, and its
    // askers are claimed once each (nobody is sent it twice).
    if (rest) rest.start(stored.id);
    // Not recorded, the Save pressed again names them again under the same keys (the outbox sends each once).
    await curated.correctionsQueued(stored).catch((err: unknown) => turn.log.warn({ err, curated: stored.id }, 'could not record the answer as sent'));
    turn.log.info({ curated: stored.id, told, more: outcome.more === true }, 'curated answer stored');
    const note = outcome.repeated
      ? `Saved. ${alreadySent('your answer', 'those who asked')}${told ? ` ${told === 1 ? '1 more person who asked gets' : `${count(told)} more people who asked get`} it now.` : ''} The bot answers this question with it.`
      : begun
        ? tellNote(begun, told)
        : `Saved. ${people(told)} who asked ${told === 1 ? 'gets' : 'get'} your answer in a private chat; the bot now answers this question with it.`;
    return { card: curatedFormCard(group, [], { answeredBy: turn.actor.name, note }) };
  });

  const listCard = async (
    turn: Turn,
    status?: 'active' | 'retired',
    next?: string,
    notice?: string,
  ): Promise<CardActionResult> => {
    const page = await curated.list(by(turn), { status, next });
    if (!page.ok) return { message: page.message };
    return { card: curatedListCard(page.items, { status, next: page.next, showAuthor: w.showAuthor, notice }) };
  };
  bot.command(FAQ_COMMANDS.curated, async (turn) => {
    const res = await listCard(turn, 'active');
    await turn.reply(res.card ?? escapeText(res.message ?? ''));
  });
  bot.verb(FAQ_VERBS.curatedPage, (turn, data) => listCard(turn, data.status || undefined, data.next));

  bot.verb(FAQ_VERBS.curatedEditForm, async (_turn, data) => {
    const answer = await curated.get(data.curatedId);
    if (!answer) return { message: 'That answer no longer exists. Type "curated" for the current list.' };
    const group = { id: answer.groupId ?? '', example: answer.question, count: 0, askers: 0, questions: answer.variants };
    return { card: curatedFormCard(group, candidateSections(group), { editing: answer }) };
  });
  bot.verb(FAQ_VERBS.curatedEdit, async (turn, data) => {
    const answer = data.answer?.trim() || undefined;
    const sectionId = data.sectionId?.trim() || undefined;
    const { result: res, tell, unchanged, repeated, correctFrom } = await curated.edit(by(turn), data.curatedId, data.version, { answer, sectionId });
    if (!res.ok) {
      const current = await curated.get(data.curatedId);
      if (!current) return { message: res.message };
      const group = { id: current.groupId ?? '', example: current.question, count: 0, askers: 0, questions: current.variants };
      // The box keeps the champion's own text: what the other change says must be shown, or Save would overwrite it unseen.
      const error =
        res.reason === 'conflict'
          ? `Someone changed this answer since your card was shown, so yours was not saved. It now reads:\n\n${escapeText(current.answer ?? `(the guidance section ${current.sectionId ?? ''})`)}\n\nYour text is below: save it to replace that, or change it first.`
          : escapeText(res.message);
      return { card: curatedFormCard(group, candidateSections(group), { editing: current, error, answer: data.answer ?? '' }) };
    }
    // Save pressed with the answer as it already was: nobody is told of a change that did not happen.
    if (unchanged) return listCard(turn, 'active', undefined, 'Nothing changed: the answer already says that, so nobody is sent it again.');
    // The same Save pressed again once its corrections were all queued: nobody is sent anything by this press.
    if (repeated) {
      return listCard(turn, 'active', undefined, `Saved: the bot gives the new answer from now on. ${alreadySent('the new one', 'those sent the earlier answer')}`);
    }
    const stored = res.answer;
    const messages = curatedAnswerMessages(stored, tell, (r) => faq.answerFromSection(`curated-answers#${stored.id}`, r.question, r.questionId), { edited: true });
    await outbox.enqueue(messages);
    const n = messages.length;
    // More were sent the earlier text than the turn read: the rest are corrected off the turn. Begun before the
    // corrections are recorded as queued, so a Save found "sent" had its job begun (or finished).
    // The champion is sent a card that ends with how many were sent it (the turn waits on nobody's message).
    const rest = correctFrom && w.tellJobs ? await w.tellJobs.beginCorrections(stored, n, correctFrom, championOf(turn)) : undefined;
    if (rest) w.tellJobs?.start(rest.key);
    // Not recorded, a later Save queues them again under the same keys (the outbox sends each once): nothing lost.
    await curated.correctionsQueued(stored).catch((err: unknown) => turn.log.warn({ err, curated: stored.id }, 'could not record the corrections as queued'));
    const shown = rest?.where === 'thread' ? 'in this thread' : 'in our private chat';
    const more = correctFrom ? ` so far; the others sent it are being found and get it too${rest ? `, and I say how many ${shown} when done` : ''}` : '';
    return listCard(
      turn,
      'active',
      undefined,
      `Saved: the bot gives the new answer from now on.${n ? ` ${people(n)} who ${n === 1 ? 'was' : 'were'} sent the earlier answer ${n === 1 ? 'gets' : 'get'} the new one in a private chat${more}.` : ''}`,
    );
  });
  bot.verb(FAQ_VERBS.curatedRetire, async (turn, data) => {
    const res = await curated.retire(by(turn), data.curatedId, data.version);
    if (!res.ok) {
      const current = res.reason === 'conflict' ? res.current : undefined;
      // A second press of Retire: said as such, not as someone else's change.
      if (current?.status === 'retired') return listCard(turn, 'active', undefined, 'That answer is already retired: the bot no longer gives it.');
      // Someone edited it since: shown as it is now, with its own Edit and Retire, so the champion decides again.
      if (current) {
        return {
          card: curatedListCard([current], {
            status: 'active',
            showAuthor: w.showAuthor,
            notice: 'Someone changed this answer since your card was shown, so it was not retired. Here it is now.',
          }),
        };
      }
      return { message: res.message };
    }
    return listCard(turn, 'active', undefined, 'Retired: the bot no longer gives that answer.');
  });
  bot.command(FAQ_COMMANDS.exportCurated, async (turn) => {
    const res = await curated.export(by(turn));
    if (!res.ok) return turn.reply(escapeText(res.message));
    if (!res.answers) return turn.reply('There are no curated answers yet.');
    const downloads = w.downloads;
    if (!downloads) throw new Error('export curated needs the downloads wiring');
    // A file, not the text in chat: hundreds of answers are far past the 40 KB a Teams message may hold, and
    // in a channel everyone there would read the askers' wordings.
    const n = res.answers;
    await offerDownload(
      turn,
      downloads,
      turn.actor.aadObjectId ?? turn.actor.id,
      async () => {
        const stamp = downloads.clock.now().toISOString().slice(0, 16).replace(/[:T]/g, '-');
        return downloads.exports.save({
          filename: `curated-answers-${stamp}.md`,
          contentType: 'text/markdown',
          content: res.markdown,
          createdBy: turn.actor.aadObjectId ?? turn.actor.id,
        });
      },
      (url, until) =>
        `Champions' answers (${n}) as markdown, ready to paste into the guidance: ${markdownLink('download the file', url)}. The link works until ${until}.`,
    );
  });

  bot.onSearch(async (turn, query, page) => {
    // Said, not an empty list: "No results" for every search reads as guidance that covers nothing.
    if (!(await turn.require('faq.searchGuidance'))) return { message: refusalFor('faq.searchGuidance') };
    // Teams asks again with a larger skip as the list scrolls: each call gives the next results, never the same.
    if (page.skip >= SEARCH_RESULTS) return [];
    const hits = faq.searchSections(query, Math.min(SEARCH_RESULTS, page.skip + page.count)).slice(page.skip);
    return hits.map((hit) => ({
      title: hit.source.heading,
      subtitle: `${hit.source.docTitle} — ${hit.passage.slice(0, 80)}`,
      card: answerCard(
        {
          kind: 'answer',
          questionId: '',
          // The card goes into someone else's chat: "You asked: <the champion's search words>" would be untrue there.
          question: '',
          text: hit.passage,
          source: hit.source,
          related: [],
          via: 'guidance',
        },
        { showFeedback: false, showFollowUp: false },
      ),
    }));
  });

  log.debug('FAQ handlers registered');
}

/** After a docs change, tell each asker whose question is now answered (once, across instances). */
export async function notifyNewlyAnswered({ faq, outbox, log }: FaqWiring): Promise<number> {
  const found = await faq.newlyAnswered();
  await outbox.enqueue(newlyAnsweredMessages(found));
  if (found.length) log.info({ found: found.length }, 'told askers their questions are now answered');
  return found.length;
}

/**
 * Where the champion follows the count of a curated answer's askers: the card pressed on, in their 1:1 chat; pressed
 * where others see it (the triage channel's gap card, which its `faq-gap` post keeps showing with the asked and answered
 * lines), a card sent to them 1:1, or posted in that card's thread when they have no 1:1 chat with the bot.
 */
function tellCardOf(turn: Turn): TellCard {
  const post = turn.context.activity.conversation.conversationType === 'personal' ? cardPostOf(turn.context) : undefined;
  return post ? { post } : championOf(turn);
}

/** The champion, to be sent a card 1:1, or in the thread of the channel card pressed on when they have no 1:1 chat. */
function championOf(turn: Turn): Extract<TellCard, { userKey: string }> {
  const { activity } = turn.context;
  const userKey = turn.actor.aadObjectId ?? turn.actor.id;
  const conv = activity.conversation.conversationType === 'channel' ? storedConversationOf(turn.context).conversationId : undefined;
  return conv && activity.replyToId ? { userKey, thread: `${conv};messageid=${activity.replyToId}` } : { userKey };
}

/** What a Save (or "Send the answer") pressed again says once its first press's 1:1s were queued. */
function alreadySent(what: string, to: string): string {
  return `Your first press already sent ${what} to ${to}; nobody gets it twice.`;
}

function clampInt(value: unknown, fallback: number, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number.parseInt(String(value ?? ''), 10);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}
