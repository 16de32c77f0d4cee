import { describe, expect, it } from 'vitest';
import { formattedWords, recogniseEchoedCard } from '../../src/faq/echo.js';

/** The answer card our guidance search inserts into the compose box (cards/faq-answer.json, shortened). */
const card = {
  contentType: 'application/vnd.microsoft.card.adaptive',
  content: {
    type: 'AdaptiveCard',
    version: '1.5',
    body: [{ type: 'TextBlock', text: 'Syncing happens automatically every 15 minutes…', wrap: true }],
  },
};

describe('recogniseEchoedCard', () => {
  it('recognises a search card sent back as an inline compose card span', () => {
    const message = {
      text: '<span class="inline-compose-card" contenteditable="false" itemid="0" itemtype="http://schema.skype.com/AdaptiveCard">How do I sync my tablet? Syncing happens automatically every 15 minutes…</span>',
      textFormat: 'xml',
      attachments: [card, { contentType: 'text/html', content: '<span class="inline-compose-card">…</span>' }],
    };
    expect(recogniseEchoedCard(message)).toEqual({ echoed: true, ownText: '' });
  });

  it('recognises the attachment placeholder form, with the bot @mentioned in a channel', () => {
    const message = {
      text: '<at>Rollout Desk</at>&nbsp;<attachment id="7a1c3f0e2b7d4c1e9f2a"></attachment>',
      attachments: [card],
    };
    expect(recogniseEchoedCard(message)).toEqual({ echoed: true, ownText: '' });
  });

  it('keeps the words someone typed beside the card, so a real question is still answered', () => {
    const message = {
      text: '<p>is this still right after the update?</p><span class="inline-compose-card" itemid="0"><span>How do I sync my tablet?</span> Syncing happens…</span>',
      attachments: [card],
    };
    expect(recogniseEchoedCard(message)).toEqual({
      echoed: true,
      ownText: 'is this still right after the update?',
    });
  });

  it('recognises an adaptive card sent with an empty or HTML-only text', () => {
    expect(recogniseEchoedCard({ text: '', attachments: [card] }).echoed).toBe(true);
    expect(recogniseEchoedCard({ text: '<div></div>', textFormat: 'xml', attachments: [card] }).echoed).toBe(true);
  });

  it('leaves ordinary questions alone, HTML-formatted or not', () => {
    expect(recogniseEchoedCard({ text: 'how do i sync my tablet' })).toEqual({
      echoed: false,
      ownText: 'how do i sync my tablet',
    });
    // Teams sends typed messages as HTML too; without a card they are questions.
    expect(recogniseEchoedCard({ text: '<p>the submit button is <b>greyed out</b></p>', textFormat: 'xml' }).echoed).toBe(
      false,
    );
    // A pasted image is not a card.
    expect(
      recogniseEchoedCard({
        text: '<p>what does this error mean</p>',
        attachments: [{ contentType: 'image/*', content: 'https://example.org/x.png' }],
      }).echoed,
    ).toBe(false);
  });
});

describe('formattedWords: numeric entities', () => {
  it('decodes hex entities as it does decimal ones, and then strips the direction controls and controls they name', () => {
    const hex = formattedWords({ text: '<p>my &#x202E;monthly report&#x202C; is &#X47;rey &#x1;x &#xd83d; caf&#xE9;</p>', textFormat: 'xml' });
    const dec = formattedWords({ text: '<p>my &#8238;monthly report&#8236; is &#71;rey &#1;x &#55357; caf&#233;</p>', textFormat: 'xml' });
    expect(hex).toBe('my monthly report is Grey x \uFFFD café');
    expect(hex).toBe(dec);
  });
});
