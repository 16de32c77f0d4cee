import { createHmac, timingSafeEqual } from 'node:crypto';
import { accountSecret } from '../storage/secrets.js';
import type { Tables } from '../storage/tables.js';
import type { Pseudonym, Subject } from './personal-data.js';

/** What a confirmation token signs: its expiry, the keys in any order, and the name (JSON keeps them apart). */
const confirmText = (exp: number, subject: Subject): string => `confirm|${JSON.stringify([exp, [...subject.ids].sort(), subject.name ?? null])}`;

/** Pseudonymous ids start with this; no Teams (29:…) or Entra (GUID) id does. */
const PREFIX = 'former:';

/** Whether a stored person id is a forgotten person's stand-in: such a person is never sent anything. */
export function isPseudonym(id: string | undefined | null): boolean {
  return typeof id === 'string' && id.startsWith(PREFIX);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The key a person's pseudonym is derived from: their Entra object id when one of their keys is one (it
 * never changes), else the first of their other keys. Lower-cased, so "forget AAD-…" typed in capitals is
 * the same person.
 */
function primaryKey(subject: Subject): string {
  const ids = [...subject.ids].map((id) => id.trim().toLowerCase()).sort();
  return ids.find((id) => GUID.test(id)) ?? ids[0] ?? '';
}

/**
 * Pseudonyms and confirmation tokens, keyed by a secret made once per Storage account (table `PrivacyKeys`):
 * a pseudonym is an HMAC of the person's key, so it is stable (re-running `forget` gives the same one) and
 * nobody can find whose it is by hashing candidate ids. A confirmation token ties the rollout team's
 * "Forget" button to the card the server showed, for an hour.
 */
export class Pseudonyms {
  private constructor(
    private readonly key: Buffer,
    private readonly now: () => number,
  ) {}

  static async open(tables: Tables, now: () => number): Promise<Pseudonyms> {
    return new Pseudonyms(await accountSecret(await tables.table('PrivacyKeys'), 'pseudonym'), now);
  }

  of(subject: Subject): Pseudonym {
    const hex = this.mac(`pseudonym|${primaryKey(subject)}`, 'hex').slice(0, 16);
    return { id: `${PREFIX}${hex}`, name: `Former member ${hex.slice(0, 4)}` };
  }

  /**
   * A keyed hash of one key of a person (lower-cased, as ids compare): what the record of a forget is filed under
   * (forgotten-keys.ts), so it can be found from any of their keys without naming them.
   */
  keyHash(id: string): string {
    return this.mac(`forgotten|${id.trim().toLowerCase()}`, 'hex');
  }

  /**
   * A token for confirming `forget` of exactly these keys and this name, valid for `ttlMs`. The name is bound
   * too: forget also looks for it in what names the person (live downloads, kept answers).
   */
  confirmation(subject: Subject, ttlMs = 3_600_000): string {
    const exp = Math.floor((this.now() + ttlMs) / 1000);
    return `${exp}.${this.mac(confirmText(exp, subject), 'base64url')}`;
  }

  /** Whether `token` was made by `confirmation` for these keys and name and has not expired. */
  confirms(subject: Subject, token: string): boolean {
    const m = /^(\d{1,12})\.([\w-]{43})$/.exec(token);
    if (!m) return false;
    const [, exp = '', sig = ''] = m;
    if (Number(exp) * 1000 <= this.now()) return false;
    const expected = Buffer.from(this.mac(confirmText(Number(exp), subject), 'base64url'));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(text: string, encoding: 'hex' | 'base64url'): string {
    return createHmac('sha256', this.key).update(text).digest(encoding);
  }
}
