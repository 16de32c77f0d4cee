import { z } from 'zod';

/**
 * The envelope of an activity as Bot Framework sends it: the fields the bot and botbuilder read without
 * checking (from.id, conversation.id, recipient.id, entities, …) must have the type they are read as. A
 * body that breaks one is answered 400 naming the field, before anything is done with it. Other fields
 * (value, attachments' content, channelData's extras) pass through: their readers check them.
 */

const text = z.string();
/** Bot Framework ids are printable ASCII (`29:…`, `19:…@thread.tacv2;messageid=…`); they travel in URLs and headers. */
const id = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[\x21-\x7E]+$/, 'must be printable ASCII');
/**
 * A reply copies the sender, the bot and the conversation into what botbuilder serialises for the connector,
 * which throws on a field of the wrong type (e.g. `conversation.aadObjectId: -1`): the turn would fail after
 * the bot had acted. Null is what the serialiser accepts as absent.
 */
const account = z.looseObject({ id, name: text.optional(), aadObjectId: text.optional(), role: text.nullish() });
const idHolder = z.looseObject({ id: text.optional(), name: text.optional() });
/** Where replies go: an absolute http(s) URL (Teams: https://smba.trafficmanager.net/…; Playground: http). */
const serviceUrl = text.max(2048).refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
  message: 'must be an http(s) URL',
});

const envelope = z.looseObject({
  type: z.string().min(1).max(64),
  id: id.optional(),
  name: text.optional(),
  serviceUrl: serviceUrl.optional(),
  channelId: text.max(64).optional(),
  from: account,
  recipient: account,
  conversation: z.looseObject({
    id,
    conversationType: text.optional(),
    tenantId: text.optional(),
    name: text.optional(),
    aadObjectId: text.nullish(),
    role: text.nullish(),
    isGroup: z.boolean().nullish(),
  }),
  channelData: z
    .looseObject({ tenant: idHolder.optional(), team: idHolder.optional(), channel: idHolder.optional() })
    .optional(),
  text: text.optional(),
  textFormat: text.optional(),
  locale: text.max(64).optional(),
  replyToId: id.optional(),
  deliveryMode: text.optional(),
  action: text.optional(),
  entities: z.array(z.looseObject({ type: text })).optional(),
  attachments: z.array(z.looseObject({ contentType: text.optional() })).optional(),
  membersAdded: z.array(account).optional(),
  membersRemoved: z.array(account).optional(),
  timestamp: text.optional(),
  localTimestamp: text.optional(),
});

/** Teams activities whose handling botbuilder picks by `channelData.eventType`, read without a check. */
const NEEDS_CHANNEL_DATA = new Set(['messageUpdate', 'messageDelete', 'conversationUpdate']);

/** Why a body is not an activity, or undefined when it looks like one. */
export function activityProblem(body: unknown): string | undefined {
  if (body === undefined || body === null || body === '') return 'the body is empty; expected a JSON activity';
  if (typeof body !== 'object' || Array.isArray(body)) return 'the body is not a JSON object; expected an activity';
  const a = body as Record<string, unknown>;
  if (typeof a.type !== 'string' || !a.type) return 'the activity has no "type"';
  // Even an invoke, answered in its own response, may send messages (e.g. a new form): it needs a serviceUrl.
  if (typeof a.serviceUrl !== 'string') return 'the activity has no "serviceUrl"';
  // The id is what makes Teams' retry of a message or card action one effect (the retry guard's claim):
  // Teams always sends it, and without it a repeat would act twice.
  if ((a.type === 'message' || a.type === 'invoke') && a.id === undefined) return `${a.type === 'invoke' ? 'an' : 'a'} ${a.type} activity has no "id"`;
  if (NEEDS_CHANNEL_DATA.has(a.type) && a.channelId === 'msteams' && !a.channelData)
    return `a Teams ${a.type} has no "channelData"`;
  const parsed = envelope.safeParse(body);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  return issue.code === 'invalid_type' && /received undefined/.test(issue.message)
    ? `the activity has no "${field}"`
    : `the activity's "${field}" is not valid (${issue.message})`;
}
