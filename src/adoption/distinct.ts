import { createHash } from 'node:crypto';

/**
 * Counting distinct people without keeping who they are: a HyperLogLog sketch (2,048 one-byte registers,
 * about 2 % error for large counts and exact in practice for small ones, where linear counting applies).
 * A day's sketch is stored with the day's figures; a week's count merges seven of them. No id can be read
 * back out of a sketch, so the weekly-active figure needs no list of users.
 */

const P = 11;
const M = 1 << P;
const ALPHA = 0.7213 / (1 + 1.079 / M);

export class DistinctCounter {
  private constructor(private readonly registers: Uint8Array) {}

  static empty(): DistinctCounter {
    return new DistinctCounter(new Uint8Array(M));
  }

  /** A stored sketch; an empty or unreadable one counts nobody. */
  static decode(text: string | undefined): DistinctCounter {
    const bytes = text ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    return new DistinctCounter(bytes.length === M ? new Uint8Array(bytes) : new Uint8Array(M));
  }

  encode(): string {
    return Buffer.from(this.registers).toString('base64');
  }

  add(key: string): this {
    const h = createHash('sha256').update(key).digest();
    const x = h.readBigUInt64BE(0);
    const index = Number(x >> BigInt(64 - P));
    const rest = (x << BigInt(P)) & 0xffff_ffff_ffff_ffffn;
    let rank = 1;
    for (let bit = 63n; bit >= 0n && rank <= 64 - P; bit--, rank++) if ((rest >> bit) & 1n) break;
    if (rank > this.registers[index]!) this.registers[index] = rank;
    return this;
  }

  merge(other: DistinctCounter): this {
    for (let i = 0; i < M; i++) if (other.registers[i]! > this.registers[i]!) this.registers[i] = other.registers[i]!;
    return this;
  }

  count(): number {
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const estimate = (ALPHA * M * M) / sum;
    if (estimate <= 2.5 * M && zeros > 0) return Math.round(M * Math.log(M / zeros));
    return Math.round(estimate);
  }
}

const ASKER_BITS = 256;

/**
 * Who asked one gap, as a 256-bit sketch (linear counting): merging days' sketches counts a person who asked on
 * several days once, and is exact in practice for the few people a gap has. One bit of a hash per person: as
 * with the sketch above, no id can be read back out of it. Hex, 64 characters, stored on the gap's line.
 */
export class AskerSketch {
  private constructor(private readonly bits: Uint8Array) {}

  static empty(): AskerSketch {
    return new AskerSketch(new Uint8Array(ASKER_BITS / 8));
  }

  /** A stored sketch, or undefined for none (a line rolled up before sketches were kept) or an unreadable one. */
  static decode(hex: string | undefined): AskerSketch | undefined {
    return hex && /^[0-9a-f]{64}$/.test(hex) ? new AskerSketch(new Uint8Array(Buffer.from(hex, 'hex'))) : undefined;
  }

  encode(): string {
    return Buffer.from(this.bits).toString('hex');
  }

  add(key: string): this {
    const bit = createHash('sha256').update(key).digest()[0]!;
    this.bits[bit >> 3]! |= 1 << (bit & 7);
    return this;
  }

  merge(other: AskerSketch): this {
    for (let i = 0; i < this.bits.length; i++) this.bits[i]! |= other.bits[i]!;
    return this;
  }

  count(): number {
    let zeros = 0;
    for (const byte of this.bits) for (let b = 0; b < 8; b++) if (!(byte & (1 << b))) zeros++;
    return Math.round(ASKER_BITS * Math.log(ASKER_BITS / Math.max(zeros, 1)));
  }
}
