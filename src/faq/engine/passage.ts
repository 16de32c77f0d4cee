import type { GuidanceSection } from '../docs/types.js';
import { terms } from './text.js';

/**
 * The part of a section that answers the question, for an answer card: whole paragraphs (or,
 * inside a long paragraph, whole sentences) around the one that shares the most words with
 * the question, up to about `maxChars`. Never cuts inside a word; only a single sentence
 * longer than the budget gets an ellipsis.
 */
export function bestPassage(section: GuidanceSection, question: string, maxChars = 400): string {
  const paragraphs = section.text
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph.length > 0);
  if (paragraphs.length === 0) return '';
  const wanted = new Set(terms(question));
  const overlap = (text: string) => {
    let count = 0;
    for (const term of new Set(terms(text))) if (wanted.has(term)) count++;
    return count;
  };

  let bestAt = 0;
  let bestOverlap = -1;
  paragraphs.forEach((paragraph, at) => {
    const value = overlap(paragraph);
    if (value > bestOverlap) {
      bestOverlap = value;
      bestAt = at;
    }
  });

  const core = paragraphs[bestAt]!;
  if (core.length > maxChars) return bestSentences(core, maxChars, overlap);

  // Grow around the best paragraph while whole paragraphs still fit: following ones first,
  // since steps and lists come after the paragraph that introduces them.
  let start = bestAt;
  let end = bestAt;
  let length = core.length;
  for (;;) {
    const next = paragraphs[end + 1];
    if (next !== undefined && length + 2 + next.length <= maxChars) {
      end++;
      length += 2 + next.length;
      continue;
    }
    const previous = paragraphs[start - 1];
    if (previous !== undefined && length + 2 + previous.length <= maxChars) {
      start--;
      length += 2 + previous.length;
      continue;
    }
    break;
  }
  // A trailing "Options:" whose list didn't fit promises what the passage doesn't show.
  while (end > bestAt && paragraphs[end]!.endsWith(':')) end--;
  return paragraphs.slice(start, end + 1).join('\n\n');
}

interface Span {
  start: number;
  end: number;
}

/**
 * Sentence spans: a sentence ends at . ! ? followed by space and a capital or digit, or at a
 * line break (list items). Spans index into the paragraph so a cut keeps its line breaks.
 */
function sentenceSpans(paragraph: string): Span[] {
  const spans: Span[] = [];
  const boundary = /(?<=[.!?])\s+(?=[A-Z0-9"'(])|\n+/g;
  let start = 0;
  for (const match of paragraph.matchAll(boundary)) {
    spans.push({ start, end: match.index });
    start = match.index + match[0].length;
  }
  spans.push({ start, end: paragraph.length });
  return spans.filter((span) => span.end > span.start);
}

function bestSentences(paragraph: string, maxChars: number, overlap: (text: string) => number): string {
  const spans = sentenceSpans(paragraph);
  let best = { start: 0, end: -1, value: -1 };
  for (let first = 0; first < spans.length; first++) {
    for (let last = first; last < spans.length; last++) {
      const text = paragraph.slice(spans[first]!.start, spans[last]!.end);
      if (text.length > maxChars) break;
      const value = overlap(text);
      // On a tie, a longer run from the same start gives the reader more of the answer.
      if (value > best.value || (value === best.value && first === best.start))
        best = { start: first, end: last, value };
    }
  }
  if (best.end >= best.start) return paragraph.slice(spans[best.start]!.start, spans[best.end]!.end).trim();
  // Even one sentence is too long: cut it at the last word boundary that fits.
  const first = spans[0] ? paragraph.slice(spans[0].start, spans[0].end) : paragraph;
  const cut = first.slice(0, maxChars - 1);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > maxChars / 2 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}
