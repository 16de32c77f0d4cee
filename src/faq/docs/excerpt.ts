import { marked, type Token, type Tokens } from 'marked';
import { markdownLink } from '../../cards/template.js';
import { decodeEntities, htmlToText, inlineText } from './plain-text.js';
import type { GuidanceSection } from './types.js';

/** What an answer card shows of a section: its own markdown, steps whole, and whether it was cut. */
export interface SectionExcerpt {
  /** Markdown an Adaptive Card TextBlock renders: paragraphs, bold/italic, bullet and numbered lists, links. */
  markdown: string;
  /** True when the section goes on beyond what is shown ("more in the guidance"). */
  cut: boolean;
}

/**
 * The section as the guidance writes it, in the markdown subset Teams renders in a card: a numbered
 * list stays numbered, bold stays bold. Whole blocks only: a list is never split between items
 * unless that list alone is longer than the budget, and then it is cut after a whole item. Code
 * spans lose their backticks (cards show them raw), tables become "a — b" lines, images their
 * alt text, headings bold lines; relative links keep their text only.
 */
export function sectionExcerpt(section: GuidanceSection, maxChars = 1200): SectionExcerpt {
  // A section's excerpt never changes (a changed doc is new section objects), and lexing its markdown is a good part
  // of answering a question: made once per section and size.
  let bySize = excerpts.get(section);
  if (!bySize) excerpts.set(section, (bySize = new Map()));
  let excerpt = bySize.get(maxChars);
  if (!excerpt) bySize.set(maxChars, (excerpt = makeExcerpt(section, maxChars)));
  return { ...excerpt };
}

const excerpts = new WeakMap<GuidanceSection, Map<number, SectionExcerpt>>();

function makeExcerpt(section: GuidanceSection, maxChars: number): SectionExcerpt {
  const tokens = marked.lexer(section.markdown, { gfm: true });
  const blocks = tokens.map(cardBlock).filter((block) => block.length > 0);
  const out: string[] = [];
  let length = 0;
  for (const [at, block] of blocks.entries()) {
    const extra = (out.length > 0 ? 2 : 0) + block.length;
    if (length + extra <= maxChars) {
      out.push(block);
      length += extra;
      continue;
    }
    // Too long to add whole: the first block is cut at a line (a list item) so something shows.
    if (out.length === 0) out.push(cutAtLine(block, maxChars));
    return { markdown: out.join('\n\n'), cut: at < blocks.length };
  }
  return { markdown: out.join('\n\n'), cut: false };
}

function cutAtLine(block: string, maxChars: number): string {
  const lines = block.split('\n');
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (length + line.length + 1 > maxChars) break;
    kept.push(line);
    length += line.length + 1;
  }
  if (kept.length > 0) return kept.join('\n');
  const cut = block.slice(0, maxChars - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > maxChars / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function cardBlock(token: Token): string {
  switch (token.type) {
    case 'paragraph':
      return cardInline((token as Tokens.Paragraph).tokens).trim();
    case 'heading':
      return `**${inlineText((token as Tokens.Heading).tokens).trim()}**`;
    case 'list':
      return cardList(token as Tokens.List, 0);
    case 'blockquote':
      return (token as Tokens.Blockquote).tokens.map(cardBlock).filter(Boolean).join('\n\n');
    case 'table': {
      const table = token as Tokens.Table;
      const row = (cells: Tokens.TableCell[]) => cells.map((cell) => cardInline(cell.tokens).trim()).join(' — ');
      return [row(table.header), ...table.rows.map(row)].join('\n\n');
    }
    case 'code':
      return (token as Tokens.Code).text;
    case 'html':
      return htmlToText((token as Tokens.HTML).text);
    case 'space':
    case 'hr':
    case 'def':
      return '';
    default:
      return decodeEntities((token as { text?: string }).text ?? '').trim();
  }
}

function cardList(list: Tokens.List, depth: number): string {
  const indent = '   '.repeat(depth);
  return list.items
    .map((item, index) => {
      const bullet = list.ordered ? `${Number(list.start || 1) + index}.` : '-';
      const own: string[] = [];
      const nested: string[] = [];
      for (const child of item.tokens) {
        if (child.type === 'list') nested.push(cardList(child as Tokens.List, depth + 1));
        else if (child.type === 'text' || child.type === 'paragraph') {
          const inner = (child as Tokens.Text).tokens;
          own.push(inner ? cardInline(inner) : decodeEntities((child as Tokens.Text).text));
        } else own.push(cardBlock(child));
      }
      const line = `${indent}${bullet} ${own.join(' ').replace(/\s*\n\s*/g, ' ').trim()}`;
      return [line, ...nested].join('\n');
    })
    .join('\n');
}

/** Inline tokens to card markdown: emphasis and absolute links kept, everything else as text. */
function cardInline(tokens: readonly Token[]): string {
  let out = '';
  for (const token of tokens) {
    switch (token.type) {
      case 'strong':
        out += `**${cardInline((token as Tokens.Strong).tokens)}**`;
        break;
      case 'em':
        out += `_${cardInline((token as Tokens.Em).tokens)}_`;
        break;
      case 'link': {
        const link = token as Tokens.Link;
        const text = cardInline(link.tokens);
        out += /^https?:\/\//i.test(link.href) ? markdownLink(text, link.href) : text;
        break;
      }
      case 'codespan':
        out += decodeEntities((token as Tokens.Codespan).text);
        break;
      case 'br':
        out += '\n';
        break;
      default:
        out += inlineText([token]);
    }
  }
  return out;
}
