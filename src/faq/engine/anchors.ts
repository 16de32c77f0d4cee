import { posix } from 'node:path';
import { marked, type Tokens } from 'marked';
import type { GuidanceSection } from '../docs/types.js';
import { inlineText } from '../docs/plain-text.js';

/**
 * The words other sections use when they link to a section ("see [how to send finalized forms](…)"),
 * per section, one line per link. A link's author names the target in a reader's words, which are often
 * not the target's own ("ticked the wrong option" vs "Removing answers"): indexed as a field of the
 * target (`EngineTuning.anchorWeight`), they widen its vocabulary without touching anyone else's.
 * Only links between the loaded docs count (relative paths, `#anchor` within a doc); a link to a doc
 * without an anchor lands on the doc's first section; a link to the section itself adds nothing.
 */
export function inboundLinkText(sections: readonly GuidanceSection[]): string[] {
  const byId = new Map<string, number>();
  const firstOfDoc = new Map<string, number>();
  sections.forEach((section, i) => {
    byId.set(section.id, i);
    if (!firstOfDoc.has(section.doc)) firstOfDoc.set(section.doc, i);
  });
  const out: string[][] = sections.map(() => []);
  sections.forEach((section, from) => {
    for (const link of linksOf(section.markdown)) {
      const to = resolve(section.doc, link.href, byId, firstOfDoc);
      if (to === undefined || to === from) continue;
      out[to]!.push(link.text);
    }
  });
  return out.map((lines) => lines.join('\n'));
}

interface Link {
  href: string;
  text: string;
}

function linksOf(markdown: string): Link[] {
  if (!markdown.includes('](')) return [];
  const links: Link[] = [];
  marked.walkTokens(marked.lexer(markdown, { gfm: true }), (token) => {
    if (token.type !== 'link') return;
    const link = token as Tokens.Link;
    const text = inlineText(link.tokens).trim();
    if (text) links.push({ href: link.href, text });
  });
  return links;
}

/** A relative link's target section, or undefined (outside the docs, or no such section). */
function resolve(
  fromDoc: string,
  href: string,
  byId: ReadonlyMap<string, number>,
  firstOfDoc: ReadonlyMap<string, number>,
): number | undefined {
  // An absolute URL, mailto: and the like leave the docs.
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) return undefined;
  const hash = href.indexOf('#');
  const path = (hash < 0 ? href : href.slice(0, hash)).split('?')[0]!;
  const anchor = hash < 0 ? '' : decoded(href.slice(hash + 1)).toLowerCase();
  const doc = path ? posix.normalize(posix.join(posix.dirname(fromDoc), decoded(path))) : fromDoc;
  return anchor ? byId.get(`${doc}#${anchor}`) : firstOfDoc.get(doc);
}

/** Percent-decoded, or as written when it isn't valid percent-encoding. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
