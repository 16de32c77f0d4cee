/** Issue references like `R-0042`: a configurable prefix and a number zero-padded to four digits. */

const PREFIX_RE = /^[A-Za-z][A-Za-z0-9]{0,9}-?$/;

export function assertRefPrefix(prefix: string): void {
  if (!PREFIX_RE.test(prefix)) {
    throw new Error(
      `Issue reference prefix "${prefix}" must be 1–10 letters or digits, optionally ending in "-".`,
    );
  }
}

export function formatRef(prefix: string, n: number): string {
  return `${prefix}${String(n).padStart(4, '0')}`;
}

/**
 * Reads what a user typed (`R-42`, `r-0042`, `42`) as a reference with this prefix; null if it is not one.
 * Only digits after the prefix are accepted, so the result is safe as a table key.
 */
export function parseRef(input: string, prefix: string): { ref: string; number: number } | null {
  // Users also type `#12` (chat habit) and `R12` (prefix without its dash); both mean the same issue.
  // A reference asked about ("R-0042?") or ending a sentence ("R-0042.") is the same reference.
  const s = input.trim().replace(/[.?!]+$/, '').replace(/^#/, '');
  const bare = prefix.replace(/-$/, '');
  const upper = s.toUpperCase();
  const body = upper.startsWith(prefix.toUpperCase())
    ? s.slice(prefix.length)
    : bare && upper.startsWith(bare.toUpperCase())
      ? s.slice(bare.length)
      : s;
  if (!/^\d{1,9}$/.test(body)) return null;
  const n = Number(body);
  if (n < 1) return null;
  return { ref: formatRef(prefix, n), number: n };
}

/**
 * Whether a whole message is one issue reference, as staff type it to ask after an issue: `R-0042`, `r42`, `#42`,
 * `R-0042?`. A bare number is not (it says nothing about issues), nor a sentence that names one.
 */
export function isReferenceOnly(text: string, prefix: string): boolean {
  const s = text.trim();
  const bare = prefix.replace(/-$/, '').toUpperCase();
  const marked = s.startsWith('#') || (bare !== '' && s.toUpperCase().startsWith(bare));
  return marked && parseRef(s, prefix) !== null;
}

/**
 * The partition an issue's main row lives in: a hundred consecutive numbers share one (`R-00xx`),
 * so a point read stays cheap while the bulk load can batch a hundred issues per transaction.
 */
export function refBucket(prefix: string, n: number): string {
  return `${prefix}${String(Math.floor(n / 100)).padStart(2, '0')}xx`;
}
