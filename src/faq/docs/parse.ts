import { posix } from 'node:path';
import matter from 'gray-matter';
import { Lexer, marked, type Token, type Tokens } from 'marked';
import { blockTexts, inlineText } from './plain-text.js';
import { SlugDeduper } from './slug.js';
import type { GuidanceDoc, GuidanceMeta, GuidanceSection } from './types.js';

/** A heading seen so far, for building the path of the headings below it. */
interface OpenHeading {
  level: number;
  text: string;
}

/** A heading with the block tokens that follow it, before its text is rendered. */
interface RawSection {
  heading: string;
  level: number;
  headingPath: string[];
  blocks: Token[];
}

/**
 * Parses one guidance doc into sections. Structure comes from marked's lexer (headings are
 * tokens, never regex matches), front matter from gray-matter. Throws on invalid front
 * matter so the loader can skip the file with a warning.
 */
export function parseGuidanceDoc(relPath: string, markdown: string): GuidanceDoc {
  const doc = relPath.split('\\').join('/');
  // Passing options turns off gray-matter's content cache, which would otherwise hand back a
  // stale result after a file is fixed and keep a copy of every version it has seen.
  const parsed = matter(markdown.replace(/^\uFEFF/, ''), {});
  const meta = readMeta(parsed.data);
  const tokens = marked.lexer(parsed.content, { gfm: true });

  const raw = splitAtHeadings(tokens);
  const firstH1 = raw.find((section) => section.level === 1)?.heading;
  const title = stringField(parsed.data.title) ?? firstH1 ?? fileTitle(doc);

  const slugs = new SlugDeduper();
  const sections: GuidanceSection[] = [];
  for (const section of raw) {
    const text = blockTexts(section.blocks).join('\n\n');
    const isPreamble = section.level === 0;
    // Text before the first heading is a section of its own, named after the doc.
    if (isPreamble && text.length === 0) continue;
    const heading = isPreamble ? title : section.heading;
    const anchor = slugs.next(heading);
    sections.push({
      id: `${doc}#${anchor}`,
      doc,
      docTitle: title,
      heading,
      headingPath: isPreamble ? [title] : section.headingPath,
      anchor,
      level: section.level,
      text,
      markdown: section.blocks
        .map((block) => block.raw)
        .join('')
        .trim(),
    });
  }
  return { path: doc, title, meta, sections };
}

function splitAtHeadings(tokens: readonly Token[]): RawSection[] {
  const sections: RawSection[] = [{ heading: '', level: 0, headingPath: [], blocks: [] }];
  const open: OpenHeading[] = [];
  for (const token of tokens) {
    if (token.type === 'heading') {
      const heading = token as Tokens.Heading;
      const text = headingTextOf(heading.tokens);
      // Close every heading at this level or deeper: they are siblings or nieces, not parents.
      while (open.length > 0 && open[open.length - 1]!.level >= heading.depth) open.pop();
      open.push({ level: heading.depth, text });
      sections.push({
        heading: text,
        level: heading.depth,
        headingPath: open.map((h) => h.text),
        blocks: [],
      });
    } else {
      sections[sections.length - 1]!.blocks.push(token);
    }
  }
  return sections;
}

function readMeta(data: Record<string, unknown>): GuidanceMeta {
  const meta: GuidanceMeta = {};
  const audience = stringField(data.audience);
  const updated = stringField(data.updated);
  const owner = stringField(data.owner);
  if (audience !== undefined) meta.audience = audience;
  if (updated !== undefined) meta.updated = updated;
  if (owner !== undefined) meta.owner = owner;
  return meta;
}

/** YAML turns `updated: 2024-05-01` into a Date and `audience: [a, b]` into a list; keep them readable. */
function stringField(value: unknown): string | undefined {
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? undefined : value.toISOString().slice(0, 10);
  if (Array.isArray(value)) {
    const parts = value.map(stringField).filter((part): part is string => part !== undefined);
    return parts.length > 0 ? parts.join(', ') : undefined;
  }
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function fileTitle(doc: string): string {
  return posix.basename(doc).replace(/\.md$/i, '');
}

/** A heading as readers see it and citations name it: markdown off, spaces collapsed. */
function headingTextOf(tokens: readonly Token[]): string {
  return inlineText(tokens).replace(/\s+/g, ' ').trim();
}

/**
 * A heading line's text as the sections carry it ("Who do I *not* contact?" → "Who do I not contact?"),
 * so a question set's gold heading can be copied from the markdown as written.
 */
export function headingText(markdown: string): string {
  return headingTextOf(Lexer.lexInline(markdown));
}
