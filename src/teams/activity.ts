import { type Activity, CardFactory, MessageFactory } from 'botbuilder';
import type { AdaptiveCard } from '../cards/template.js';

export type Outgoing = string | AdaptiveCard | Partial<Activity>;

/** A reply or a proactive message as a Bot Framework activity: markdown text, or a card. */
export function toActivity(out: Outgoing): Partial<Activity> {
  if (typeof out === 'string') return MessageFactory.text(out);
  if ('type' in out && out.type === 'AdaptiveCard') {
    return MessageFactory.attachment(CardFactory.adaptiveCard(out));
  }
  return out as Partial<Activity>;
}
