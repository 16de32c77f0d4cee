import * as AC from 'adaptivecards';

/**
 * Teams-only elements (charts) that this renderer does not know: with a `fallback` they are fine (other
 * clients draw the fallback); without one they are reported like any unknown element.
 */
function chartsWithFallback(card: unknown): Map<string, number> {
  const found = new Map<string, number>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (typeof n.type === 'string' && n.type.startsWith('Chart.') && n.fallback) found.set(n.type, (found.get(n.type) ?? 0) + 1);
    Object.values(n).forEach(walk);
  };
  walk(card);
  return found;
}

/** What the adaptivecards library objects to in a card (parse and validation events), as readable lines. */
export function validationErrors(card: unknown): string[] {
  const parsed = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext();
  parsed.parse(card, ctx);
  const events = [...parsed.validateProperties().validationEvents];
  for (let i = 0; i < ctx.eventCount; i++) events.push(ctx.getEventAt(i));
  const allowed = chartsWithFallback(card);
  return events
    .filter((e) => {
      const chart = /^Unknown element type "(Chart\.[\w.]+)"\. Fallback will be used/.exec(e.message)?.[1];
      const left = chart ? (allowed.get(chart) ?? 0) : 0;
      if (chart && left > 0) allowed.set(chart, left - 1);
      return !(chart && left > 0);
    })
    .map((e) => `${AC.ValidationEvent[e.event]}: ${e.message}`);
}
