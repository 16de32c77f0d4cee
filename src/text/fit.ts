/**
 * Shortening what a card lists so it stays under Teams' 40 KB: whole characters only (a surrogate pair cut in half
 * shows as garbage), and what is left out is counted, never dropped silently.
 */

/** `text` cut to `max` characters (whole code points), ending "…" when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `text` cut to at most `max` UTF-16 units (what `.slice` counted) at a grapheme boundary, ending "…" when cut: an
 * emoji, a flag or a letter with its accent is kept whole or left out, never split into garbage.
 */
export function clipGraphemes(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const { segment } of graphemes.segment(text)) {
    if (out.length + segment.length > max - 1) break;
    out += segment;
  }
  return `${out.trimEnd()}…`;
}

/**
 * `parts` joined with `sep` as far as `max` characters allow, then "… and N more" (of `noun`, when given). The first
 * part alone too long is shown cut, so the list never reads empty.
 */
export function listWithin(parts: readonly string[], max: number, opts: { noun?: string; sep?: string } = {}): string {
  const sep = opts.sep ?? '; ';
  let out = '';
  let shown = 0;
  for (const p of parts) {
    const next = shown ? `${out}${sep}${p}` : p;
    if (next.length > max) {
      if (!shown) [out, shown] = [clip(p, max), 1];
      break;
    }
    [out, shown] = [next, shown + 1];
  }
  const rest = parts.length - shown;
  return rest > 0 ? `${out}${sep}… and ${rest} more${opts.noun ? ` ${opts.noun}` : ''}` : out;
}

/**
 * The largest `n` in 0..`max` for which `fits(n)` holds, where it holds up to some `n` and not after (a card with the
 * first `n` of a list): found in a few tries, not one per item. 0 when even none fits.
 */
export function largestFitting(max: number, fits: (n: number) => boolean): number {
  let [lo, hi] = [0, max];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
