import { z } from 'zod';
import { command, verb } from '../registry/define.js';

/** The FAQ's commands and card verbs (see src/registry). Asking a question needs no command. */

export const FAQ_COMMANDS = {
  gaps: command('gaps', 'faq.gaps', 'Champions: questions the guidance did not answer, e.g. "gaps 7"'),
};

const questionId = z.object({ questionId: z.string().max(100).optional().default('') });
const dayCount = z.union([z.number(), z.string().max(6)]).optional();

export const FAQ_VERBS = {
  helpful: verb('faq.helpful', 'faq.feedback', questionId),
  notHelpful: verb('faq.notHelpful', 'faq.feedback', questionId),
  officeHours: verb('faq.officeHours', 'faq.ask', questionId),
  gaps: verb('faq.gaps', 'faq.gaps', z.object({ days: dayCount, page: dayCount })),
};
