import { htmlToText } from './docs/plain-text.js';

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
}

const CARD_SPAN = /<span\b[^>]*\bclass\s*=\s*["'][^"']*\binline-compose-card\b[^"']*["'][^>]*>/i;
const ATTACHMENT_TAG = /<attachment\b[^>]*>(?:[\s\S]*?<\/attachment>)?/gi;
const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';

/**
 * Recognises a message that echoes a card back to the bot. When someone picks a guidance section
 * in the message-extension search and sends it, Teams delivers a message whose text is HTML (the
 * card as a `<span class="inline-compose-card" …>` element, or an `<attachment id=…>` placeholder)
 * with the card itself among the attachments. Answering that text as a question gives a wrong
 * answer and logs a false gap. Whatever the person typed beside the card is returned as `ownText`,
 * so a real question sent with a card can still be answered.
 */
export function recogniseEchoedCard(message: IncomingMessage): EchoedCard {
  const text = message.text ?? '';
  const hasCardMarkup = CARD_SPAN.test(text) || /<attachment\b/i.test(text);
  const hasCardAttachment = (message.attachments ?? []).some((a) => a.contentType === ADAPTIVE_CARD);
  if (!hasCardMarkup && !(hasCardAttachment && looksLikeHtml(text, message.textFormat))) {
    return { echoed: false, ownText: text };
  }
  return { echoed: true, ownText: ownWords(text) };
}

function looksLikeHtml(text: string, format: string | undefined): boolean {
  return text.trim() === '' || format === 'xml' || /<\/?[a-z][^>]*>/i.test(text);
}

/** The text outside the card element and attachment placeholders, mentions removed, as plain text. */
function ownWords(html: string): string {
  let rest = html.replace(ATTACHMENT_TAG, ' ').replace(/<at\b[^>]*>[\s\S]*?<\/at>/gi, ' ');
  for (;;) {
    const start = rest.search(CARD_SPAN);
    if (start < 0) break;
    rest = rest.slice(0, start) + ' ' + rest.slice(endOfElement(rest, start, 'span'));
  }
  return htmlToText(rest).replace(/\s+/g, ' ').trim();
}

/** Index just past the element opening at `start`, nested elements of the same name included. */
function endOfElement(html: string, start: number, name: string): number {
  const tags = new RegExp(`<(/?)${name}\\b[^>]*?(/?)>`, 'gi');
  tags.lastIndex = start;
  let depth = 0;
  for (let match = tags.exec(html); match; match = tags.exec(html)) {
    if (match[2] === '/') continue; // self-closing
    depth += match[1] === '/' ? -1 : 1;
    if (depth === 0) return tags.lastIndex;
  }
  return html.length;
}
