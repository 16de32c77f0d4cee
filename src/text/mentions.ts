/**
 * Whether a text names any of `needles` (ids or a person's name), case-insensitively and as a whole word: a name
 * inside a longer word ("Ann" in "Annual") is not a mention, so a forget does not touch what only looks alike.
 */
export function mentionsAny(text: string, needles: readonly string[]): boolean {
  const pattern = mentionPattern(needles);
  return pattern !== undefined && pattern.test(text);
}

function mentionPattern(needles: readonly string[]): RegExp | undefined {
  const words = needles.map((n) => n.trim()).filter(Boolean);
  if (!words.length) return undefined;
  const alternatives = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives})(?![\\p{L}\\p{N}])`, 'iu');
}
