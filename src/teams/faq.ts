import { answerCard, gapsCard, notCoveredCard } from '../faq/cards.js';
import type { FaqService } from '../faq/service.js';
import type { Logger } from '../log.js';
import { metrics } from '../telemetry/metrics.js';
import { type CardActionResult, type RolloutDeskBot, refusalFor, type Turn } from './bot.js';
import type { ProactiveSender } from './sender.js';

export interface FaqWiring {
  faq: FaqService;
  sender: ProactiveSender;
  log: Logger;
}

/** Teams' retry starts at ~15 s; the answer (model included) must be on its way well before. */
const ANSWER_BUDGET_MS = 10_000;

const GAP_DAYS_DEFAULT = 14;

/** Questions, feedback, office-hours pointer, gaps, and the champions' guidance search. */
export function registerFaq(bot: RolloutDeskBot, { faq, log }: FaqWiring): void {
  bot.onQuestion(async (turn, text) => {
    // Typing first: a model answer can take seconds, and users should see the bot is on it.
    await turn.context.sendActivity({ type: 'typing' });
    const answer = await faq.ask(text, turn.actor, AbortSignal.timeout(ANSWER_BUDGET_MS));
    metrics.questionAnswered(answer.kind === 'answer');
    if (answer.kind === 'answer') {
      await turn.reply(answerCard(answer));
    } else {
      await turn.reply(notCoveredCard(answer.question, answer.questionId));
    }
  });

  const vote =
    (helpful: boolean) =>
    async (turn: Turn, data: Record<string, unknown>): Promise<CardActionResult> => {
      const id = typeof data.questionId === 'string' ? data.questionId : '';
      const question = await faq.feedback(id, turn.actor, helpful);
      if (!question)
        return { message: 'I could not find that question any more, so your feedback was not recorded.' };
      const note = helpful
        ? 'Thanks — glad it helped.'
        : 'Thanks for telling us. The rollout team reviews unhelpful answers to improve the guidance; if this blocks you, log it as an issue.';
      const answer = faq.storedAnswer(question);
      if (!answer) return { message: note };
      return {
        card: answerCard(answer, { feedbackNote: note, showFeedback: false, showFollowUp: !helpful }),
      };
    };
  bot.action('faq.helpful', vote(true));
  bot.action('faq.notHelpful', vote(false));

  bot.action('faq.officeHours', async () => {
    const info = faq.officeHours();
    if (!info) {
      return {
        message: 'The guidance does not list office hours yet. Ask in the support channel, or log an issue.',
      };
    }
    return {
      message: `**Office hours** — bring your question along:\n\n${info.passage}\n\n_Source: ${info.source.docTitle} › ${info.source.heading}_`,
    };
  });

  const showGaps = async (daysArg: unknown, pageArg: unknown) => {
    const days = clampInt(daysArg, GAP_DAYS_DEFAULT, 1, 90);
    const page = clampInt(pageArg, 1, 1, 1000);
    return gapsCard(await faq.gaps(days), days, page);
  };
  bot.command('gaps', async (turn, args) => {
    if (!(await turn.require('faq.gaps'))) return;
    if (args && !/^\d+$/.test(args)) {
      await turn.reply('Usage: "gaps" or "gaps 30" — the number of days to look back (1–90).');
      return;
    }
    await turn.reply(await showGaps(args || undefined, 1));
  });
  bot.action('faq.gaps', async (turn, data) => {
    if (!(await turn.require('faq.gaps'))) return { message: refusalFor(turn.role) };
    return { card: await showGaps(data.days, data.page) };
  });

  bot.onSearch(async (turn, query) => {
    if (!(await turn.require('faq.searchGuidance'))) return [];
    return faq.searchSections(query).map((hit) => ({
      title: hit.source.heading,
      subtitle: `${hit.source.docTitle} — ${hit.passage.slice(0, 80)}`,
      card: answerCard(
        {
          kind: 'answer',
          questionId: '',
          question: query,
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
export async function notifyNewlyAnswered({ faq, sender, log }: FaqWiring): Promise<number> {
  const found = await faq.newlyAnswered();
  let sent = 0;
  for (const { question, answer } of found) {
    const card = answerCard(answer, {
      feedbackNote: 'Good news: the guidance now answers a question you asked earlier.',
    });
    if (await sender.toUser(question.asker.aadObjectId ?? question.asker.id, card)) sent++;
  }
  if (found.length) log.info({ found: found.length, sent }, 'told askers their questions are now answered');
  return sent;
}

function clampInt(value: unknown, fallback: number, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number.parseInt(String(value ?? ''), 10);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}
