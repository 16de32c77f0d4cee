import { z } from 'zod';
import { type IssueSummary, PRIORITIES, type Priority } from './model.js';

/**
 * Paging tokens. A token only says where to resume inside a list (a RowKey, and for the archive a
 * month); which partition is read is always derived again from the caller's filters and identity.
 * Tokens travel in card data, which the client controls, so a forged token can at most move the
 * start inside a list the caller may read anyway.
 */

export interface PageRequest {
  /** Items per page, 1..50; default 10. */
  limit?: number;
  token?: string | null;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `token` for the next page; null on the last page. */
  next: string | null;
  /** A list sorted after reading covered only the rows it could read (see IssueQueries' ARCHIVE_SORT_SCAN). */
  truncated?: boolean;
  /** With `truncated`: how many rows the order covered (SORTED_DONE_CAP, or fewer when older rows did not fit: see IssueQueries). */
  sorted?: number;
}


const tokenSchema = z.object({
  /** The next row's RowKey (tokens on cards sent before `a`): the page starts there. */
  rk: z.string().max(1024).optional(),
  /**
   * The last shown row's RowKey: the page starts after it. An issue logged or moved into the gap between it and
   * the next row while the list is open is then shown, not skipped.
   */
  a: z.string().max(1024).optional(),
  m: z
    .string()
    .regex(/^\d{4}(0[1-9]|1[0-2])$/)
    .optional(),
  /** Where the next page starts in a list sorted after reading (tokens on cards sent before `c`). */
  o: z.number().int().min(0).max(100_000).optional(),
  /**
   * A list sorted after reading (the done issues in a chosen order): the last issue shown, so the next page starts
   * after it. An offset would skip or repeat one for every issue closed or reopened before it meanwhile.
   */
  c: z.object({ t: z.string().max(40), p: z.string().max(4), r: z.string().max(40) }).optional(),
});
export type PageToken = z.infer<typeof tokenSchema>;

export function encodeToken(t: PageToken): string {
  return Buffer.from(JSON.stringify(t), 'utf8').toString('base64url');
}

/** A token that does not parse means "from the start", never an error shown to the user. */
export function decodeToken(token: string | null | undefined): PageToken {
  if (!token || token.length > 2048) return {};
  try {
    const parsed = tokenSchema.safeParse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

type Placed = Pick<IssueSummary, 'createdAt' | 'priority' | 'ref'>;

/** The `c` of the last issue shown in a list sorted after reading: everything its place in any order needs. */
export function sortedCursor(last: Placed): NonNullable<PageToken['c']> {
  return { t: last.createdAt, p: last.priority ?? '', r: last.ref };
}

/** A `c` read back as the issue it stands for (a priority that is none of ours reads as none). */
export function cursorPlace(c: NonNullable<PageToken['c']>): Placed {
  return { createdAt: c.t, priority: (PRIORITIES as readonly string[]).includes(c.p) ? (c.p as Priority) : null, ref: c.r };
}

export function pageLimit(req: PageRequest | undefined, fallback = 10): number {
  const n = Math.trunc(req?.limit ?? fallback);
  return Number.isFinite(n) ? Math.min(50, Math.max(1, n)) : fallback;
}
