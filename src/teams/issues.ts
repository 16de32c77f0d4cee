import { createHash } from 'node:crypto';
import { escapeText, markdownLink } from '../cards/template.js';
import type { Clock } from '../clock.js';
import type { ExportStore } from '../exports/store.js';
import type { FaqService } from '../faq/service.js';
import {
  type Caller,
  type FormData,
  ISSUE_COMMANDS,
  ISSUE_VERBS,
  type IssueService,
  issueConfirmationData,
  issueDetailData,
  issueFinishedData,
  issueFormData,
  issueListData,
  issueSimilarData,
  type ListName,
  type QueueFilters,
  renderIssueCard,
  type TriageVerb,
} from '../issues/index.js';
import type { Logger } from '../log.js';
import type { Outbox } from '../outbound/message.js';
import { allows, refusalFor } from '../roles/permissions.js';
import { personOf } from '../roles/roles.js';
import { metrics } from '../telemetry/metrics.js';
import type { CardActionResult, RolloutDeskBot, Turn } from './bot.js';
import { type DownloadWiring, offerDownload } from './downloads.js';
import { sharedConversationOf } from './turn.js';

export interface IssueWiring {
  issues: IssueService;
  faq: FaqService;
  exports: ExportStore;
  outbox: Outbox;
  log: Logger;
  clock: Clock;
  /** Where users download exports, e.g. https://rollout-desk.azurewebsites.net */
  publicBaseUrl: string;
  /** Who has a private chat with the bot (an export link asked for elsewhere goes there). */
  conversations: DownloadWiring['conversations'];
}

/** Who is asking, as the issue log sees them. */
export function callerOf(turn: Turn): Caller {
  const person = personOf(turn.actor);
  const reporter: Caller['reporter'] = { ...person, conversationKey: person.id };
  if (turn.actor.aadObjectId) reporter.aadObjectId = turn.actor.aadObjectId;
  return { person, reporter, role: turn.role };
}

/**
 * The report a submit belongs to. A form's id (its buttons carry it) makes every press of that form one report:
 * a double click is two invokes with two activity ids, which the activity's own id (Teams' retry of one
 * invoke) cannot join. The person is part of the key, so an id copied into another's card finds nothing of
 * theirs; hashed, because the key is stored for good (the idempotency row) and must not name them. A card
 * made before forms had an id falls back to the activity.
 */
const requestKeyOf = (turn: Turn, formId?: string) =>
  formId
    ? `form|${createHash('sha256').update(`${personOf(turn.actor).id}|${formId}`).digest('hex').slice(0, 32)}`
    : `${turn.context.activity.conversation.id}|${turn.context.activity.id ?? ''}`;

/** An old report card pressed again after the person was forgotten: their report is no longer theirs to see. */
const OUTDATED_REPORT =
  'This card is out of date: the report sent from it is no longer linked to you, since your details were removed from Rollout Desk. To report a problem now, type "report".';

/** The issue log's commands and card verbs: parse what Teams sent, call the service, render its result. */
export function registerIssues(bot: RolloutDeskBot, w: IssueWiring): void {
  const form = (values?: FormData, errors?: Record<string, string | undefined>, lostDevice = false, formId?: string) =>
    renderIssueCard(
      'issue-form',
      issueFormData({
        categories: w.issues.categories,
        values,
        errors,
        ...(formId ? { formId } : {}),
        ...(lostDevice ? { heading: 'Report a lost or stolen device', lostDevice: true } : {}),
      }),
    );

  // ---- staff: report ---------------------------------------------------------------------------------

  // What follows the command words is what happened, in the user's words: it starts the form's description.
  bot.command(ISSUE_COMMANDS.report, async (turn, args) => turn.reply(form(args ? { description: args } : undefined)));
  bot.command(ISSUE_COMMANDS.lostDevice, async (turn, args) =>
    turn.reply(
      form(
        {
          title: 'Lost or stolen tablet',
          severity: 'blocks',
          description: args || 'When and where it was lost or stolen, and its asset tag if you know it: ',
        },
        undefined,
        true,
      ),
    ),
  );

  bot.verb(ISSUE_VERBS.form, async (turn, data) => {
    // The id comes from the card, which the client writes: another person's question is never filled in.
    const asked = data.questionId
      ? await w.faq.questionFor(data.questionId, turn.actor, sharedConversationOf(turn.context))
      : undefined;
    const values = asked ? { faqQuestion: asked.question, title: asked.question.slice(0, 120) } : {};
    // A new message, so the answer the user came from stays on screen. Each form gets its own id (the card's
    // default): a second form opened from the same question is another report, with its own edits, while Send
    // pressed twice on one form is still one report (its id, see requestKeyOf).
    await turn.reply(form(values));
    return { message: 'Fill in the form below and press Send.' };
  });

  const submit = async (
    turn: Turn,
    sent: FormData & { formId?: string | undefined },
    opts: { checkSimilar: boolean; lostDevice?: boolean },
  ): Promise<CardActionResult> => {
    const { formId, ...values } = sent;
    const outcome = await w.issues.report(callerOf(turn), values, { requestKey: requestKeyOf(turn, formId), ...(formId ? { formId } : {}), ...opts });
    switch (outcome.kind) {
      case 'invalid':
        return { card: form(outcome.values, outcome.errors, opts.lostDevice, formId) };
      case 'similar':
        return { card: renderIssueCard('issue-similar', issueSimilarData(outcome.similar, outcome.values, formId, callerOf(turn).person.id)) };
      case 'logged':
        if (outcome.fresh) {
          turn.log.info({ ref: outcome.issue.ref }, 'issue logged');
          metrics.issueLogged();
        }
        return { card: renderIssueCard('issue-confirmation', issueConfirmationData(outcome.issue)) };
      case 'held':
        turn.log.warn('storage not answering: report kept on disk, to be filed when it is back');
        return { card: renderIssueCard('issue-held', {}) };
      case 'outdated':
        return { message: OUTDATED_REPORT };
    }
  };
  bot.verb(ISSUE_VERBS.submit, (turn, data) => submit(turn, data, { checkSimilar: true }));
  bot.verb(ISSUE_VERBS.submitLostDevice, (turn, data) => submit(turn, data, { checkSimilar: false, lostDevice: true }));
  bot.verb(ISSUE_VERBS.logAnyway, (turn, data) => submit(turn, { ...data.form, formId: data.formId }, { checkSimilar: false }));
  bot.verb(ISSUE_VERBS.cancel, async () => ({
    card: renderIssueCard('issue-cancelled', {}),
  }));

  bot.verb(ISSUE_VERBS.affected, async (turn, data) => {
    const res = await w.issues.follow(callerOf(turn), data.ref, turn.context.activity.id ?? '');
    if (res.kind === 'message') return { message: res.text };
    if (res.kind === 'card') return { message: res.notice ?? '' };
    if (res.kind === 'finished') {
      // A card sent before carried the form on its +1; one sent now carries its id, the form kept with the offer.
      const form = data.form ?? (data.formId !== undefined ? await w.issues.offeredForm(callerOf(turn), data.ref, data.formId) : undefined);
      return { card: renderIssueCard('issue-finished', issueFinishedData(res.issue, { form, formId: data.formId, sameAs: res.sameAs })) };
    }
    return {
      card: renderIssueCard('issue-confirmation', {
        ...issueConfirmationData(res.issue),
        headline: res.message ?? `You're on ${res.issue.ref} as affected — you'll hear when it changes`,
      }),
    };
  });

  // ---- staff: my issues, one issue ---------------------------------------------------------------------

  const listCard = async (
    turn: Turn,
    list: ListName,
    token: string | null,
    filters: QueueFilters = {},
  ): Promise<CardActionResult> => {
    const page = await w.issues.list(callerOf(turn), list, { token, filters });
    if (!page) return { message: refusalFor('issues.readAll') };
    return { card: renderIssueCard('issue-list', issueListData({ list, page, filters, paged: token !== null })) };
  };
  // A service message may quote what the user typed: in a markdown reply it is escaped, shown as typed.
  const replyWith = async (turn: Turn, res: CardActionResult) => turn.reply(res.card ?? escapeText(res.message ?? ''));

  bot.command(ISSUE_COMMANDS.mine, async (turn) => replyWith(turn, await listCard(turn, 'mine', null)));
  bot.verb(ISSUE_VERBS.mine, (turn) => listCard(turn, 'mine', null));

  const detail = async (turn: Turn, text: string): Promise<CardActionResult> => {
    const res = await w.issues.view(callerOf(turn), text);
    if (res.kind === 'message') return { message: res.text };
    return { card: renderIssueCard('issue-detail', issueDetailData(res.issue, res.audience)) };
  };
  bot.command(ISSUE_COMMANDS.one, async (turn, args) => {
    if (!args) return turn.reply('Which issue? For example: "issue R-0042". Type "my issues" to see yours.');
    return replyWith(turn, await detail(turn, args));
  });
  bot.verb(ISSUE_VERBS.view, (turn, data) => detail(turn, data.ref));
  // "R-0042?" typed alone asks after that issue: answered from the guidance it was a wrong answer (and "#42" a false gap).
  bot.shorthand((text) => (w.issues.isReferenceOnly(text) ? `issue ${text}` : undefined));

  // ---- champions: triage actions and lists -------------------------------------------------------------

  const triageVerbs: [TriageVerb, (typeof ISSUE_VERBS)[TriageVerb]][] = [
    ['assignMe', ISSUE_VERBS.assignMe],
    ['assign', ISSUE_VERBS.assign],
    ['status', ISSUE_VERBS.status],
    ['priority', ISSUE_VERBS.priority],
    ['comment', ISSUE_VERBS.comment],
    ['duplicate', ISSUE_VERBS.duplicate],
  ];
  for (const [kind, def] of triageVerbs) {
    bot.verb(def, async (turn, data) => {
      const res = await w.issues.triage(callerOf(turn), kind, data, turn.context.activity.id ?? '');
      if (res.kind === 'message') return { message: res.text };
      if (res.unfinished) turn.log.warn({ err: res.unfinished.failed, ref: res.issue.ref, action: kind }, 'issue change saved; its follow-ups did not finish (the next press does)');
      else if (!res.notice) turn.log.info({ ref: res.issue.ref, action: kind }, 'issue updated');
      const notice = [res.notice, res.unfinished?.message].filter(Boolean).join(' ');
      return { card: await w.issues.triageCard(res.issue, notice || undefined) };
    });
  }

  bot.command(ISSUE_COMMANDS.triage, async (turn, args) => {
    const filters = w.issues.parseFilters(callerOf(turn), args);
    if (!filters.ok) return turn.reply(escapeText(filters.message));
    return replyWith(turn, await listCard(turn, 'triage', null, filters.value));
  });
  bot.command(ISSUE_COMMANDS.assigned, async (turn) => replyWith(turn, await listCard(turn, 'assigned', null)));
  bot.verb(ISSUE_VERBS.page, async (turn, data) => {
    if (data.list !== 'mine' && !allows(turn.role, 'issues.readAll')) return { message: refusalFor('issues.readAll') };
    const filters = Object.fromEntries(Object.entries(data.filters).filter(([, v]) => v !== undefined)) as QueueFilters;
    return listCard(turn, data.list, data.token || null, filters);
  });

  // ---- rollout team: export ----------------------------------------------------------------------------

  bot.command(ISSUE_COMMANDS.export, async (turn) => {
    await turn.context.sendActivity({ type: 'typing' });
    const caller = callerOf(turn);
    let n = 0;
    await offerDownload(
      turn,
      w,
      caller.person.id,
      async () => {
        const exported = await w.issues.exportCsv(caller);
        if (!exported) return undefined;
        const stamp = w.clock.now().toISOString().slice(0, 16).replace(/[:T]/g, '-');
        n = exported.count;
        turn.log.info({ issues: n }, 'issues exported');
        return w.exports.save({ filename: `rollout-issues-${stamp}.csv`, contentType: 'text/csv', content: exported.csv, createdBy: caller.person.id });
      },
      (url, until) => `Your export of ${n} issue${n === 1 ? '' : 's'} is ready: ${markdownLink('download the CSV', url)}. The link works until ${until}; don't forward it.`,
    );
  });
}
