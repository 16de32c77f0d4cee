import { z } from 'zod';

/**
 * The envelope of an activity as Bot Framework sends it: the fields the bot and botbuilder read without
 * checking (from.id, conversation.id, recipient.id, entities, …) must have the type they are read as. A
 * body that breaks one is answered 400 naming the field, before anything is done with it. Other fields
 * (value, attachments' content, channelData's extras) pass through: their readers check them.
 */

const text = z.string();
const id = z.string().min(1).max(1024);
const account = z.looseObject({ id, name: text.optional(), aadObjectId: text.optional() });
const idHolder = z.looseObject({ id: text.optional(), name: text.optional() });
/** Where replies go: an absolute http(s) URL (Teams: https://smba.trafficmanager.net/…; Playground: http). */
const serviceUrl = text.max(2048).refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
  message: 'must be an http(s) URL',
});

const envelope = z.looseObject({
  type: z.string().min(1).max(64),
  id: text.max(1024).optional(),
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
  }),
  channelData: z
    .looseObject({ tenant: idHolder.optional(), team: idHolder.optional(), channel: idHolder.optional() })
    .optional(),
  text: text.optional(),
  textFormat: text.optional(),
  locale: text.max(64).optional(),
  replyToId: text.max(1024).optional(),
  deliveryMode: text.optional(),
  action: text.optional(),
  entities: z.array(z.looseObject({ type: text })).optional(),
  attachments: z.array(z.looseObject({ contentType: text.optional() })).optional(),
  membersAdded: z.array(account).optional(),
  membersRemoved: z.array(account).optional(),
  timestamp: text.optional(),
  localTimestamp: text.optional(),
});

/** Why a body is not an activity, or undefined when it looks like one. */
export function activityProblem(body: unknown): string | undefined {
  if (body === undefined || body === null || body === '') return 'the body is empty; expected a JSON activity';
  if (typeof body !== 'object' || Array.isArray(body)) return 'the body is not a JSON object; expected an activity';
  const a = body as Record<string, unknown>;
  if (typeof a.type !== 'string' || !a.type) return 'the activity has no "type"';
  // Only an invoke is answered in its own response, so only an invoke may come without a serviceUrl.
  if (typeof a.serviceUrl !== 'string' && a.type !== 'invoke') return 'the activity has no "serviceUrl"';
  const parsed = envelope.safeParse(body);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  return issue.code === 'invalid_type' && /received undefined/.test(issue.message)
    ? `the activity has no "${field}"`
    : `the activity's "${field}" is not valid (${issue.message})`;
}
