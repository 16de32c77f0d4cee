import type { OutboundMessage } from '../outbound/message.js';
import { answerCard } from './cards.js';
import type { NewlyAnswered } from './service.js';

/** After a docs change: each asker whose question is now answered gets the answer 1:1, once per question. */
export function newlyAnsweredMessages(found: readonly NewlyAnswered[]): OutboundMessage[] {
  return found.map(({ question, answer }) => ({
    op: 'send',
    key: `faq-answered|${question.id}`,
    to: { kind: 'user', userKey: question.asker.aadObjectId ?? question.asker.id },
    content: answerCard(answer, {
      feedbackNote: 'Good news: the guidance now answers a question you asked earlier.',
    }),
  }));
}
