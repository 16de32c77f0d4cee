/** A count as the app's messages write it: thousands separated ("2,003"), as the cards' figures are. */
export const count = (n: number): string => n.toLocaleString('en-GB');

/** "1 person", "2,003 people": counted right for one; `adjective` goes between ("3 listed people"). */
export const people = (n: number, adjective?: string): string => `${count(n)} ${adjective ? `${adjective} ` : ''}${n === 1 ? 'person' : 'people'}`;
