/**
 * Shortening what a card lists so it stays under Teams' 40 KB: whole characters only (a surrogate pair cut in half
 * shows as garbage), and what is left out is counted, never dropped silently.
 */

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `text` cut to at most `max` characters (code points), ending "…" when cut, and only between graphemes: an emoji
 * with its skin tone, a flag or a letter with its accent is kept whole or left out, never split into garbage.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max || Array.from(text).length <= max) return text;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = Array.from(segment).length;
    if (used + size > max - 1) break;
    out += segment;
    used += size;
  }
  return `${out.trimEnd()}…`;
}

/**
 * `text` cut to at most `max` UTF-16 units (what a server limit such as an issue title's counts), with no "…" (an input's
 * value to edit) and never through a surrogate pair: half an emoji would come back as U+FFFD.
 */
export function cutUnits(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max).replace(/[\uD800-\uDBFF]$/, '');
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
