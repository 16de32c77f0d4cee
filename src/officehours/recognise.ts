/**
 * "When are office hours?" and its kin: questions answered from the live schedule rather than the guidance
 * (whose table of times may be out of date). Asked before the FAQ engine; a plain word test, linear time.
 */
const SESSION = /\b(office[- ]?hours?|drop[- ]?in|deadline clinic|q ?& ?a sessions?)\b/;
const ASKING = /\b(when|what time|which day|next|schedule|times?|today|tomorrow|tonight|this week|next week|is there|are there|any|book|booking|join|sign up|register|how do i get)\b/;

export function asksForOfficeHours(text: string): boolean {
  const t = text.toLowerCase().slice(0, 300);
  if (!SESSION.test(t)) return false;
  return ASKING.test(t) || t.replace(/[^\p{L}\s]/gu, '').trim().split(/\s+/).length <= 3;
}
