import { z } from 'zod';
import { command, verb } from '../registry/define.js';

/** The FAQ's commands and card verbs (see src/registry). Asking a question needs no command. */

export const FAQ_COMMANDS = {
  gaps: command('gaps', 'faq.gaps', 'Champions: questions the guidance did not answer, e.g. "gaps 7"'),
  curated: command('curated', 'faq.curate', "Champions: the answers champions wrote, to edit or retire"),
  exportCurated: command(
    'export curated',
    'faq.exportCurated',
    "Rollout team: champions' answers as markdown, to paste into the guidance",
  ),
};

const questionId = z.object({ questionId: z.string().max(100).optional().default('') });
const dayCount = z.union([z.number(), z.string().max(6)]).optional();
const gapPlace = z.string().max(200).optional();
/**
 * Far longer than the store accepts, so the champion is told the limit (with their paste shown again) instead of
 * "out of date": a pasted document is easily 100 KB. The activity's body limit (1 MB) bounds it before parsing.
 */
const answerText = z.string().max(1_000_000).optional();
const sectionRef = z.string().max(400).optional();
const curatedRef = z.object({ curatedId: z.string().max(60), version: z.coerce.number().int().min(0) });
const staleCurated = 'This card is out of date; type "curated" for the current list.';

export const FAQ_VERBS = {
  helpful: verb('faq.helpful', 'faq.feedback', questionId),
  notHelpful: verb('faq.notHelpful', 'faq.feedback', questionId),
  officeHours: verb('faq.officeHours', 'faq.ask', questionId),
  // `page`: an older card's (those paged by position); `at` with `after` or `before`: the view and place paged from.
  gaps: verb(
    'faq.gaps',
    'faq.gaps',
    z.object({ days: dayCount, page: dayCount, at: z.string().max(40).optional(), after: gapPlace, before: gapPlace }),
  ),
  curatedForm: verb(
    'faq.curated.form',
    'faq.curate',
    z.object({ groupId: z.string().max(100), days: dayCount }),
    'This card is out of date; type "gaps" for the current list.',
  ),
  curatedAnswer: verb(
    'faq.curated.answer',
    'faq.curate',
    z.object({ groupId: z.string().max(100), answer: answerText, sectionId: sectionRef }),
    'This card is out of date; type "gaps" for the current list.',
  ),
  curatedEditForm: verb('faq.curated.editForm', 'faq.curate', curatedRef, staleCurated),
  curatedEdit: verb(
    'faq.curated.edit',
    'faq.curate',
    curatedRef.extend({ answer: answerText, sectionId: sectionRef }),
    staleCurated,
  ),
  curatedRetire: verb('faq.curated.retire', 'faq.curate', curatedRef, staleCurated),
  curatedPage: verb(
    'faq.curated.page',
    'faq.curate',
    z.object({ next: z.string().max(2048).optional(), status: z.enum(['active', 'retired', '']).optional() }),
    staleCurated,
  ),
};
