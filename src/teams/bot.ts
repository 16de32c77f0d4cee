import { createHash } from 'node:crypto';
import {
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  CardFactory,
  type MessagingExtensionQuery,
  type MessagingExtensionResponse,
  TeamsActivityHandler,
  type TurnContext,
} from 'botbuilder';
import type { z } from 'zod';
import type { AdaptiveCard } from '../cards/template.js';
import type { Clock } from '../clock.js';
import { type ParsedCommand, parseCommand } from '../commands.js';
import { SavedConversations } from '../conversations/saved.js';
import type { ConversationStore } from '../conversations/store.js';
import { formattedWords } from '../faq/echo.js';
import { helpCard, welcomeCard } from '../help/cards.js';
import type { Logger } from '../log.js';
import type { CommandDef, VerbDef } from '../registry/index.js';
import { allows, type Permission, refusalFor } from '../roles/permissions.js';
import type { Actor, Role, Roles } from '../roles/roles.js';
import { isStorageUnavailable } from '../storage/call-policy.js';
import type { DedupeStore } from '../storage/dedupe.js';
import { toActivity } from './activity.js';
import {
  answerInvoke,
  failedInvokeResponse,
  invokeRefusal,
  invokeResponseOf,
  keepInvokeResponse,
  replayedResponse,
} from './invoke.js';
import { actorOf, hasAttachedFiles, messageKeyOf, storedConversationOf, textWithoutMention, textWithoutMentions } from './turn.js';

/** What a handler knows about the turn it runs in. */
export interface Turn {
  context: TurnContext;
  actor: Actor;
  role: Role;
  log: Logger;
  /** Replies in the conversation (in a channel thread: in that thread). Markdown text, or a card. */
  reply(out: string | AdaptiveCard): Promise<void>;
  /**
   * Checks a further permission on the server (the registry already checked the command's or verb's own).
   * In a message turn it replies with the refusal; in a card action the handler returns it.
   */
  require(permission: Permission): Promise<boolean>;
}

export type CommandHandler = (turn: Turn, args: string) => Promise<void>;

/** The answer to a card action: a card that replaces the one clicked, and/or a plain-text message. */
export interface CardActionResult {
  card?: AdaptiveCard;
  message?: string;
}
export type VerbHandler<S extends z.ZodType> = (turn: Turn, data: z.infer<S>) => Promise<CardActionResult>;

export type QuestionHandler = (turn: Turn, text: string) => Promise<void>;
/** A message deleted in Teams, or edited (`text`: its words now): `message` is its key (see messageKeyOf). */
export type MessageChangeHandler = (turn: Turn, message: string, text: string) => Promise<void>;
/** Which results the compose box asks for: Teams asks again with a larger `skip` as the list is scrolled. */
export interface SearchPage {
  skip: number;
  count: number;
}
/** Results to insert, or a sentence the compose box shows instead (e.g. why there are none for this person). */
export type SearchHandler = (
  turn: Turn,
  query: string,
  page: SearchPage,
) => Promise<{ title: string; subtitle: string; card: AdaptiveCard }[] | { message: string }>;

/** A search query is typed by anyone: longer than any question the FAQ reads (it keeps 500 characters). */
const SEARCH_QUERY_MAX = 500;
const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';
const FILES_NOT_KEPT =
  "I can't keep pictures or files, so the one you sent is not saved with anything. Type what it shows instead: for an error, its exact message.";
/** Teams asks for 25 at a time by default. */
const SEARCH_PAGE_MAX = 25;

export interface BotDeps {
  log: Logger;
  roles: Pick<Roles, 'roleOf'>;
  conversations: ConversationStore;
  dedupe: DedupeStore;
  systemName: string;
  localMode: boolean;
  clock: Clock;
}

/**
 * Turns Teams activities into calls on the features. Features register commands, card actions (by verb),
 * a question handler and a search handler; nothing outside src/teams sees a TurnContext.
 */
export class RolloutDeskBot extends TeamsActivityHandler {
  private readonly commands = new Map<string, { def: CommandDef; handler: CommandHandler }>();
  private readonly verbs = new Map<string, { def: VerbDef; handler: VerbHandler<z.ZodType> }>();
  private readonly shorthands: ((text: string) => string | undefined)[] = [];
  private questionHandler: QuestionHandler | undefined;
  private editHandler: MessageChangeHandler | undefined;
  private deleteHandler: MessageChangeHandler | undefined;
  private undeleteHandler: MessageChangeHandler | undefined;
  private searchHandler: SearchHandler | undefined;
  /** Chats and names this instance saved already (dropped when someone is forgotten: see saved.ts). */
  private readonly remembered: SavedConversations;

  constructor(private readonly deps: BotDeps) {
    super();
    this.remembered = new SavedConversations(deps.conversations, deps.clock);
    this.onMessage(async (context, next) => {
      await this.handleMessage(context);
      await next();
    });
    // Teams tells the bot of a message edited or deleted in a chat it is in (eventType editMessage, softDeleteMessage).
    this.onTeamsMessageEditEvent(async (context, next) => {
      await this.handleEdit(context);
      await next();
    });
    this.onMessageDelete(async (context, next) => {
      const message = messageKeyOf(context);
      if (message && this.deleteHandler) await this.deleteHandler(await this.turn(context), message, '');
      await next();
    });
    // The delete undone ("Undo" in Teams): a messageUpdate with eventType undeleteMessage, carrying the message's id.
    this.onTeamsMessageUndeleteEvent(async (context, next) => {
      const message = messageKeyOf(context);
      if (message && this.undeleteHandler) await this.undeleteHandler(await this.turn(context), message, '');
      await next();
    });
    this.onInstallationUpdateAdd(async (context, next) => {
      await this.greet(context);
      await next();
    });
  }

  /** Handles a declared command; the registry's permission is checked before `handler` runs. */
  command(def: CommandDef, handler: CommandHandler): this {
    this.commands.set(def.name, { def, handler });
    return this;
  }

  /** Handles a declared card verb: permission checked, then data parsed with the verb's schema. */
  verb<S extends z.ZodType>(def: VerbDef<S>, handler: VerbHandler<S>): this {
    this.verbs.set(def.verb, { def, handler: handler as VerbHandler<z.ZodType> });
    return this;
  }

  /** The verbs and commands with a handler (the registry test holds them against the cards). */
  handled(): { verbs: string[]; commands: string[] } {
    return { verbs: [...this.verbs.keys()], commands: [...this.commands.keys()] };
  }

  /**
   * A message that is short for a command, as a feature reads it (an issue reference alone means "issue R-0042"):
   * `expand` returns the command's text, or undefined when the message is not such a shorthand.
   */
  shorthand(expand: (text: string) => string | undefined): this {
    this.shorthands.push(expand);
    return this;
  }

  onQuestion(handler: QuestionHandler): this {
    this.questionHandler = handler;
    return this;
  }

  /** A question's message edited: answered again by the handler. An edit that reads as a command is never run. */
  onQuestionEdited(handler: MessageChangeHandler): this {
    this.editHandler = handler;
    return this;
  }

  onMessageDeleted(handler: MessageChangeHandler): this {
    this.deleteHandler = handler;
    return this;
  }

  /** A deleted message undeleted by its sender: what its delete withdrew comes back. */
  onMessageUndeleted(handler: MessageChangeHandler): this {
    this.undeleteHandler = handler;
    return this;
  }

  onSearch(handler: SearchHandler): this {
    this.searchHandler = handler;
    return this;
  }

  /** Every activity: correlation id, one log line, Teams-retry dedupe, and the conversation remembered. */
  override async run(context: TurnContext): Promise<void> {
    const a = context.activity;
    const started = Date.now();
    // The correlation id (`corr`) comes from the turn's scope (src/telemetry/correlation.ts), set per request.
    const log = this.deps.log.child({
      activityId: a.id,
      type: a.type,
      name: a.name,
      conversationType: a.conversation?.conversationType,
      from: a.from?.aadObjectId ?? a.from?.id,
    });
    context.turnState.set('log', log);
    const refusal = a.type === 'invoke' ? invokeRefusal(a) : undefined;
    if (refusal) {
      log.warn({ status: refusal.status }, 'invoke refused as sent');
      return answerInvoke(context, refusal);
    }
    const claim = (a.type === 'message' || a.type === 'invoke') && a.id ? `${a.conversation?.id ?? ''}|${a.id}` : editClaim(a);
    if (claim) {
      // Storage not answering must not cost the user their turn: the features keep their own work safe
      // (a report is held on disk), so the turn goes on unclaimed, and a retry is judged by the feature.
      const claimed = await this.deps.dedupe.claimWithResult(claim).catch((err: unknown) => {
        if (!isStorageUnavailable(err)) throw err;
        log.warn({ err }, 'dedupe not reachable; handling the activity without it');
        return { first: true as const };
      });
      if (!claimed.first) {
        log.info('repeat of an activity already handled (Teams retry); not handled again');
        if (a.type === 'invoke')
          await answerInvoke(context, await replayedResponse(this.deps.dedupe, claim, claimed.result, a.name));
        return;
      }
    }
    try {
      if (a.type === 'message' || a.type === 'invoke' || a.type === 'installationUpdate') {
        await this.remember(context).catch((err: unknown) => {
          if (!isStorageUnavailable(err)) throw err;
          log.warn({ err }, 'conversation not remembered (storage not answering); it is next time');
        });
      }
      await super.run(context);
      if (claim && a.type === 'invoke') await keepInvokeResponse(this.deps.dedupe, claim, context, log);
      log.info({ ms: Date.now() - started }, 'activity handled');
    } catch (err) {
      log.error({ err, ms: Date.now() - started }, 'activity failed');
      // Nothing was done for this activity: let Teams' retry of it be handled instead of dropped as a repeat.
      if (claim) await this.deps.dedupe.release(claim).catch(() => {});
      // A card action is answered in its own response: say what went wrong instead of an empty 501.
      if (a.type === 'invoke' && !invokeResponseOf(context)) return answerInvoke(context, failedInvokeResponse(a.name));
      throw err;
    }
  }

  protected override async onTeamsMembersAdded(context: TurnContext): Promise<void> {
    const botAdded = (context.activity.membersAdded ?? []).some(
      (m) => m.id === context.activity.recipient.id,
    );
    if (botAdded) await this.greet(context);
  }

  protected override async onAdaptiveCardInvoke(
    context: TurnContext,
    invokeValue: AdaptiveCardInvokeValue,
  ): Promise<AdaptiveCardInvokeResponse> {
    const verb = invokeValue.action?.verb ?? '';
    const data = (invokeValue.action?.data ?? {}) as Record<string, unknown>;
    const result = await this.runAction(context, verb, data);
    if (result.card) {
      return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: result.card };
    }
    return {
      statusCode: 200,
      type: 'application/vnd.microsoft.activity.message',
      value: result.message ?? 'Done.',
    } as unknown as AdaptiveCardInvokeResponse;
  }

  protected override async handleTeamsMessagingExtensionQuery(
    context: TurnContext,
    query: MessagingExtensionQuery,
  ): Promise<MessagingExtensionResponse> {
    const value: unknown = query.parameters?.find((p) => p.name === 'query')?.value;
    // Bounded before it is searched or shown back on the result cards.
    const text = (typeof value === 'string' || typeof value === 'number' ? String(value) : '').slice(0, SEARCH_QUERY_MAX).trim();
    const page = {
      skip: wholeNumber(query.queryOptions?.skip, 0, 0, Number.MAX_SAFE_INTEGER),
      count: wholeNumber(query.queryOptions?.count, SEARCH_PAGE_MAX, 1, SEARCH_PAGE_MAX),
    };
    const turn = await this.turn(context);
    const found = this.searchHandler && text ? await this.searchHandler(turn, text, page) : [];
    if (!Array.isArray(found)) return { composeExtension: { type: 'message', text: found.message } };
    return {
      composeExtension: {
        type: 'result',
        attachmentLayout: 'list',
        attachments: found.map((f) => ({
          ...CardFactory.adaptiveCard(f.card),
          preview: CardFactory.heroCard(f.title, f.subtitle),
        })),
      },
    };
  }

  private async handleMessage(context: TurnContext): Promise<void> {
    const value = context.activity.value as Record<string, unknown> | undefined;
    // Action.Submit from a card arrives as a message whose value carries the action name.
    if (value && typeof value === 'object' && typeof value.action === 'string') {
      const result = await this.runAction(context, value.action, value);
      if (result.card) {
        const replyTo = context.activity.replyToId;
        if (replyTo) {
          await context.updateActivity({ ...toActivity(result.card), id: replyTo }).catch(async () => {
            await context.sendActivity(toActivity(result.card as AdaptiveCard));
          });
        } else {
          await context.sendActivity(toActivity(result.card));
        }
      }
      if (result.message) await context.sendActivity({ type: 'message', text: result.message, textFormat: 'plain' });
      return;
    }
    // As sent: botbuilder's removal of the bot's mention rewrites the activity's text.
    const sent = { text: typeof context.activity.text === 'string' ? context.activity.text : '', textFormat: context.activity.textFormat };
    const text = textWithoutMention(context);
    const turn = await this.turn(context);
    const files = hasAttachedFiles(context.activity);
    // Said before the answer, so a screenshot of an error is not thought to be on the issue.
    if (files) await turn.reply(FILES_NOT_KEPT);
    if (!text) {
      if (files) return;
      // A card sent back to the bot (a guidance search result) carries no words: not a request for help.
      if ((context.activity.attachments ?? []).some((a) => a?.contentType === ADAPTIVE_CARD)) {
        turn.log.info('a card without words; not answered');
        return;
      }
      // Formatting with no words in it (an empty paragraph, an echoed card's markup): the question handler says why.
      // The bot's @mention alone is a call for help, formatted ("<p><at>Rollout Desk</at></p>") as in plain text: with
      // no words left, any mention the message's words held was the bot's. So a wordless formatted channel message
      // (it always carries the bot's <at>) gets the help card, not the why: intended.
      const formatted = formattedWords(sent);
      if (this.questionHandler && formatted !== undefined && !formatted.includes('<at>')) return this.questionHandler(turn, '');
      await turn.reply(helpCard(turn.role, this.deps.localMode));
      return;
    }
    const cmd = this.commandIn(text, textWithoutMentions(context));
    if (cmd) {
      const entry = this.commands.get(cmd.command.name);
      if (!entry) {
        await turn.reply(`"${cmd.command.name}" is not available yet.`);
        return;
      }
      if (entry.def.localOnly && !this.deps.localMode) {
        await turn.reply(`"${entry.def.name}" works only when Rollout Desk runs locally for a demo.`);
        return;
      }
      if (!(await turn.require(entry.def.permission))) return;
      return entry.handler(turn, cmd.args);
    }
    if (this.questionHandler) return this.questionHandler(turn, text);
    await turn.reply(helpCard(turn.role, this.deps.localMode));
  }

  /**
   * A message edited in Teams. Only a question is answered again: an edit that reads as a command (or was one, which
   * logged no question: the handler finds none) is not run, so an edit never repeats or starts anything destructive.
   */
  private async handleEdit(context: TurnContext): Promise<void> {
    const message = messageKeyOf(context);
    const text = textWithoutMention(context);
    if (!message || !text || !this.editHandler) return;
    const turn = await this.turn(context);
    if (this.commandIn(text, textWithoutMentions(context))) {
      turn.log.info('an edited message that reads as a command; not run');
      return;
    }
    await this.editHandler(turn, message, text);
  }

  /**
   * The command a message is, found in its text with every @mention taken out (`bare`): "celebrate @Sam" is
   * `celebrate`, as "send @Sam golive-week" is `send golive-week`. A free-text command (a report) takes its
   * words from `text`, where others @mentioned keep their names ("report @Bob can't sign in").
   */
  private commandIn(text: string, bare: string): ParsedCommand | undefined {
    const expand = (t: string) => this.shorthands.reduce<string | undefined>((found, e) => found ?? e(t), undefined) ?? t;
    const cmd = parseCommand(expand(bare));
    if (!cmd?.command.freeText) return cmd;
    const named = parseCommand(text);
    if (named?.command.name === cmd.command.name) return named;
    // Mentioned before the command words ("@Bob report can't sign in"): who it is about goes first in the words.
    const lead = namesBefore(text, cmd.command.name);
    return lead ? { ...cmd, args: `${lead} ${cmd.args}`.trim() } : cmd;
  }

  /** A card action: declared verb → permission → schema → handler. Refusals and bad data change nothing. */
  private async runAction(
    context: TurnContext,
    verb: string,
    raw: Record<string, unknown>,
  ): Promise<CardActionResult> {
    const entry = this.verbs.get(verb);
    const turn = await this.turn(context);
    if (!entry) {
      turn.log.warn({ verb: verb.slice(0, 80) }, 'unknown card action');
      return { message: 'This button is no longer supported. Please start again from a new message.' };
    }
    if (!allows(turn.role, entry.def.permission)) {
      turn.log.warn({ verb, role: turn.role }, 'refused: role too low');
      return { message: refusalFor(entry.def.permission) };
    }
    const data = entry.def.data.safeParse(raw);
    if (!data.success) {
      turn.log.warn({ verb, issues: data.error.issues.length }, 'card data did not parse');
      return { message: entry.def.invalid ?? 'This card is out of date. Please start again from a new message.' };
    }
    return entry.handler(turn, data.data);
  }

  private async turn(context: TurnContext): Promise<Turn> {
    const actor = actorOf(context);
    const role = await this.deps.roles.roleOf(actor);
    const log = (context.turnState.get('log') as Logger | undefined) ?? this.deps.log;
    return {
      context,
      actor,
      role,
      log,
      reply: async (out) => {
        await context.sendActivity(toActivity(out));
      },
      require: async (permission) => {
        if (allows(role, permission)) return true;
        log.warn({ permission, role }, 'refused: role too low');
        // A card action answers in its result (the handler returns the refusal); a message gets it as a reply.
        if (context.activity.type === 'message' && !context.activity.value) {
          await context.sendActivity(refusalFor(permission));
        }
        return false;
      },
    };
  }

  private async greet(context: TurnContext): Promise<void> {
    await this.remember(context);
    // Teams sends both installationUpdate and conversationUpdate on install: greet once per conversation.
    if (!(await this.deps.dedupe.claim(`welcome|${context.activity.conversation.id}`))) return;
    await context.sendActivity(toActivity(welcomeCard(this.deps.systemName, this.deps.localMode)));
  }

  /** Where to reach this conversation later, and the name its sender goes by (champion lists show it). */
  private async remember(context: TurnContext): Promise<void> {
    const conv = storedConversationOf(context);
    const key = `${conv.conversationId}|${conv.user?.id ?? ''}|${conv.serviceUrl}|${conv.timeZone ?? ''}`;
    const from = context.activity.from;
    const person = from?.aadObjectId && from.name ? `person|${from.aadObjectId}|${from.name}` : '';
    if (!(await this.remembered.has(key))) {
      await this.deps.conversations.remember(conv);
      this.remembered.add(key);
    }
    if (person && !(await this.remembered.has(person))) {
      await this.deps.conversations.rememberPerson(from.aadObjectId as string, from.name as string);
      this.remembered.add(person);
    }
  }
}

/**
 * An edit is handled once (Teams retries it as it does a message): it carries the message's own id, so it is
 * claimed under that id and its new words, apart from the message itself and from its other edits.
 */
function editClaim(a: TurnContext['activity']): string {
  // An undelete is not an edit (it may carry the words an edit had); restoring twice restores nothing more.
  if (a.type !== 'messageUpdate' || !a.id || (a.channelData as { eventType?: unknown } | undefined)?.eventType === 'undeleteMessage') return '';
  const words = createHash('sha256').update(typeof a.text === 'string' ? a.text : '').digest('hex').slice(0, 32);
  return `edit|${a.conversation?.id ?? ''}|${a.id}|${words}`;
}

/**
 * The words of `text` (every mention a name) before command `name`, when they are what stood between the message's
 * start and the command words: the first few word starts are tried, bounded, so a long message costs no more.
 */
function namesBefore(text: string, name: string): string {
  for (const m of text.matchAll(/\s+/g)) {
    const at = (m.index ?? 0) + m[0].length;
    if (at > 200) break;
    if (parseCommand(text.slice(at))?.command.name === name) return text.slice(0, at).trim();
  }
  return '';
}

/** A whole number from what a client sent, within [min, max]; `fallback` for anything else. */
function wholeNumber(value: unknown, fallback: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(value)));
}
