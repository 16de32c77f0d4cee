import type { Token, Tokens } from 'marked';

/**
 * Turns marked tokens into readable plain text: what a person would read on the page, with
 * paragraph breaks kept as blank lines and list items as lines. Works on the lexer's token
 * tree only; the markdown source is never re-parsed here.
 */

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  rsquo: '’',
  lsquo: '‘',
  rdquo: '”',
  ldquo: '“',
};

/** marked leaves character references as written; readers want the characters. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref.startsWith('#x') || ref.startsWith('#X'))
      return safeCodePoint(Number.parseInt(ref.slice(2), 16), whole);
    if (ref.startsWith('#')) return safeCodePoint(Number.parseInt(ref.slice(1), 10), whole);
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

function safeCodePoint(code: number, fallback: string): string {
  return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : fallback;
}

/** Raw HTML (pandoc writes tables with multi-block cells as HTML): keep the words, one block per line. */
export function htmlToText(html: string): string {
  const withBreaks = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<\s*(br|\/p|\/div|\/tr|\/li|\/h[1-6]|\/table|\/thead|\/tbody)\b[^>]*>/gi, '\n')
    .replace(/<\s*\/t[dh]\s*>/gi, ' | ')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(withBreaks)
    .split('\n')
    .map((line) =>
      line
        .replace(/\s+/g, ' ')
        .replace(/(\s*\|\s*)+$/, '')
        .trim(),
    )
    .filter((line) => line.length > 0)
    .join('\n');
}

function hasTokens(token: Token): token is Token & { tokens: Token[] } {
  return Array.isArray((token as { tokens?: unknown }).tokens);
}

/** Inline tokens (inside a paragraph, heading, cell, …) to one run of text. */
export function inlineText(tokens: readonly Token[]): string {
  let out = '';
  for (const token of tokens) {
    switch (token.type) {
      case 'br':
        out += '\n';
        break;
      case 'codespan':
        out += decodeEntities((token as Tokens.Codespan).text);
        break;
      case 'escape':
        out += decodeEntities((token as Tokens.Escape).text);
        break;
      case 'html':
        out += htmlToText((token as Tokens.HTML).text);
        break;
      case 'image':
        out += decodeEntities((token as Tokens.Image).text);
        break;
      case 'checkbox':
        break;
      default:
        if (hasTokens(token) && token.tokens.length > 0) out += inlineText(token.tokens);
        else out += decodeEntities((token as { text?: string }).text ?? '');
    }
  }
  return out;
}

/** Block tokens to text blocks (one string per paragraph, list, table, …). */
export function blockTexts(tokens: readonly Token[]): string[] {
  const blocks: string[] = [];
  for (const token of tokens) {
    const text = blockText(token);
    if (text.trim().length > 0) blocks.push(text.trim());
  }
  return blocks;
}

function blockText(token: Token): string {
  switch (token.type) {
    case 'space':
    case 'hr':
    case 'def':
      return '';
    case 'code':
      return (token as Tokens.Code).text;
    case 'html':
      return htmlToText((token as Tokens.HTML).text);
    case 'list':
      return listText(token as Tokens.List, 0);
    case 'table':
      return tableText(token as Tokens.Table);
    case 'blockquote':
      return blockTexts((token as Tokens.Blockquote).tokens).join('\n\n');
    case 'paragraph':
    case 'heading':
      return inlineText((token as Tokens.Paragraph).tokens);
    default:
      if (hasTokens(token)) return inlineText(token.tokens);
      return decodeEntities((token as { text?: string }).text ?? '');
  }
}

function listText(list: Tokens.List, depth: number): string {
  const indent = '  '.repeat(depth);
  const lines: string[] = [];
  list.items.forEach((item, index) => {
    const bullet = list.ordered ? `${Number(list.start || 1) + index}.` : '-';
    const own: string[] = [];
    const nested: string[] = [];
    for (const child of item.tokens) {
      if (child.type === 'list') nested.push(listText(child as Tokens.List, depth + 1));
      else {
        const text =
          child.type === 'text' ? inlineText(hasTokens(child) ? child.tokens : [child]) : blockText(child);
        if (text.trim()) own.push(text.trim().replace(/\n+/g, ' '));
      }
    }
    lines.push(`${indent}${bullet} ${own.join(' ')}`.trimEnd());
    lines.push(...nested);
  });
  return lines.join('\n');
}

function tableText(table: Tokens.Table): string {
  const row = (cells: Tokens.TableCell[]) =>
    cells
      .map((cell) => inlineText(cell.tokens).replace(/\s+/g, ' ').trim())
      .join(' | ')
      .trim();
  return [row(table.header), ...table.rows.map(row)].filter((line) => line.replace(/[|\s]/g, '')).join('\n');
}
