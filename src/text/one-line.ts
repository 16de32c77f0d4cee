/**
 * Direction controls a person may type or paste: embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
 * and the deprecated format controls after them (U+206A–U+206F, invisible). One left open reverses the rest of the
 * line it is shown in — a name or an answer that reads as something else — and none is needed to write Arabic or
 * Hebrew (the RLM and LRM marks, U+200E/U+200F, stay). Removed from all incoming text (clean.ts).
 */
export const DIRECTION_CONTROLS = /[\u202A-\u202E\u2066-\u206F]/g;

/**
 * Text a person typed that the bot quotes inside its own lines (an issue's title, place and site; a question shown
 * back on its answer card and on the champions' gap cards). A forged or pasted line break would add lines of its
 * own, so breaks (also U+2028/U+2029) become one space; a direction control left open would reverse the rest of the
 * bot's line, so those go (DIRECTION_CONTROLS).
 */
export const oneLine = (s: string): string =>
  s.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').replace(DIRECTION_CONTROLS, '');
