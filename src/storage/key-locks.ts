/**
 * Serialises writes to the same entity within this process, so the journal lists them in the order
 * Azurite applied them (two unconditional upserts racing could otherwise be answered in one order and
 * journaled in the other). A write holds its keys until its record is on disk, so a later write to the
 * same entity is never journaled while an earlier one could still be lost.
 */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const before = unique.map((k) => this.tails.get(k)).filter((p): p is Promise<void> => p !== undefined);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    for (const k of unique) this.tails.set(k, mine);
    try {
      await Promise.all(before);
      return await fn();
    } finally {
      release();
      for (const k of unique) if (this.tails.get(k) === mine) this.tails.delete(k);
    }
  }
}
