/** One heading of a guidance doc plus the text up to the next heading (any level). */
export interface GuidanceSection {
  /** `${doc}#${anchor}` — stable while the doc and heading do not change. */
  id: string;
  /** Path relative to the docs dir, '/' separators. */
  doc: string;
  docTitle: string;
  /** Heading text as written after the #s, trimmed, inline markdown removed. */
  heading: string;
  /** Headings from the top of the doc down to this one, this one last. */
  headingPath: string[];
  /** GitHub-style slug of the heading, deduped within the doc with -1, -2, … */
  anchor: string;
  /** 1–6 for `#`…`######`; 0 for text before the first heading. */
  level: number;
  /** Plain text: paragraphs separated by blank lines, list items one per line. */
  text: string;
  /** The section's own markdown as written (without its heading), for showing its steps whole. */
  markdown: string;
}

export interface GuidanceMeta {
  audience?: string;
  updated?: string;
  owner?: string;
}

export interface GuidanceDoc {
  path: string;
  title: string;
  meta: GuidanceMeta;
  sections: GuidanceSection[];
}
