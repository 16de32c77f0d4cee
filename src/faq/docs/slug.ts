/**
 * GitHub-style heading anchors, so links built from them land where GitHub and most
 * static doc sites put the heading: lower case, punctuation dropped, spaces to dashes.
 */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Hands out slugs unique within one doc, the way github-slugger does: "goals", "goals-1", … */
export class SlugDeduper {
  private readonly occurrences = new Map<string, number>();

  next(heading: string): string {
    const base = githubSlug(heading);
    let slug = base;
    // A later heading may literally be "goals-1"; keep counting until the slug is free.
    while (this.occurrences.has(slug)) {
      const count = (this.occurrences.get(base) ?? 0) + 1;
      this.occurrences.set(base, count);
      slug = `${base}-${count}`;
    }
    this.occurrences.set(slug, 0);
    return slug;
  }
}
