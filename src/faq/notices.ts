import type { OutboundMessage } from '../outbound/message.js';
import { isPseudonym } from '../privacy/pseudonym.js';
import type { AdaptiveCard } from '../cards/template.js';
import { answerCard } from './cards.js';
import type { CuratedAnswer } from './curated.js';
import type { Recipient } from './curated-answers.js';
import type { GapGroup } from './gaps.js';
import type { FaqAnswer, NewlyAnswered } from './service.js';

/** After a docs change: each asker whose question is now answered gets the answer 1:1, once per question. */
export function newlyAnsweredMessages(found: readonly NewlyAnswered[]): OutboundMessage[] {
  // A forgotten asker's questions stay for the gaps, but nothing is sent to them.
  return found.filter(({ question }) => !isPseudonym(question.asker.id)).map(({ question, answer }) => ({
    op: 'send',
    key: `faq-answered|${question.id}`,
    to: { kind: 'user', userKey: question.asker.aadObjectId ?? question.asker.id },
    content: answerCard(answer, {
      feedbackNote: 'Good news: the guidance now answers a question you asked earlier.',
    }),
  }));
}

/**
 * A champion's new answer, 1:1 to each person who asked the same question (the recipients were claimed
 * once each by `CuratedAnswers.firstAskers`), each shown under their own wording. With `edited`, the
 * answer was changed after they were told (`CuratedAnswers.edit`): each version is sent once.
 */
export function curatedAnswerMessages(
  answer: CuratedAnswer,
  tell: readonly Recipient[],
  answerFor: (r: Recipient) => Extract<FaqAnswer, { kind: 'answer' }> | undefined,
  opts: { edited?: boolean } = {},
): OutboundMessage[] {
  return tell.flatMap((r) => {
    const shown = answerFor(r);
    if (!shown) return [];
    const userKey = r.asker.aadObjectId ?? r.asker.id;
    return [
      {
        op: 'send',
        key: opts.edited ? `faq-curated|${answer.id}|v${answer.version}|${userKey}` : `faq-curated|${answer.id}|${userKey}`,
        to: { kind: 'user', userKey },
        content: answerCard(shown, {
          feedbackNote: opts.edited
            ? 'A champion changed the answer you were sent earlier to a question you asked. This is the answer now.'
            : 'A champion answered a question you asked earlier.',
        }),
      },
    ];
  });
}

/**
 * The triage channel's card for a group of unanswered questions: posted once per group (every turn asking the
 * same question enqueues the post under the group's key; one is sent), then redrawn as more people ask (its
 * version is the card's redraw counter, `FaqService.gapCard`, so the newest view wins; 0 for a view older than
 * the one drawn: no redraw) and once more when a champion has answered it.
 */
export function gapCardMessages(
  group: Pick<GapGroup, 'id' | 'count'>,
  card: AdaptiveCard,
  opts: { answered?: boolean; version?: number } = {},
): OutboundMessage[] {
  const post = { kind: 'faq-gap', id: group.id };
  // Answering outranks any count, so a late "asked again" never redraws an answered card as open.
  const version = opts.answered ? ANSWERED_VERSION : (opts.version ?? group.count);
  const update: OutboundMessage = { op: 'update', key: `faq-gap|${group.id}|v${version}`, post, version, content: card };
  if (opts.answered) return [update];
  // The post itself claims no count (version 0): which turn's copy is sent is not known, and each turn's
  // repeat of it would otherwise record its own count as shown and make the update that shows it "stale".
  const send: OutboundMessage = { op: 'send', key: `faq-gap|${group.id}`, to: { kind: 'channel', role: 'triage' }, content: card, post: { ...post, version: 0 } };
  return version === 0 ? [send] : [send, update];
}

const ANSWERED_VERSION = 1_000_000_000;

/**
 * A champion-answered gap card drawn again (`card`) once its author is forgotten, naming their pseudonym: above the
 * answered version, so it replaces the card that named them. Nothing happens where the card was never posted.
 */
export function renamedGapCardMessages(groupId: string, pseudonymId: string, card: AdaptiveCard): OutboundMessage[] {
  const post = { kind: 'faq-gap', id: groupId };
  return [{ op: 'update', key: `faq-gap|${groupId}|renamed|${pseudonymId}`, post, version: ANSWERED_VERSION + 1, content: card }];
}
