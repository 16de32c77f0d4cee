import { describe, expect, it } from 'vitest';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { forgetPickCard } from '../../src/privacy/cards.js';
import { validationErrors } from '../support/cards.js';

describe('the forget pick card', () => {
  it("stays under Teams' 40 KB with a hundred known people of long names, and says that not everyone is listed", () => {
    // The app keeps names as Teams gave them, up to 200 characters.
    const people = Array.from({ length: 100 }, (_, i) => ({ id: `0b0e0000-1111-4222-8333-${String(i).padStart(12, '0')}`, name: `Person ${i} ${'é'.repeat(190)}` }));
    const card = forgetPickCard(people, { error: 'More than one person is called "Sam": pick the one you mean.' });
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    expect(validationErrors(card)).toEqual([]);
    const json = JSON.stringify(card);
    expect(json).toContain(people[0]!.id);
    expect(json).not.toContain(people[99]!.id);
    expect(json).toMatch(/Not everyone is listed here: search by name, or type their Entra object id/);
  });

  it('lists everyone, with no note, when they fit', () => {
    const people = [{ id: '0b0e0000-1111-4222-8333-000000000001', name: 'Adele Vance' }];
    const json = JSON.stringify(forgetPickCard(people));
    expect(json).toContain('Adele Vance');
    expect(json).not.toContain('Not everyone is listed');
  });
});
