import { randomBytes } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { marked, type Token } from 'marked';
import type { Clock } from '../clock.js';
import { allows } from '../roles/permissions.js';
import type { Actor, Role } from '../roles/roles.js';
import {
  collect,
  deleteIfThere,
  invertedTime,
  isConflict,
  isNotFound,
  isPreconditionFailed,
  mergeIfUnchanged,
  readableContinuationToken,
  safeKey,
  type Tables,
} from '../storage/tables.js';
import type { GuidanceSection } from './docs/types.js';
import { readEntity } from '../storage/entities.js';

/** An answer a champion wrote (or pointed to in the guidance) for a question the guidance missed. */
export interface CuratedAnswer {
  id: string;
  /** The question as first asked, and other wordings of it (the grouped gap's questions). */
  question: string;
  variants: string[];
  /** The answer in markdown, or … */
  answer?: string;
  /** … the id of the guidance section that answers it. */
  sectionId?: string;
  author: { id: string; name: string };
  createdAt: string;
  updatedAt: string;
  status: 'active' | 'retired';
  /** Bumped by every change; an edit names the version it was made from (ETag-guarded). */
  version: number;
  /** The gap group it closed, if any. */
  groupId?: string;
  /**
   * The newest version whose corrections (1:1s to those sent an earlier text) were all queued. Below `version`
   * from the edit's write until its turn has queued them: a turn that stopped in between left them owed, and any
   * Save of the same text (from any card) queues them again. Unset on answers last edited before it was kept.
   */
  toldVersion?: number;
}

/** Who acts on a curated answer, with the role the server looked up (never from card data). */
export interface CuratedActor {
  actor: Actor;
  role: Role;
}

export type CuratedResult =
  | { ok: true; answer: CuratedAnswer }
  | { ok: false; reason: 'forbidden' | 'not-found' | 'invalid' | 'conflict'; message: string; current?: CuratedAnswer };

export interface CuratedInput {
  question: string;
  variants?: string[];
  answer?: string;
  sectionId?: string;
  groupId?: string;
}

type CuratedEntity = {
  partitionKey: string;
  rowKey: string;
  question: string;
  variants: string;
  answer?: string;
  sectionId?: string;
  author: string;
  createdAt: string;
  updatedAt: string;
  status: 'active' | 'retired';
  version: number;
  groupId?: string;
  toldVersion?: number;
};

/*
 * Table `FaqCurated`: PK = 'curated', RK = id (inverted creation time + random: newest first).
 *   - the engine's list of active answers and the `curated` list (paged, newest first): one
 *     partition query; there are hundreds of curated answers, not millions;
 *   - one answer by id (edit, retire, the card's buttons): point read;
 *   - edits are ETag-guarded merges; `version` tells a stale card from a fresh one; `toldVersion` is the newest
 *     version whose corrections were all queued (an edit's write leaves it behind `version`; the turn that
 *     queued them moves it up), so a correction owed by a turn that stopped part-way is found from any card.
 *   PK = 'group', RK = the gap group's id → `curatedId`: the answer that closed the group, created before
 *   the answer, so two champions (or one double click) answering the same gap make one answer, not two.
 * Table `FaqCuratedNotices`: PK = curated id, RK = the told user's key (Entra id or Teams id).
 *   - "tell each asker once, across instances": a row is created before the 1:1 is sent; a second
 *     instance's create fails with 409 and it doesn't send. The claim stays once made: the 1:1 is queued in the
 *     outbox (which retries a failed send), and the Save pressed again names the claimed to queue it again.
 *   - the row keeps who was told and under which wording (`asker`, `question`, `questionId`), so an edit
 *     of the answer reaches the same people with one partition query (rows from before hold only `at`);
 *     and the answer's `version` they were first sent (rows from before hold only `at`, compared with the
 *     answer's `updatedAt`), so a repeated Save of an edit corrects only those sent an earlier text.
 */
const PARTITION = 'curated';
const GROUPS = 'group';
/** A gap claim with no answer after this long lost its answer to a crash (a write's deadline is seconds). */
const STALE_CLAIM_MS = 60_000;
export const MAX_ANSWER_CHARS = 4000;
const MAX_QUESTION_CHARS = 500;
const MAX_VARIANTS = 20;

export class CuratedStore {
  private constructor(
    private readonly answers: TableClient,
    private readonly notices: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<CuratedStore> {
    return new CuratedStore(await tables.table('FaqCurated'), await tables.table('FaqCuratedNotices'), clock);
  }

  async get(id: string): Promise<CuratedAnswer | undefined> {
    if (!/^[0-9a-f]{13,40}$/.test(id)) return undefined;
    const e = await readEntity<CuratedEntity>(this.answers, PARTITION, id);
    return e ? fromEntity(e) : undefined;
  }

  /** Every active answer, for the engine (newest first). */
  async active(): Promise<CuratedAnswer[]> {
    const rows = await collect(
      this.answers.listEntities<CuratedEntity>({
        queryOptions: { filter: `PartitionKey eq '${PARTITION}' and status eq 'active'` },
      }),
    );
    return rows.map(fromEntity);
  }

  /** One page of the `curated` list, newest first; `next` continues it. */
  async page(
    options: { status?: 'active' | 'retired'; size?: number; next?: string } = {},
  ): Promise<{ items: CuratedAnswer[]; next?: string }> {
    const size = Math.min(Math.max(1, options.size ?? 10), 50);
    let filter = `PartitionKey eq '${PARTITION}'`;
    if (options.status) filter += ` and status eq '${options.status}'`;
    const pages = this.answers
      .listEntities<CuratedEntity>({ queryOptions: { filter } })
      // A token the SDK cannot read (a forged card) starts the list again.
      .byPage({ maxPageSize: size, continuationToken: readableContinuationToken(options.next) });
    const first = await pages.next();
    if (first.done) return { items: [] };
    const page = first.value;
    return {
      items: page.map(fromEntity),
      ...(page.continuationToken ? { next: page.continuationToken } : {}),
    };
  }

  /** A new answer's id (newest first), taken before `create` so a gap group can be claimed for it. */
  newId(): string {
    return `${invertedTime(this.clock.now())}${randomBytes(4).toString('hex')}`;
  }

  /**
   * Claims gap group `groupId` for answer `id`, across instances: undefined when this call got it, else the
   * id of the answer that has it. A claim whose answer was never written (a crash in between) is taken over
   * once it is older than any write could take; a younger one's answer may be being written right now.
   */
  async claimGroup(groupId: string, id: string): Promise<string | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.answers.createEntity({ partitionKey: GROUPS, rowKey: safeKey(groupId), curatedId: id, at: this.clock.now().toISOString() });
        return undefined;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      const held = await readEntity<{ curatedId: string; at?: string }>(this.answers, GROUPS, safeKey(groupId));
      if (!held) continue;
      if (await this.get(held.curatedId)) return held.curatedId;
      if (this.clock.now().getTime() - Date.parse(held.at ?? '') < STALE_CLAIM_MS) return held.curatedId;
      await this.releaseGroup(groupId, held.curatedId);
    }
    throw new Error(`could not claim gap group ${groupId}`);
  }

  /** Gives gap group `groupId` back, if answer `id` holds it (its answer failed, or was retired). */
  async releaseGroup(groupId: string, id: string): Promise<void> {
    const held = await readEntity<{ curatedId: string }>(this.answers, GROUPS, safeKey(groupId));
    if (held?.curatedId !== id) return;
    try {
      await this.answers.deleteEntity(GROUPS, safeKey(groupId), { etag: held.etag });
    } catch (err) {
      if (!isNotFound(err) && !isPreconditionFailed(err)) throw err;
    }
  }

  async create(
    input: Required<Pick<CuratedInput, 'question'>> & CuratedInput,
    author: Actor,
    id = this.newId(),
  ): Promise<CuratedAnswer> {
    const now = this.clock.now();
    const entity: CuratedEntity = {
      partitionKey: PARTITION,
      rowKey: id,
      question: input.question,
      variants: JSON.stringify(input.variants ?? []),
      author: JSON.stringify({ id: author.aadObjectId ?? author.id, name: author.name }),
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      status: 'active',
      version: 1,
    };
    if (input.answer) entity.answer = input.answer;
    if (input.sectionId) entity.sectionId = input.sectionId;
    if (input.groupId) entity.groupId = input.groupId;
    await this.answers.createEntity(entity);
    return fromEntity(entity);
  }

  /**
   * Applies a change if the answer is still at `version` (and its ETag unchanged): two champions
   * editing at once, one wins and the other is told, with the current answer.
   */
  async update(
    id: string,
    version: number,
    change: Partial<Pick<CuratedAnswer, 'answer' | 'sectionId' | 'status' | 'variants'>>,
  ): Promise<CuratedResult> {
    const found = await readEntity<CuratedEntity>(this.answers, PARTITION, id);
    if (!found) return { ok: false, reason: 'not-found', message: 'That curated answer no longer exists.' };
    let current = found;
    const stale = (): CuratedResult => ({
      ok: false,
      reason: 'conflict',
      message: 'Someone changed this answer since your card was shown; here is the current one.',
      current: fromEntity(current),
    });
    if (current.version !== version) return stale();
    const next: Record<string, unknown> = {
      partitionKey: PARTITION,
      rowKey: id,
      version: version + 1,
      updatedAt: this.clock.now().toISOString(),
    };
    if (change.status) next.status = change.status;
    if (change.variants) next.variants = JSON.stringify(change.variants);
    // An answer is either written text or a pointer to a section: setting one clears the other.
    if (change.answer !== undefined) Object.assign(next, { answer: change.answer, sectionId: '' });
    if (change.sectionId !== undefined) Object.assign(next, { sectionId: change.sectionId, answer: '' });
    // A new text owes corrections until they are queued (`markTold`): written with the change, so a turn that
    // stops right after it leaves them owed where any later Save finds them.
    if (change.answer !== undefined || change.sectionId !== undefined) next.toldVersion = current.toldVersion ?? version;
    if (!(await mergeIfUnchanged(this.answers, next as CuratedEntity, current.etag))) {
      current = await this.answers.getEntity<CuratedEntity>(PARTITION, id);
      return stale();
    }
    return { ok: true, answer: fromEntity({ ...current, ...(next as Partial<CuratedEntity>) }) };
  }

  /**
   * Records that every correction of answer `id` at `version` was queued (monotonic, ETag-guarded): a later Save
   * of the same text then owes nobody anything. Nothing is written when the answer has moved past it or it is
   * recorded already.
   */
  async markTold(id: string, version: number): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await readEntity<CuratedEntity>(this.answers, PARTITION, id);
      if (!found || found.version < version || (found.toldVersion ?? 0) >= version) return;
      if (await mergeIfUnchanged(this.answers, { partitionKey: PARTITION, rowKey: id, toldVersion: version }, found.etag)) return;
    }
  }

  // ---- privacy (src/faq/privacy.ts) ---------------------------------------------------------------------

  /** Every answer, active or retired (one partition: hundreds, not millions). */
  async all(): Promise<CuratedAnswer[]> {
    const rows = await collect(this.answers.listEntities<CuratedEntity>({ queryOptions: { filter: `PartitionKey eq '${PARTITION}'` } }));
    return rows.map(fromEntity);
  }

  /** The answer stays (it is the organisation's), credited to `stand`; its version is unchanged (no edit). */
  async replaceAuthor(id: string, stand: { id: string; name: string }): Promise<void> {
    await this.answers.updateEntity({ partitionKey: PARTITION, rowKey: id, author: JSON.stringify(stand) }, 'Merge');
  }

  /** Whether `userKey` was told of answer `id` (a point read). */
  async wasTold(id: string, userKey: string): Promise<boolean> {
    return (await readEntity(this.notices, id, safeKey(userKey))) !== undefined;
  }

  /** Claims the right to tell `userKey` about answer `id`: true once per pair, across instances. */
  async claimNotice(id: string, userKey: string, told?: ToldOf, version?: number): Promise<boolean> {
    try {
      await this.notices.createEntity({
        partitionKey: id,
        rowKey: safeKey(userKey),
        at: this.clock.now().toISOString(),
        ...(told ? { asker: JSON.stringify(told.asker), question: told.question, questionId: told.questionId } : {}),
        ...(version !== undefined ? { version } : {}),
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /**
   * Who was told of answer `id`, up to `limit` of them, with the wording each asked in where it was kept, when they
   * were told (`at`) and of which version of the answer (`version`; rows from before it was kept hold only `at`).
   */
  async toldOf(id: string, limit: number): Promise<ToldRow[]> {
    return (await collect(this.notices.listEntities<NoticeEntity>({ queryOptions: { filter: odata`PartitionKey eq ${id}` } }), limit)).map(toldRowOf);
  }

  /**
   * One page (at most `size`) of who was told of answer `id`, as `toldOf` gives them; `next` continues it (an edit's
   * corrections past the page its turn reads are sent off the turn, a page at a time).
   */
  async toldPage(id: string, size: number, next?: string): Promise<{ rows: ToldRow[]; next?: string }> {
    const pages = this.notices
      .listEntities<NoticeEntity>({ queryOptions: { filter: odata`PartitionKey eq ${id}` } })
      .byPage({ maxPageSize: size, continuationToken: readableContinuationToken(next) });
    const first = await pages.next();
    if (first.done) return { rows: [] };
    return { rows: first.value.map(toldRowOf), ...(first.value.continuationToken ? { next: first.value.continuationToken } : {}) };
  }

  /**
   * Retention: deletes up to `limit` records that someone was told of an answer, told before `before`.
   * A scheduled job's filter over the whole (small) table, never a user's path. Nobody is told again:
   * askers are looked for only when an answer is written.
   */
  async expireNotices(before: Date, limit: number): Promise<number> {
    const old = await collect(
      this.notices.listEntities({ queryOptions: { filter: odata`at lt ${before.toISOString()}`, select: ['PartitionKey', 'RowKey'] } }),
      limit,
    );
    for (const row of old) await this.deleteNotice(String(row.partitionKey), String(row.rowKey));
    return old.length;
  }

  /** Deletes the record that `userKey` was told of answer `id` (forget: nothing of theirs is kept). */
  releaseNotice(id: string, userKey: string): Promise<void> {
    return this.deleteNotice(id, safeKey(userKey));
  }

  private async deleteNotice(id: string, rowKey: string): Promise<void> {
    await deleteIfThere(this.notices, id, rowKey);
  }
}

/** One record that someone was told of an answer. */
interface ToldRow {
  userKey: string;
  told?: ToldOf;
  /** When they were first sent it (ISO). */
  at?: string;
  /** The answer's version they were first sent (rows from before it was kept have none). */
  version?: number;
}

/** Who was told of an answer, and under which wording of theirs. */
export interface ToldOf {
  asker: Actor;
  question: string;
  questionId: string;
}

type NoticeEntity = { rowKey: string; asker?: string; question?: string; questionId?: string; at?: string; version?: number };

function toldRowOf(r: NoticeEntity): ToldRow {
  const asker = parseAsker(r.asker);
  return {
    userKey: r.rowKey,
    ...(asker && r.question ? { told: { asker, question: r.question, questionId: r.questionId ?? '' } } : {}),
    ...(typeof r.at === 'string' ? { at: r.at } : {}),
    ...(typeof r.version === 'number' ? { version: r.version } : {}),
  };
}

function parseAsker(json: string | undefined): Actor | undefined {
  if (!json) return undefined;
  try {
    const a = JSON.parse(json) as Partial<Actor>;
    return typeof a.id === 'string' && typeof a.name === 'string'
      ? { id: a.id, name: a.name, ...(typeof a.aadObjectId === 'string' ? { aadObjectId: a.aadObjectId } : {}) }
      : undefined;
  } catch {
    return undefined;
  }
}

function fromEntity(e: CuratedEntity): CuratedAnswer {
  const out: CuratedAnswer = {
    id: e.rowKey,
    question: e.question,
    variants: JSON.parse(e.variants || '[]') as string[],
    author: JSON.parse(e.author) as { id: string; name: string },
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    status: e.status,
    version: e.version,
  };
  if (e.answer) out.answer = e.answer;
  if (e.sectionId) out.sectionId = e.sectionId;
  if (e.groupId) out.groupId = e.groupId;
  if (typeof e.toldVersion === 'number') out.toldVersion = e.toldVersion;
  return out;
}

/** Checks a champion's input; a message naming what is wrong, or undefined when it is fine. */
export function checkInput(
  input: CuratedInput,
  sectionExists: (id: string) => boolean,
): string | undefined {
  if (!input.question.trim()) return 'The question is empty.';
  if (input.question.length > MAX_QUESTION_CHARS) return `The question is longer than ${MAX_QUESTION_CHARS} characters.`;
  const answer = input.answer?.trim() ?? '';
  const section = input.sectionId?.trim() ?? '';
  if (!answer && !section) return 'Write an answer, or pick the guidance section that answers it.';
  if (answer && section) return 'Give either a written answer or a guidance section, not both.';
  if (answer.length > MAX_ANSWER_CHARS) return `The answer is longer than ${MAX_ANSWER_CHARS} characters.`;
  if (section && !sectionExists(section)) return 'That guidance section no longer exists; pick another.';
  if ((input.variants?.length ?? 0) > MAX_VARIANTS) return `At most ${MAX_VARIANTS} other wordings.`;
  return undefined;
}

/** Champions and the rollout team curate answers; staff never (card data can be forged, so this is asked here). */
export function mayCurate(role: Role): boolean {
  return allows(role, 'faq.curate');
}

/** The doc path curated answers are indexed under, so a hit is told from a guidance section. */
export const CURATED_DOC = 'curated-answers';

/**
 * A curated answer as a section the engine ranks with the guidance, by the same rules: its
 * heading is the question, its text the other wordings and the answer (or the pointed-to
 * section's text). It only wins when it scores best, so it never shadows a better section.
 */
export function curatedSection(answer: CuratedAnswer, pointed?: GuidanceSection): GuidanceSection {
  const body = answer.answer ?? pointed?.text ?? '';
  const text = [...answer.variants, body].filter(Boolean).join('\n\n');
  return {
    id: `${CURATED_DOC}#${answer.id}`,
    doc: CURATED_DOC,
    docTitle: 'Answered by a champion',
    heading: answer.question,
    headingPath: [answer.question],
    anchor: answer.id,
    level: 2,
    text,
    markdown: answer.answer ?? pointed?.markdown ?? '',
  };
}

/** "Answered by a champion, 12 Jan 2027" — or by name when the rollout team allows it. */
export function citation(answer: CuratedAnswer, showAuthor: boolean): string {
  const date = new Date(answer.updatedAt).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
  return `Answered by ${showAuthor ? answer.author.name : 'a champion'}, ${date}`;
}

/**
 * The curated answers as markdown ready to paste into the guidance: one `##` section per answer,
 * headed by its question, with the other wordings as a note, so the docs themselves improve.
 */
export function exportMarkdown(answers: CuratedAnswer[], sectionText: (id: string) => string | undefined): string {
  const parts = ['# Answers from champions', ''];
  for (const answer of answers) {
    parts.push(`## ${plainMarkdown(answer.question.replace(/\s+/g, ' ').trim())}`, '');
    const body = answer.answer ?? (answer.sectionId ? sectionText(answer.sectionId) : undefined);
    parts.push((body?.trim() && containedMarkdown(body.trim())) || '_(the guidance section this pointed to no longer exists)_', '');
    if (answer.variants.length > 0) {
      parts.push(`<!-- also asked as: ${answer.variants.map(commentText).join(' | ')} -->`, '');
    }
  }
  return `${parts.join('\n').trimEnd()}\n`;
}

/** Marks the end of an answer while it is checked: an answer that leaves a block open swallows it. */
const END_MARK = '# end of answer';
/** Rounds of escaping before an answer is given up on and exported as a code block, verbatim. */
const CONTAIN_ROUNDS = 20;

/**
 * An answer as markdown that stays inside its own entry of the export: a line of its own that reads as a heading
 * (`## Something`, or a line underlined with `---` or `===`) has its marker escaped, so the reader sees the same
 * line and the file does not gain an entry; a code block or an HTML comment (or `<pre>`, `<script>` …) it leaves
 * open — which would run on over every answer after it — is closed, or its opening escaped. Headings are found
 * by the lexer the guidance is read with (never by regular expressions over lines: code blocks hold `#` lines).
 */
function containedMarkdown(answer: string): string {
  let text = answer.replace(/\r\n?/g, '\n');
  for (let round = 0; round < CONTAIN_ROUNDS; round++) {
    const tokens: Token[] = marked.lexer(`${text}\n\n${END_MARK}`, { gfm: true });
    const last = tokens.at(-1);
    const open = !(last?.type === 'heading' && last.raw === END_MARK);
    const own = open ? tokens : tokens.slice(0, -1);
    let changed = false;
    const raws = own.map((t, i) => {
      let raw = t.raw;
      if (open && i === own.length - 1) {
        raw = raw.slice(0, raw.length - `\n\n${END_MARK}`.length);
        const fence = t.type === 'code' ? /^ {0,3}(`{3,}|~{3,})/.exec(raw)?.[1] : undefined;
        if (fence) raw = `${raw.replace(/\n*$/, '')}\n${fence}`;
        else if (t.type === 'html') raw = raw.replace(/^( {0,3})</, '$1\\<');
        else return raw;
        changed = true;
      } else if (t.type === 'heading') {
        raw = /^ {0,3}#/.test(raw) ? raw.replace(/^( {0,3})#/, '$1\\#') : raw.replace(/(^|\n)( {0,3})([=-][^\n]*\n?)$/, '$1$2\\$3');
        changed = true;
      }
      return raw;
    });
    if (!changed) return open ? verbatim(text) : text;
    // Less the blank line the end mark was put after.
    text = raws.join('').trimEnd();
  }
  return verbatim(text);
}

/** Text as a fenced code block whose fence no line of it can close. */
function verbatim(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${text}\n${fence}`;
}

/**
 * An asker's wording as literal text in markdown: it is staff's, not the guidance's, so none of it may
 * become HTML, a link or formatting once pasted into the docs.
 */
function plainMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_{}[\]()#+!|~]/g, '\\$&');
}

/** Text that cannot end (or nest) the HTML comment it is put in: no "--" at all ("-->", "--!>"), no tags. */
function commentText(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/-{2,}/g, '-').replace(/</g, '\u2039').replace(/>/g, '\u203A');
}

/** How long after asking someone is still told when their question gets a curated answer. */
export const TELL_WITHIN_DAYS = 30;
