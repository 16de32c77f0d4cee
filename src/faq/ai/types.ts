/**
 * A guidance section the offline retrieval picked for a question. Structurally compatible with the
 * engine's own section type, so this module does not depend on the engine.
 */
export interface AnswerCandidate {
  /** Stable section id; the only thing the model may cite. */
  id: string;
  docTitle: string;
  heading: string;
  text: string;
}

/** Why the model's answer was not used; the caller then serves the offline answer. */
export type FallbackReason = 'timeout' | 'error' | 'rate-limited' | 'invalid-citation' | 'empty';

export type ModelAnswer =
  /** `citations` are candidate ids, checked against the candidates that were sent. */
  | { kind: 'answer'; text: string; citations: string[] }
  /** The model read the sections and says they do not answer the question. */
  | { kind: 'not-covered' }
  | { kind: 'fallback'; reason: FallbackReason };

/** The part of a pino-style logger the answerer uses (pino's `warn(obj, msg)` fits). */
export interface AnswerLogger {
  warn(details: Record<string, unknown>, message: string): void;
}
