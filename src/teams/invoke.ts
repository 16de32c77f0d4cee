import { type Activity, INVOKE_RESPONSE_KEY, type InvokeResponse, type TurnContext } from 'botbuilder';
import type { Logger } from '../log.js';
import type { DedupeStore } from '../storage/dedupe.js';

/**
 * The edges of an invoke (a card action or a search from the compose box): what is refused before it is
 * handled, what a failed one answers, and how Teams' retry of one gets the answer the first attempt gave.
 */

/** The invokes this app handles; Teams sends no others to it (its manifest declares nothing else). */
const HANDLED = new Set(['adaptiveCard/action', 'composeExtension/query']);
const VERB_MAX = 100;

/** How long a retry waits for the first attempt's answer while that attempt is still running. */
const REPLAY_WAIT_MS = 5_000;
const REPLAY_POLL_MS = 200;

const CARD_MESSAGE = 'application/vnd.microsoft.activity.message';

/** An invoke that cannot be handled as sent: a 400 naming the problem; undefined when it can. */
export function invokeRefusal(activity: Partial<Activity>): InvokeResponse | undefined {
  const name = typeof activity.name === 'string' ? activity.name : '';
  if (!HANDLED.has(name)) {
    return errorResponse('NotSupported', `this app does not handle "${name.slice(0, 60)}" invokes`);
  }
  const value = activity.value as unknown;
  if (!isPlainObject(value)) return errorResponse('BadRequest', 'the invoke has no "value" object');
  if (name === 'composeExtension/query') {
    if (value.parameters !== undefined && !(Array.isArray(value.parameters) && value.parameters.every(isPlainObject)))
      return errorResponse('BadRequest', '"parameters" must be a list of objects');
    return undefined;
  }
  const action = value.action;
  if (!isPlainObject(action)) return errorResponse('BadRequest', 'the card action has no "action" object');
  if (action.type !== 'Action.Execute')
    return errorResponse('NotSupported', `the action type "${String(action.type).slice(0, 40)}" is not supported`);
  if (typeof action.verb !== 'string' || !action.verb || action.verb.length > VERB_MAX)
    return errorResponse('BadRequest', 'the card action has no valid "verb"');
  if (action.data !== undefined && !isPlainObject(action.data))
    return errorResponse('BadRequest', 'the card action\'s "data" must be an object');
  return undefined;
}

/** What an invoke that failed inside the turn answers: what went wrong, that nothing was lost, what to do. */
export function failedInvokeResponse(name: string | undefined): InvokeResponse {
  return messageResponse(
    name,
    'Sorry — that did not go through because of a problem on my side. Nothing was lost: try the button again in a moment.',
  );
}

/** The response the turn set for its invoke, if any. */
export function invokeResponseOf(context: TurnContext): InvokeResponse | undefined {
  const activity = context.turnState.get(INVOKE_RESPONSE_KEY) as { value?: InvokeResponse } | undefined;
  return activity?.value;
}

export async function answerInvoke(context: TurnContext, response: InvokeResponse): Promise<void> {
  await context.sendActivity({ type: 'invokeResponse', value: response });
}

const PLAIN_RETRY = Symbol('keep only "already handled" for a retry');

/**
 * What a retry of an invoke gets in place of the first answer when that answer was not kept on purpose: it named
 * someone just forgotten (`retryGetsPlainAnswer`), or it was too large to keep.
 */
export const ALREADY_HANDLED = 'Done — this was already handled.';

/**
 * Marks the turn's answer as one a retry must not repeat: it names someone who has just been forgotten (the
 * rollout team's "… is forgotten" card), and a kept copy would outlive the forget by a day.
 */
export function retryGetsPlainAnswer(context: TurnContext): void {
  context.turnState.set(PLAIN_RETRY, true);
}

/**
 * Saves the invoke's answer with its dedupe claim, so Teams' retry of it gets the same card. An answer too
 * large to keep is replaced by a short note (the retry still gets an answer, not an empty body). It is kept
 * under the clicker's ids with that note as its stand-in, so `forget` can replace what it may say about them.
 */
export async function keepInvokeResponse(
  dedupe: DedupeStore,
  claim: string,
  context: TurnContext,
  log: Logger,
): Promise<void> {
  const response = invokeResponseOf(context);
  if (!response) return;
  const handled = messageResponse(context.activity.name, ALREADY_HANDLED);
  const from = context.activity.from;
  try {
    if (context.turnState.get(PLAIN_RETRY)) {
      await dedupe.saveResult(claim, handled);
      return;
    }
    if (await dedupe.saveResult(claim, response, { owners: [from?.aadObjectId, from?.id], placeholder: handled })) return;
    await dedupe.saveResult(claim, handled);
  } catch (err) {
    // The user has their answer; only a retry of this invoke would miss it.
    log.warn({ err }, 'could not keep the invoke response for retries');
  }
}

/**
 * The answer for a repeat of an invoke: the first attempt's saved answer, waiting a little while that
 * attempt is still running; if it failed (its claim was given back), the failure answer, so the user retries.
 */
export async function replayedResponse(
  dedupe: DedupeStore,
  claim: string,
  saved: unknown,
  name: string | undefined,
  wait = { ms: REPLAY_WAIT_MS, pollMs: REPLAY_POLL_MS },
): Promise<InvokeResponse> {
  if (isInvokeResponse(saved)) return saved;
  const deadline = Date.now() + wait.ms;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, wait.pollMs));
    // Storage that does not answer now only means the saved answer cannot be read: say so, do not fail.
    const now = await dedupe.result(claim).catch(() => undefined);
    if (!now) break;
    if (now.state === 'saved' && isInvokeResponse(now.result)) return now.result;
    if (now.state === 'released') return failedInvokeResponse(name);
  }
  return messageResponse(name, 'Still working on your earlier click: try again in a moment.');
}

/** A short text answer, in the shape the invoke's sender shows. */
function messageResponse(name: string | undefined, text: string): InvokeResponse {
  if (name === 'composeExtension/query') {
    return { status: 200, body: { composeExtension: { type: 'message', text } } };
  }
  return { status: 200, body: { statusCode: 200, type: CARD_MESSAGE, value: text } };
}

function errorResponse(code: 'BadRequest' | 'NotSupported', message: string): InvokeResponse {
  // The shape botbuilder itself uses for a refused Universal Action (application/vnd.microsoft.error).
  return { status: 400, body: { statusCode: 400, type: 'application/vnd.microsoft.error', value: { code, message } } };
}

function isInvokeResponse(v: unknown): v is InvokeResponse {
  return isPlainObject(v) && typeof v.status === 'number';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
