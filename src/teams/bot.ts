import { randomUUID } from 'node:crypto';
import {
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  CardFactory,
  type MessagingExtensionQuery,
  type MessagingExtensionResponse,
  TeamsActivityHandler,
  type TurnContext,
} from 'botbuilder';
import type { AdaptiveCard } from '../cards/template.js';
import { type CommandName, parseCommand } from '../commands.js';
import { CHANNEL_ROLES, type ChannelRole, type ConversationStore } from '../conversations/store.js';
import type { Logger } from '../log.js';
import {
  ACTION_ROLES,
  type Actor,
  type GuardedAction,
  type Role,
  type Roles,
  roleAtLeast,
} from '../roles/roles.js';
import type { DedupeStore } from '../storage/dedupe.js';
import {
  answerInvoke,
  failedInvokeResponse,
  invokeRefusal,
  invokeResponseOf,
  keepInvokeResponse,
  replayedResponse,
} from './invoke.js';
import { toActivity } from './sender.js';
import { actorOf, storedConversationOf, textWithoutMention } from './turn.js';
import { helpCard, welcomeCard, whoAmICard } from './views.js';

/** What a handler knows about the turn it runs in. */
export interface Turn {
  context: TurnContext;
  actor: Actor;
  role: Role;
  log: Logger;
  /** Replies in the conversation (in a channel thread: in that thread). */
  reply(out: string | AdaptiveCard): Promise<void>;
  /** Checks a role on the server; replies with a refusal and returns false when not allowed. */
  require(action: GuardedAction): Promise<boolean>;
  /** The same for a least role (features that name roles, e.g. the issue log's verbs). */
  requireRole(needed: Role): Promise<boolean>;
}

export type CommandHandler = (turn: Turn, args: string) => Promise<void>;

/** The answer to a card action: a card that replaces the one clicked, and/or a message. */
export interface CardActionResult {
  card?: AdaptiveCard;
  message?: string;
}
export type CardActionHandler = (turn: Turn, data: Record<string, unknown>) => Promise<CardActionResult>;

export type QuestionHandler = (turn: Turn, text: string) => Promise<void>;
export type SearchHandler = (
  turn: Turn,
  query: string,
) => Promise<{ title: string; subtitle: string; card: AdaptiveCard }[]>;

export interface BotDeps {
  log: Logger;
  roles: Roles;
  conversations: ConversationStore;
  dedupe: DedupeStore;
  systemName: string;
  localMode: boolean;
}

const REFUSAL: Record<Role, string> = {
  staff: 'That is for champions and the rollout team. If you need it, ask your rollout team.',
  champion: 'That is for the rollout team only.',
  rolloutTeam: 'You are not allowed to do that.',
};

export function refusalFor(role: Role): string {
  return REFUSAL[role];
}

/**
 * Turns Teams activities into calls on the features. Features register commands, card actions (by verb),
 * a question handler and a search handler; nothing outside src/teams sees a TurnContext.
 */
export class RolloutDeskBot extends TeamsActivityHandler {
  private readonly commands = new Map<CommandName, CommandHandler>();
  private readonly actions = new Map<string, CardActionHandler>();
  private questionHandler: QuestionHandler | undefined;
  private searchHandler: SearchHandler | undefined;
  private readonly remembered = new Set<string>();

  constructor(private readonly deps: BotDeps) {
    super();
    this.command('help', async (turn) => turn.reply(helpCard(turn.role)));
    this.command('whoami', async (turn) => turn.reply(whoAmICard(turn.actor, turn.role)));
    for (const role of CHANNEL_ROLES) this.command(`setup ${role}`, (turn) => this.setupChannel(turn, role));

    this.onMessage(async (context, next) => {
      await this.handleMessage(context);
      await next();
    });
    this.onInstallationUpdateAdd(async (context, next) => {
      await this.greet(context);
      await next();
    });
  }

  command(name: CommandName, handler: CommandHandler): this {
    this.commands.set(name, handler);
    return this;
  }

  action(verb: string, handler: CardActionHandler): this {
    this.actions.set(verb, handler);
    return this;
  }

  onQuestion(handler: QuestionHandler): this {
    this.questionHandler = handler;
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
    const log = this.deps.log.child({
      corr: randomUUID(),
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
    const claim = (a.type === 'message' || a.type === 'invoke') && a.id ? `${a.conversation?.id ?? ''}|${a.id}` : '';
    if (claim) {
      const claimed = await this.deps.dedupe.claimWithResult(claim);
      if (!claimed.first) {
        log.info('repeat of an activity already handled (Teams retry); not handled again');
        if (a.type === 'invoke')
          await answerInvoke(context, await replayedResponse(this.deps.dedupe, claim, claimed.result, a.name));
        return;
      }
    }
    try {
      if (a.type === 'message' || a.type === 'invoke' || a.type === 'installationUpdate') {
        await this.remember(context);
      }
      await super.run(context);
      if (claim && a.type === 'invoke') await keepInvokeResponse(this.deps.dedupe, claim, context, log);
      log.info({ ms: Date.now() - started }, 'activity handled');
    } catch (err) {
      log.error({ err, ms: Date.now() - started }, 'activity failed');
      // Nothing was done for this activity: let Teams' retry of it be handled instead of dropped as a repeat.
      if (claim) await this.deps.dedupe.release(claim);
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
    const text = String(query.parameters?.find((p) => p.name === 'query')?.value ?? '').trim();
    const turn = await this.turn(context);
    const found = this.searchHandler && text ? await this.searchHandler(turn, text) : [];
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
      if (result.message) await context.sendActivity(result.message);
      return;
    }
    const text = textWithoutMention(context);
    const turn = await this.turn(context);
    if (!text) {
      await turn.reply(helpCard(turn.role));
      return;
    }
    const cmd = parseCommand(text);
    if (cmd) {
      const handler = this.commands.get(cmd.name);
      if (handler) return handler(turn, cmd.args);
      await turn.reply(`"${cmd.name}" is not available yet.`);
      return;
    }
    if (this.questionHandler) return this.questionHandler(turn, text);
    await turn.reply(helpCard(turn.role));
  }

  private async runAction(context: TurnContext, verb: string, data: Record<string, unknown>) {
    const handler = this.actions.get(verb);
    const turn = await this.turn(context);
    if (!handler) {
      turn.log.warn({ verb }, 'unknown card action');
      return { message: 'This button is no longer supported. Please start again from a new message.' };
    }
    return handler(turn, data);
  }

  private async turn(context: TurnContext): Promise<Turn> {
    const actor = actorOf(context);
    const role = await this.deps.roles.roleOf(actor);
    const log = (context.turnState.get('log') as Logger | undefined) ?? this.deps.log;
    const turn: Turn = {
      context,
      actor,
      role,
      log,
      reply: async (out) => {
        await context.sendActivity(toActivity(out));
      },
      require: async (action) => turn.requireRole(ACTION_ROLES[action]),
      requireRole: async (needed) => {
        if (roleAtLeast(role, needed)) return true;
        log.warn({ needed, role }, 'refused: role too low');
        // An invoke answers in its response (the handler says why); a message gets the refusal as a reply.
        if (context.activity.type === 'message') await turn.reply(refusalFor(role));
        return false;
      },
    };
    return turn;
  }

  private async greet(context: TurnContext): Promise<void> {
    await this.remember(context);
    // Teams sends both installationUpdate and conversationUpdate on install: greet once per conversation.
    if (!(await this.deps.dedupe.claim(`welcome|${context.activity.conversation.id}`))) return;
    await context.sendActivity(toActivity(welcomeCard(this.deps.systemName, this.deps.localMode)));
  }

  private async remember(context: TurnContext): Promise<void> {
    const conv = storedConversationOf(context);
    const key = `${conv.conversationId}|${conv.user?.id ?? ''}|${conv.serviceUrl}`;
    if (this.remembered.has(key)) return;
    await this.deps.conversations.remember(conv);
    this.remembered.add(key);
  }

  private async setupChannel(turn: Turn, role: ChannelRole): Promise<void> {
    if (!(await turn.require('channel.setup'))) return;
    const conv = storedConversationOf(turn.context);
    if (conv.conversationType !== 'channel') {
      await turn.reply(
        `Run "setup ${role}" in the team channel you want to use for ${role}, by @mentioning me there.`,
      );
      return;
    }
    await this.deps.conversations.setChannelRole(
      role,
      { ...conv, updatedAt: '' },
      turn.actor.aadObjectId ?? turn.actor.id,
    );
    turn.log.info({ role, channel: conv.conversationId }, 'channel role set');
    await turn.reply(`Done: this channel is now the ${role} channel. I will post ${role} messages here.`);
  }
}
