/**
 * Text a person typed that the bot quotes inside its own lines (an issue's title, place and site; a question shown
 * back on its answer card and on the champions' gap cards). A forged or pasted line break would add lines of its
 * own, so breaks (also U+2028/U+2029) become one space; a direction embedding, override or isolate left open would
 * reverse the rest of the bot's line, so those go (Arabic or Hebrew needs none of them; the RLM and LRM marks stay).
 */
export const oneLine = (s: string): string =>
  s.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').replace(/[\u202A-\u202E\u2066-\u2069]/g, '');
