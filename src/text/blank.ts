/** Whether text shows nothing: only spaces, line breaks and format characters (zero-width spaces, joiners, marks). */
export const isBlank = (s: string): boolean => !s.replace(/[\p{Cf}\s]/gu, '');
