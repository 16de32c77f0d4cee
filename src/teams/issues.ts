import { escapeText } from '../cards/template.js';
import type { Clock } from '../clock.js';
import type { PostStore } from '../conversations/posts.js';
import type { ConversationStore, StoredConversation } from '../conversations/store.js';
import type { ExportStore } from '../exports/store.js';
import type { FaqService } from '../faq/service.js';
import {
  FORM_FIELDS,
  type HistoryEntry,
  ISSUE_VERBS,
  type Issue,
  type IssueStore,
  issueConfirmationData,
  issueDetailData,
  issueFormData,
  issueListData,
  issueSimilarData,
  issueTriageData,
  issueUpdateData,
  isTriageVerb,
  type Notification,
  type Person,
  parsePageInvoke,
  parseRefInvoke,
  parseTriageInvoke,
  type QueueFilters,
  type Reporter,
  renderIssueCard,
  roleForList,
  roleForVerb,
  type SlaCheck,
  type SlaEvent,
  STATUSES,
  validateNewIssue,
} from '../issues/index.js';
import type { Logger } from '../log.js';
import { type Actor, type Roles, roleAtLeast } from '../roles/roles.js';
import type { Scheduler } from '../scheduler/runner.js';
import { type CardActionResult, type RolloutDeskBot, refusalFor, type Turn } from './bot.js';
import type { ProactiveSender } from './sender.js';
import { metrics } from '../telemetry/metrics.js';

export interface IssueWiring {
  issues: IssueStore;
  faq: FaqService;
  roles: Roles;
  conversations: ConversationStore;
  posts: PostStore;
  exports: ExportStore;
  sender: ProactiveSender;
  log: Logger;
  clock: Clock;
  categories: readonly string[];
  rolloutTeamIds: readonly string[];
  /** Where users download exports, e.g. https://rollout-desk.azurewebsites.net */
  publicBaseUrl: string;
}

const TRIAGE_POST = 'issue-triage';
const CHAMPION_LIST_TTL_MS = 60_000;

/** The id features store for a person: the Entra object id when Teams gives one (stable across chats). */
export function personOf(actor: Actor): Person {
  return { id: actor.aadObjectId ?? actor.id, name: actor.name };
}

function reporterOf(actor: Actor): Reporter {
  const r: Reporter = {
    id: actor.aadObjectId ?? actor.id,
    name: actor.name,
    conversationKey: actor.aadObjectId ?? actor.id,
  };
  if (actor.aadObjectId) r.aadObjectId = actor.aadObjectId;
  return r;
}

/** Staff commands (report, my issues, issue R-…), the triage card's actions, lists, export, and SLA jobs. */
export function registerIssues(bot: RolloutDeskBot, w: IssueWiring): void {
  const form = (values?: Record<string, unknown>, errors?: Record<string, string>) =>
    renderIssueCard('issue-form', issueFormData({ categories: w.categories, values, errors }));

  /** The champions offered by "Assign to…", with names from their chats with the bot where known. */
  // Every triage card lists the champions; reading one name per champion for every card would put N table
  // reads on each click, so the list is kept for a minute.
  let championCache: { at: number; list: Promise<Person[]> } | undefined;
  const champions = (): Promise<Person[]> => {
    const now = w.clock.now().getTime();
    if (championCache && now - championCache.at < CHAMPION_LIST_TTL_MS) return championCache.list;
    const list = w.roles.championIds().then((ids) =>
      Promise.all(
        ids.map(async (id) => ({
          id,
          name: (await w.conversations.personalChat(id))?.user?.name ?? `Champion ${id.slice(0, 8)}`,
        })),
      ),
    );
    championCache = { at: now, list };
    list.catch(() => {
      championCache = undefined; // a failed read is not remembered
    });
    return list;
  };

  const triageCard = async (issue: Issue, notice?: string) =>
    renderIssueCard('issue-triage', issueTriageData(issue, { champions: await champions(), notice }));

  /** Redraws an issue's card in the triage channel for everyone (best effort: the issue is already saved). */
  const refreshTriagePost = async (issue: Issue) => {
    const post = await w.posts.get(TRIAGE_POST, issue.ref);
    if (!post) return;
    await w.sender
      .update(post.conversation, post.activityId, await triageCard(issue))
      .catch((err: unknown) => {
        w.log.warn({ err, ref: issue.ref }, 'could not update the triage card in place');
      });
  };

  /** The reporter and everyone who said "me too" hear about status changes and public comments. */
  const notifyFollowers = async (issue: Issue, note: Notification, entry: HistoryEntry, actorId: string) => {
    const card = renderIssueCard('issue-update', issueUpdateData(issue, note, entry));
    const keys = new Set([
      issue.reporter.conversationKey ?? issue.reporter.aadObjectId ?? issue.reporter.id,
      ...issue.affected.map((a) => a.id),
    ]);
    keys.delete(actorId); // the champion who made the change needs no message about it
    for (const key of keys) {
      if (!(await w.sender.toUser(key, card))) w.log.warn({ ref: issue.ref }, 'a follower could not be told (no chat with them)');
    }
  };

  /** A duplicate's reporter (and its +1s) join the original as affected, so they hear when it is fixed. */
  const followOriginal = async (dup: Issue, originalRef: string) => {
    for (const person of [dup.reporter, ...dup.affected]) {
      const res = await w.issues.addAffected(originalRef, { id: person.id, name: person.name });
      if (res.kind === 'updated') await refreshTriagePost(res.issue);
    }
  };

  const postToTriage = async (issue: Issue): Promise<boolean> => {
    const channel = await w.conversations.channelFor('triage');
    if (!channel) {
      w.log.warn(
        { ref: issue.ref },
        'no triage channel set up; the issue waits in the queue ("setup triage")',
      );
      return false;
    }
    try {
      const sent = await w.sender.send(channel, await triageCard(issue));
      await w.posts.save(TRIAGE_POST, issue.ref, { conversation: channel, activityId: sent.activityId });
      return true;
    } catch (err) {
      w.log.error({ err, ref: issue.ref }, 'could not post the issue to the triage channel');
      return false;
    }
  };

  // ---- staff: report ---------------------------------------------------------------------------------

  bot.command('report', async (turn) => {
    await turn.reply(form());
  });

  bot.action('issue.form', async (turn, data) => {
    const qid = typeof data.questionId === 'string' ? data.questionId : '';
    const asked = qid ? await w.faq.getQuestion(qid) : undefined;
    const values = asked ? { faqQuestion: asked.question, title: asked.question.slice(0, 120) } : {};
    // A new message, so the answer the user came from stays on screen.
    await turn.reply(form(values));
    return { message: 'Fill in the form below and press Send.' };
  });

  const submit = async (
    turn: Turn,
    raw: Record<string, unknown>,
    checkSimilar: boolean,
  ): Promise<CardActionResult> => {
    const values = pickForm(raw);
    const checked = validateNewIssue(values, w.categories);
    if (!checked.ok) return { card: form(values, checked.errors as Record<string, string>) };
    if (checkSimilar) {
      const similar = await w.issues.findSimilarOpen(checked.value, 3);
      if (similar.length)
        return { card: renderIssueCard('issue-similar', issueSimilarData(similar, values)) };
    }
    // Teams retries an invoke with the same id: the key makes the retry return the same issue.
    const key = `${turn.context.activity.conversation.id}|${turn.context.activity.id ?? ''}`;
    const result = await w.issues.logIssue(values, reporterOf(turn.actor), { idempotencyKey: key });
    if (result.kind === 'invalid') return { card: form(values, result.errors as Record<string, string>) };
    if (result.kind === 'created') {
      turn.log.info({ ref: result.issue.ref }, 'issue logged');
      metrics.issueLogged();
      await postToTriage(result.issue);
    }
    return { card: renderIssueCard('issue-confirmation', issueConfirmationData(result.issue)) };
  };

  bot.action(ISSUE_VERBS.submit, (turn, data) => submit(turn, data, true));
  bot.action('issue.cancel', async () => ({
    message: 'Cancelled: nothing was saved. Type "report" whenever you want to log it.',
  }));
  bot.action(ISSUE_VERBS.logAnyway, (turn, data) => {
    const carried =
      data.form && typeof data.form === 'object' ? (data.form as Record<string, unknown>) : data;
    return submit(turn, carried, false);
  });

  bot.action(ISSUE_VERBS.affected, async (turn, data) => {
    const ref = parseRefInvoke(data);
    if (!ref.ok) return { message: ref.message };
    const res = await w.issues.addAffected(ref.value, personOf(turn.actor), {
      requestId: turn.context.activity.id,
    });
    if (res.kind === 'not-found') return { message: res.message };
    if (res.kind === 'updated') await refreshTriagePost(res.issue);
    return {
      card: renderIssueCard('issue-confirmation', {
        ...issueConfirmationData(res.issue),
        headline: `You're on ${res.issue.ref} as affected — you'll hear when it changes`,
      }),
    };
  });

  // ---- staff: my issues, one issue ---------------------------------------------------------------------

  const mine = async (actor: Actor, token: string | null) =>
    renderIssueCard(
      'issue-list',
      issueListData({
        list: 'mine',
        page: await w.issues.listByReporter(personOf(actor).id, { limit: 10, token }),
        paged: token !== null,
      }),
    );
  bot.command('my issues', async (turn) => turn.reply(await mine(turn.actor, null)));
  bot.action(ISSUE_VERBS.mine, async (turn) => ({ card: await mine(turn.actor, null) }));

  const detail = async (turn: Turn, text: string): Promise<CardActionResult> => {
    const found = await w.issues.lookup(text);
    if (!found.ok) return { message: escapeText(found.message) };
    const issue = found.issue;
    const me = personOf(turn.actor).id;
    const champion = roleAtLeast(turn.role, 'champion');
    const involved = issue.reporter.id === me || issue.affected.some((a) => a.id === me);
    if (!champion && !involved) {
      // Staff see the issues they logged or joined; others' issues may hold personal details.
      return { message: `${issue.ref} is not one of your issues. Type "my issues" to see yours.` };
    }
    return {
      card: renderIssueCard('issue-detail', issueDetailData(issue, champion ? 'champion' : 'reporter')),
    };
  };
  bot.command('issue', async (turn, args) => {
    if (!args) {
      await turn.reply('Which issue? For example: "issue R-0042". Type "my issues" to see yours.');
      return;
    }
    const res = await detail(turn, args);
    await turn.reply(res.card ?? res.message ?? '');
  });
  bot.action(ISSUE_VERBS.view, async (turn, data) => {
    const ref = parseRefInvoke(data);
    return ref.ok ? detail(turn, ref.value) : { message: ref.message };
  });

  // ---- champions: triage actions ----------------------------------------------------------------------

  const triageAction = async (
    turn: Turn,
    verb: string,
    data: Record<string, unknown>,
  ): Promise<CardActionResult> => {
    // Card data is written by the client: the verb alone never grants anything.
    const needed = roleForVerb(verb);
    if (!needed || !(await turn.requireRole(needed))) return { message: refusalFor(turn.role) };
    const parsed = parseTriageInvoke(verb, data, await champions());
    if (!parsed.ok) {
      const ref = typeof data.ref === 'string' ? await w.issues.get(data.ref) : null;
      return ref ? { card: await triageCard(ref, parsed.message) } : { message: parsed.message };
    }
    const { ref, version, action } = parsed.value;
    const res = await w.issues.act(ref, action, personOf(turn.actor), {
      version,
      requestId: turn.context.activity.id,
    });
    switch (res.kind) {
      case 'not-found':
        return { message: escapeText(res.message) };
      case 'conflict':
      case 'refused':
        return { card: await triageCard(res.issue, escapeText(res.message)) };
      case 'repeated':
        return { card: await triageCard(res.issue) };
      case 'updated': {
        turn.log.info({ ref, action: action.kind }, 'issue updated');
        await refreshTriagePost(res.issue);
        // The reporter's message is not the champion's wait: it goes out after the card answers (the sender
        // tracks it, so shutdown still delivers it).
        if (action.kind === 'duplicate') await followOriginal(res.issue, action.of);
        if (res.notifyReporter) {
          const note = res.notifyReporter;
          void notifyFollowers(res.issue, note, res.entry, personOf(turn.actor).id).catch((err: unknown) =>
            w.log.error({ err, ref }, 'could not notify the reporter and followers'),
          );
        }
        return { card: await triageCard(res.issue) };
      }
    }
  };
  for (const verb of [
    ISSUE_VERBS.assignMe,
    ISSUE_VERBS.assign,
    ISSUE_VERBS.status,
    ISSUE_VERBS.priority,
    ISSUE_VERBS.comment,
    ISSUE_VERBS.duplicate,
  ]) {
    if (!isTriageVerb(verb)) throw new Error(`not a triage verb: ${verb}`);
    bot.action(verb, (turn, data) => triageAction(turn, verb, data));
  }

  // ---- champions: lists ----------------------------------------------------------------------------------

  bot.command('triage', async (turn, args) => {
    if (!(await turn.requireRole(roleForList('triage')))) return;
    const filters = parseFilters(args, personOf(turn.actor).id);
    if (!filters.ok) {
      await turn.reply(filters.message);
      return;
    }
    const page = await w.issues.triageQueue(filters.value, { limit: 10 });
    await turn.reply(
      renderIssueCard('issue-list', issueListData({ list: 'triage', page, filters: filters.value })),
    );
  });
  bot.command('assigned', async (turn) => {
    if (!(await turn.requireRole(roleForList('assigned')))) return;
    const page = await w.issues.listAssigned(personOf(turn.actor).id, { limit: 10 });
    await turn.reply(renderIssueCard('issue-list', issueListData({ list: 'assigned', page })));
  });
  bot.action(ISSUE_VERBS.page, async (turn, data) => {
    const p = parsePageInvoke(data);
    if (!p.ok) return { message: p.message };
    const { list, token, filters } = p.value;
    if (!(await turn.requireRole(roleForList(list)))) return { message: refusalFor(turn.role) };
    const me = personOf(turn.actor).id;
    const page =
      list === 'mine'
        ? await w.issues.listByReporter(me, { limit: 10, token })
        : list === 'assigned'
          ? await w.issues.listAssigned(me, { limit: 10, token })
          : await w.issues.triageQueue(filters, { limit: 10, token });
    return {
      card: renderIssueCard('issue-list', issueListData({ list, page, filters, paged: token !== null })),
    };
  });

  // ---- rollout team: export ----------------------------------------------------------------------------

  bot.command('export issues', async (turn) => {
    if (!(await turn.require('issues.export'))) return;
    await turn.context.sendActivity({ type: 'typing' });
    const csv = await w.issues.exportCsv();
    const rows = Math.max(0, csv.split('\n').filter(Boolean).length - 1);
    const stamp = w.clock.now().toISOString().slice(0, 16).replace(/[:T]/g, '-');
    const { token, expiresAt } = await w.exports.save({
      filename: `rollout-issues-${stamp}.csv`,
      contentType: 'text/csv',
      content: csv,
      createdBy: personOf(turn.actor).id,
    });
    const url = `${w.publicBaseUrl.replace(/\/+$/, '')}/exports/${token}`;
    turn.log.info({ rows }, 'issues exported');
    await turn.reply(
      `Your export of ${rows} issue${rows === 1 ? '' : 's'} is ready: [download the CSV](${url}). The link works until ${expiresAt.slice(0, 16).replace('T', ' ')} UTC; don't forward it.`,
    );
  });
}

/** The SLA job: reminders in the triage channel, escalations to each rollout team member, each once. */
export function scheduleIssueJobs(
  scheduler: Scheduler,
  sla: SlaCheck,
  w: IssueWiring,
  everyMs: number,
): void {
  scheduler.add({
    name: 'issues.sla',
    everyMs,
    run: async () => {
      for (const event of await sla.run()) {
        const delivered = await deliverSla(event, w);
        if (!delivered) await sla.release(event); // not sent: the next run tries again
      }
    },
  });
  scheduler.add({
    name: 'issues.repairIndexes',
    everyMs: Math.max(everyMs, 5 * 60_000),
    run: async () => {
      const repaired = await w.issues.repairIndexes();
      if (repaired) w.log.warn({ repaired }, 'repaired issue index rows');
    },
  });
}

async function deliverSla(event: SlaEvent, w: IssueWiring): Promise<boolean> {
  const i = event.issue;
  const hours = (event.ageMinutes / 60).toFixed(1);
  const what = `**${i.ref}** — ${escapeText(i.title)} (${escapeText(i.category)}, ${escapeText(i.site)})`;
  if (event.kind === 'reminder') {
    const channel = await w.conversations.channelFor('triage');
    if (!channel) return false;
    await w.sender.send(
      channel,
      `Reminder: ${what} has waited ${hours} h without triage. Type "triage" to see the queue.`,
    );
    return true;
  }
  const text = `Escalation: ${what} ${i.severity === 'blocks' ? 'blocks someone’s work' : `is ${i.priority ?? 'urgent'}`} and has waited ${hours} h without triage.`;
  let sent = 0;
  for (const id of w.rolloutTeamIds) if (await w.sender.toUser(id, text)) sent++;
  if (sent === 0) {
    const channel: StoredConversation | undefined = await w.conversations.channelFor('triage');
    if (!channel) return false;
    await w.sender.send(channel, `${text} (No rollout team member could be reached directly.)`);
  }
  return true;
}

/** Only the form's own fields, as strings: anything else a client adds to the card data is dropped. */
function pickForm(raw: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of FORM_FIELDS) if (typeof raw[k] === 'string') out[k] = raw[k] as string;
  return out;
}

/** `triage status:new category:"Sync / offline" site:Marula assignee:me` → filters. */
export function parseFilters(
  args: string,
  me: string,
): { ok: true; value: QueueFilters } | { ok: false; message: string } {
  const value: QueueFilters = {};
  const tokens = args.match(/(\w+):("[^"]*"|\S+)/g) ?? [];
  const rest = args.replace(/(\w+):("[^"]*"|\S+)/g, '').trim();
  if (rest) return { ok: false, message: usage(`I don't understand "${escapeText(rest)}".`) };
  for (const t of tokens) {
    const i = t.indexOf(':');
    const key = t.slice(0, i).toLowerCase();
    const val = t
      .slice(i + 1)
      .replace(/^"|"$/g, '')
      .trim();
    if (!val) return { ok: false, message: usage(`"${key}" needs a value.`) };
    if (key === 'status') {
      const status = STATUSES.find((s) => s === val.toLowerCase().replace(/[\s-]+/g, '_'));
      if (!status) return { ok: false, message: usage(`Status is one of: ${STATUSES.join(', ')}.`) };
      value.status = status;
    } else if (key === 'category') value.category = val;
    else if (key === 'site') value.site = val;
    else if (key === 'assignee') value.assigneeId = val === 'me' ? me : val;
    else return { ok: false, message: usage(`Unknown filter "${escapeText(key)}".`) };
  }
  return { ok: true, value };
}

function usage(problem: string): string {
  return `${problem} Usage: triage [status:new] [category:"Sync / offline"] [site:Marula] [assignee:me]`;
}
