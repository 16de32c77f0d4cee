import * as AC from 'adaptivecards';

/** What the adaptivecards library objects to in a card (parse and validation events), as readable lines. */
export function validationErrors(card: unknown): string[] {
  const parsed = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext();
  parsed.parse(card, ctx);
  const events = [...parsed.validateProperties().validationEvents];
  for (let i = 0; i < ctx.eventCount; i++) events.push(ctx.getEventAt(i));
  return events.map((e) => `${AC.ValidationEvent[e.event]}: ${e.message}`);
}
