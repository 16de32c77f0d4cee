import { createHash } from 'node:crypto';
import { isStopWord } from '../text/stopwords.js';
import { stemmer } from 'stemmer';
import type { AskedQuestion } from './questions.js';

/** A group of questions that ask the same thing, for the rollout team's docs to-do list. */
export interface GapGroup {
  /**
   * The group's key, the same whichever of its questions a turn sees first: made from the content words of
   * its seed (oldest) question, so turns racing on the same question agree on one "Answer this" card even
   * when an older question's write lands after a newer one's turn has looked (see `gapKey`).
   */
  id: string;
  /** Every question in the group (the champion's answer is sent to all their askers). */
  questionIds: string[];
  /** The most recent wording, as the example shown. */
  example: string;
  count: number;
  unanswered: number;
  notHelpful: number;
  askers: number;
  lastAskedAt: string;
  questions: string[];
  /** The seed's content words (stemmed, sorted): what its card is matched by. */
  terms: string[];
  /**
   * The UTC days its questions were asked, oldest first: its card is looked up among the cards claimed on these
   * days, so a group keeps the card its questions were shown on whichever side of midnight they fell.
   */
  days: string[];
  /**
   * When the view it comes from was read (ISO): of two views of one card, the later one is the newer when it
   * counts fewer questions (some aged out of the window), not a stale one (see `FaqService.gapCard`).
   */
  seenAt?: string;
  /** Asked again since a champion answered the group it came from: that answer did not help these askers. */
  again?: boolean;
}

/** An "Answer this" card posted for a gap: its key and the words of the group it was posted for. */
export interface GapClaim {
  key: string;
  terms: string[];
  /**
   * 0 on a claim written since the card's redraw counter has a row of its own (`GapCardVersion`). On a claim
   * written before, the counter as it was kept then, with the claim of each day (read once, to carry it over),
   * and what that version showed (`n`, `h`, `at`, as in `GapCardVersion`). Absent on a claim written before
   * redraws were counted, when a card was drawn at its group's count.
   */
  v?: number;
  n?: number;
  h?: string;
  at?: string;
}

/**
 * A gap card's redraw counter, one row per card (see `FaqService.gapCard`): the version it was last drawn at
 * (each redraw showing other questions takes the next one), with what that version showed: `n` questions, `h` a
 * digest of their ids, from a view read at `at`.
 */
export interface GapCardVersion {
  v: number;
  n: number;
  h: string;
  at: string;
}


export function questionTerms(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return new Set(words.filter((w) => !isStopWord(w) && w.length > 1).map((w) => stemmer(w)));
}

/**
 * A group's key from its seed's content words (sorted, so word order does not matter) and the day (UTC) it was
 * asked: identical questions racing in one turn's time give the same key whichever of them seeds the group, and
 * a gap that comes back on a later day, once its earlier questions were answered or aged out, gets a card of its
 * own instead of the old one's answered version. A seed without content words falls back to its id.
 */
export function gapKey(terms: Set<string>, seed: Pick<AskedQuestion, 'id' | 'askedAt'>): string {
  if (!terms.size) return seed.id;
  const words = createHash('sha256').update([...terms].sort().join(' ')).digest('hex').slice(0, 24);
  return `g${words}-${seed.askedAt.slice(0, 10).replaceAll('-', '')}`;
}

/**
 * The group a card names: by key, or — for a card posted before groups had keys — by one of its question ids.
 */
export function findGapGroup<G extends Pick<GapGroup, 'id' | 'questionIds'>>(groups: readonly G[], id: string): G | undefined {
  return groups.find((g) => g.id === id) ?? groups.find((g) => g.questionIds.includes(id));
}

/** Share of content words two questions have in common (Jaccard). */
export function similarity(a: Set<string>, b: Set<string>): number {
  if (!a.size || !b.size) return 0;
  let shared = 0;
  for (const t of a) if (b.has(t)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * The questions that show a gap in the guidance — unanswered, or answered but marked not helpful — grouped
 * when their content words mostly overlap (greedy, against each group's first question), those most people
 * asked first.
 */
export function groupGaps(questions: AskedQuestion[], threshold = 0.5): GapGroup[] {
  // Groups sharing no word are never alike: only a threshold above 0 makes sense.
  if (!(threshold > 0)) throw new RangeError('threshold must be above 0');
  // Oldest first, so a group is seeded by its first question and keeps the key made from it.
  const gaps = questions
    .filter((q) => !q.answered || q.notHelpful > q.helpful)
    .sort((a, b) => a.askedAt.localeCompare(b.askedAt) || a.id.localeCompare(b.id));
  const groups: { terms: Set<string>; items: AskedQuestion[] }[] = [];
  const termsOf = gaps.map((q) => questionTerms(q.question));
  // How many questions hold each word. Two word sets alike enough share one of each set's rarest words (the first
  // |set| - ⌈threshold·|set|⌉ + 1 of them, rarest first: prefix filtering), so a group's seed is listed under those
  // words only and a question looks only there. Listed under every word, a question was compared with every group
  // sharing a common word ("app", "tablet"): near quadratic in a month of open questions, on an uncovered question's turn.
  const held = new Map<string, number>();
  for (const terms of termsOf) for (const t of terms) held.set(t, (held.get(t) ?? 0) + 1);
  const telling = (terms: Set<string>): string[] => {
    const words = [...terms].sort((a, b) => held.get(a)! - held.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
    return words.slice(0, Math.max(0, words.length - Math.max(1, Math.ceil(threshold * words.length - 1e-9)) + 1));
  };
  const holders = new Map<string, number[]>();
  /** The question (1-based) a group was last compared with: each group once per question. */
  const lastSeen = new Int32Array(gaps.length);
  gaps.forEach((q, i) => {
    const terms = termsOf[i]!;
    const words = telling(terms);
    // The first group (oldest seed) alike enough, as a scan in order would find it.
    let home = -1;
    for (const t of words) {
      for (const g of holders.get(t) ?? []) {
        if (lastSeen[g] === i + 1) continue;
        lastSeen[g] = i + 1;
        if ((home < 0 || g < home) && similarity(terms, groups[g]!.terms) >= threshold) home = g;
      }
    }
    if (home >= 0) groups[home]!.items.push(q);
    else {
      for (const t of words) (holders.get(t) ?? holders.set(t, []).get(t)!).push(groups.length);
      groups.push({ terms, items: [q] });
    }
  });
  return sortGaps(groups.map(({ terms, items }) => summariseGap(gapKey(terms, items[0]!), terms, items)));
}

/** A group of `oldestFirst` (at least one question), under `id`, its card matched by `terms`. */
export function summariseGap(id: string, terms: Set<string> | readonly string[], oldestFirst: readonly AskedQuestion[]): GapGroup {
  const items = [...oldestFirst].reverse();
  return {
    id,
    questionIds: items.map((q) => q.id),
    example: items[0]?.question ?? '',
    count: items.length,
    unanswered: items.filter((q) => !q.answered).length,
    notHelpful: items.filter((q) => q.answered).length,
    askers: new Set(items.map((q) => q.asker.aadObjectId ?? q.asker.id)).size,
    lastAskedAt: items[0]?.askedAt ?? '',
    questions: [...new Set(items.map((q) => q.question))].slice(0, 5),
    terms: [...terms].sort(),
    days: [...new Set(oldestFirst.map((q) => q.askedAt.slice(0, 10)))],
  };
}

/** Most people first: one person asking the same thing again and again does not push a gap up the list. */
export function sortGaps<G extends Pick<GapGroup, 'askers' | 'count' | 'lastAskedAt' | 'questionIds'>>(groups: G[]): G[] {
  return groups.sort((a, b) => comparePlaces(placeOf(a), placeOf(b)));
}

/**
 * A gap's place in the list: what it is sorted by, and its seed (oldest) question's id, which no other group in
 * a view holds, so two gaps never share a place. A page's cursor is the place of its last (or first) gap.
 */
export interface GapPlace {
  askers: number;
  count: number;
  lastAskedAt: string;
  seed: string;
}

export function placeOf(g: Pick<GapGroup, 'askers' | 'count' | 'lastAskedAt' | 'questionIds'>): GapPlace {
  return { askers: g.askers, count: g.count, lastAskedAt: g.lastAskedAt, seed: g.questionIds.at(-1) ?? '' };
}

/** Negative when `a` comes before `b` in the list. */
export function comparePlaces(a: GapPlace, b: GapPlace): number {
  return b.askers - a.askers || b.count - a.count || b.lastAskedAt.localeCompare(a.lastAskedAt) || (a.seed < b.seed ? -1 : a.seed > b.seed ? 1 : 0);
}

/** A place as card data: short, and read back only through `decodePlace`. */
export function encodePlace(p: GapPlace): string {
  return [p.askers, p.count, p.lastAskedAt, p.seed].join('~');
}

const PLACE = /^(\d{1,7})~(\d{1,7})~(\d{4}-\d{2}-\d{2}T[\d:.]{8,12}Z)~([\w-]{1,80})$/;

/** A place from card data (which the client writes): undefined unless it is exactly what `encodePlace` makes. */
export function decodePlace(text: unknown): GapPlace | undefined {
  const m = typeof text === 'string' ? PLACE.exec(text) : null;
  return m ? { askers: Number(m[1]), count: Number(m[2]), lastAskedAt: m[3]!, seed: m[4]! } : undefined;
}

/**
 * A page of `sorted` (in list order): the `size` gaps after `after`, or before `before`, or the first. By place,
 * not position, so a gap that joins or leaves the list between two presses neither repeats nor hides another.
 * Back from the start (fewer than a page before `before`): the first page.
 */
export function pageOfGaps<G extends Pick<GapGroup, 'askers' | 'count' | 'lastAskedAt' | 'questionIds'>>(
  sorted: readonly G[],
  size: number,
  from: { after?: GapPlace; before?: GapPlace } = {},
): { items: G[]; start: number } {
  let start = 0;
  if (from.after) {
    const after = from.after;
    const i = sorted.findIndex((g) => comparePlaces(placeOf(g), after) > 0);
    start = i < 0 ? sorted.length : i;
  } else if (from.before) {
    const before = from.before;
    const i = sorted.findIndex((g) => comparePlaces(placeOf(g), before) >= 0);
    start = Math.max(0, (i < 0 ? sorted.length : i) - size);
  }
  return { items: sorted.slice(start, start + size), start };
}

/**
 * Groups under the key of the card posted for them. Two differently worded questions asked at once each seed a
 * group of their own in their turn's view (neither sees the other), so the later view's group, seeded by the
 * older of them, has another key than a card already posted; and a group's seed changes when its oldest question
 * ages out of the window. A card is claimed on each day it shows a question of its group (see
 * `FaqService.gapCardKey`), so a group takes the key of a card claimed on one of its questions' days whose words
 * are like its seed's (its own key first if claimed; each card for one group only, the most alike first). Others
 * keep their own key. A card whose questions have all gone (answered and aged out) is claimed on none of a new
 * group's days: a gap that comes back gets a card of its own.
 */
export function withCardKeys<G extends Pick<GapGroup, 'id' | 'terms' | 'days'>>(
  groups: readonly G[],
  claimsByDay: ReadonlyMap<string, readonly GapClaim[]>,
  threshold = 0.5,
): G[] {
  /** The cards claimed on a group's days, each once. */
  const claimsOf = (g: G): GapClaim[] => {
    const byKey = new Map<string, GapClaim>();
    for (const day of g.days) for (const c of claimsByDay.get(day) ?? []) if (!byKey.has(c.key)) byKey.set(c.key, c);
    return [...byKey.values()];
  };
  const key = new Map<G, string>();
  const used = new Set<string>();
  for (const g of groups) {
    if (!used.has(g.id) && claimsOf(g).some((c) => c.key === g.id)) {
      key.set(g, g.id);
      used.add(g.id);
    }
  }
  const pairs: { g: G; claim: string; score: number }[] = [];
  for (const g of groups) {
    if (key.has(g)) continue;
    const terms = new Set(g.terms);
    for (const c of claimsOf(g)) {
      const score = similarity(terms, new Set(c.terms));
      if (score >= threshold && !used.has(c.key)) pairs.push({ g, claim: c.key, score });
    }
  }
  for (const p of pairs.sort((a, b) => b.score - a.score)) {
    if (key.has(p.g) || used.has(p.claim)) continue;
    key.set(p.g, p.claim);
    used.add(p.claim);
  }
  return groups.map((g) => (key.has(g) && key.get(g) !== g.id ? { ...g, id: key.get(g)! } : g));
}
