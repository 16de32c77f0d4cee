import { cleanText } from '../text/clean.js';

/** The parts of an incoming message this check reads (a Teams message activity's fields). */
export interface IncomingMessage {
  text?: string;
  textFormat?: string;
  attachments?: { contentType?: string; content?: unknown }[];
}

export interface EchoedCard {
  /** The message carries a card a person sent from the compose box (the guidance search), not a question. */
  echoed: boolean;
  /** Words the person typed next to the card, without the card's own text and without @mentions. */
  ownText: string;
  /** No card, but the text is HTML (Teams sends formatted messages so): `ownText` is its words, tags removed. */
  formatted?: true;
}

const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';
/** The tags of Teams' rich text (linear: no nested quantifiers). */
const FORMATTING_TAG = /<\/?(p|div|span|b|strong|i|em|u|s|strike|br|ul|ol|li|a|code|pre|blockquote|h[1-6])(\s[^>]*)?\/?>/i;

/**
 * Recognises a message that echoes a card back to the bot. When someone picks a guidance section
 * in the message-extension search and sends it, Teams delivers a message whose text is HTML (the
 * card as a `<span class="inline-compose-card" …>` element, or an `<attachment id=…>` placeholder)
 * with the card itself among the attachments. Answering that text as a question gives a wrong
 * answer and logs a false gap. Whatever the person typed beside the card is returned as `ownText`,
 * so a real question sent with a card can still be answered. The text is read in one pass over its
 * tags (no backtracking regular expression: a message is written by anyone).
 */
export function recogniseEchoedCard(message: IncomingMessage): EchoedCard {
  const text = message.text ?? '';
  const hasCardMarkup = /inline-compose-card/i.test(text) || /<attachment\b/i.test(text);
  const hasCardAttachment = (message.attachments ?? []).some((a) => a.contentType === ADAPTIVE_CARD);
  if (!hasCardMarkup && !(hasCardAttachment && looksLikeHtml(text, message.textFormat))) {
    // A question typed with formatting is its words: tags shown back, stored or searched are noise.
    if (message.textFormat === 'xml' || FORMATTING_TAG.test(text)) return { echoed: false, ownText: ownWords(text), formatted: true };
    return { echoed: false, ownText: text };
  }
  return { echoed: true, ownText: ownWords(text) };
}

/**
 * The words of a formatted (HTML) message, or of one that echoes a card: tags, card text and attachment placeholders
 * removed, entities decoded, but each @mention kept as its markup (`<at>Bob</at>`), so the transport treats it as it
 * treats a plain message's (the bot's own mention dropped, anyone else's name kept as a word). Undefined for plain text.
 */
export function formattedWords(message: IncomingMessage): string | undefined {
  const text = message.text ?? '';
  const html =
    message.textFormat === 'xml' || FORMATTING_TAG.test(text) || /inline-compose-card/i.test(text) || /<attachment\b/i.test(text);
  return html ? ownWords(text, true) : undefined;
}

function looksLikeHtml(text: string, format: string | undefined): boolean {
  return text.trim() === '' || format === 'xml' || (text.includes('<') && text.includes('>'));
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** A numeric entity's character (`#8238`, or hex `#x202E` as HTML allows either), past U+10FFFF read as U+10FFFF. */
function codePoint(entity: string): string {
  const hex = entity[1] === 'x' || entity[1] === 'X';
  return String.fromCodePoint(Math.min(Number.parseInt(entity.slice(hex ? 2 : 1), hex ? 16 : 10), 0x10ffff));
}

/**
 * The text outside card elements and attachment placeholders, tags removed: one linear pass. @mentions are left out,
 * or with `keepMentions` kept whole, markup and name, as in a plain message.
 */
function ownWords(html: string, keepMentions = false): string {
  let out = '';
  let cardDepth = 0; // spans open inside the card span (1 = in the card itself)
  let inlineDepth = 0; // inside an <at> mention or an <attachment> element
  let at = 0;
  while (at < html.length) {
    const skipping = cardDepth > 0 || inlineDepth > 0;
    const lt = html.indexOf('<', at);
    if (lt < 0) {
      if (!skipping) out += html.slice(at);
      break;
    }
    if (!skipping) out += html.slice(at, lt);
    const gt = html.indexOf('>', lt);
    if (gt < 0) break; // an unterminated tag: the rest is not text
    const tag = html.slice(lt + 1, gt);
    const closing = tag.startsWith('/');
    const name = /^\/?\s*([a-z]+)/i.exec(tag.slice(0, 40))?.[1]?.toLowerCase() ?? '';
    const selfClosing = tag.endsWith('/');
    if (name === 'span' && !selfClosing) {
      if (cardDepth > 0) cardDepth += closing ? -1 : 1;
      else if (!closing && /inline-compose-card/i.test(tag)) cardDepth = 1;
    } else if (name === 'at' && keepMentions && !selfClosing) {
      if (!skipping) out += closing ? '</at>' : '<at>';
    } else if ((name === 'at' || name === 'attachment') && !selfClosing) {
      inlineDepth = Math.max(0, inlineDepth + (closing ? -1 : 1));
    } else if (/^(br|p|div|li|tr)$/.test(name)) {
      out += ' ';
    }
    at = gt + 1;
  }
  // A numeric entity can name what the edge removed (a control, a direction override, half a surrogate pair):
  // the decoded text is cleaned again, by the same rule.
  return cleanText(
    out.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (m, e: string) => (e.startsWith('#') ? codePoint(e) : (ENTITIES[e.toLowerCase()] ?? m))),
  )
    .replace(/\s+/g, ' ')
    .trim();
}
