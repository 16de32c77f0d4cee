import { displayId } from './prompt.js';
import type { AnswerCandidate, FallbackReason, ModelAnswer } from './types.js';

/** A parse outcome, with a short note on what was wrong for the log when it is a fallback. */
export type ParsedReply = ModelAnswer & { problem?: string };

/**
 * Reads the model's JSON reply. Nothing in it is trusted: it must be one JSON object of the agreed
 * shape, and every citation must be the id of a section that was actually sent. An answer that cites
 * nothing real is dropped, because an uncited answer is the one most likely to be made up.
 */
export function parseModelReply(
  content: string | null | undefined,
  candidates: readonly AnswerCandidate[],
): ParsedReply {
  if (!content?.trim()) return fallback('empty', 'no content');

  let reply: unknown;
  try {
    reply = JSON.parse(stripCodeFence(content));
  } catch {
    return fallback('error', 'content is not JSON');
  }
  if (!isRecord(reply)) return fallback('error', 'content is not a JSON object');

  if (reply.notCovered === true) return { kind: 'not-covered' };

  if (typeof reply.answer !== 'string') return fallback('error', 'no "answer" string');
  const text = reply.answer.trim();
  if (!text) return fallback('empty', 'blank answer');

  if (!Array.isArray(reply.citations)) return fallback('invalid-citation', 'no "citations" array');
  // The model sees display ids; map them (and the raw ids) back to the candidates' own ids.
  const idByShownId = new Map<string, string>();
  for (const { id } of candidates) {
    idByShownId.set(displayId(id), id);
    idByShownId.set(id, id);
  }
  const citations: string[] = [];
  for (const cited of reply.citations) {
    const id = typeof cited === 'string' ? idByShownId.get(cited.trim()) : undefined;
    if (id === undefined) {
      return fallback('invalid-citation', `cites ${JSON.stringify(cited).slice(0, 80)}, not a sent section`);
    }
    if (!citations.includes(id)) citations.push(id);
  }
  if (citations.length === 0) return fallback('invalid-citation', 'no citation');

  return { kind: 'answer', text, citations };
}

function fallback(reason: FallbackReason, problem: string): ParsedReply {
  return { kind: 'fallback', reason, problem };
}

/** json_object mode returns bare JSON, but some compatible servers still wrap it in a ``` fence. */
function stripCodeFence(content: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/i.exec(content);
  return fenced?.[1] ?? content;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
