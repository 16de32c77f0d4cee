import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ExportStore } from '../../src/exports/store.js';
import { testTables } from '../support/storage.js';

describe('ExportStore', () => {
  it('keeps a large file intact across chunks and serves it until it expires', async () => {
    const clock = new ManualClock();
    const store = await ExportStore.open(testTables(), clock);
    const content = `ref,title\n${Array.from({ length: 5_000 }, (_, i) => `R-${i},"Title ${i} — ünïcødé"`).join('\n')}`;
    const { token } = await store.save(
      { filename: 'issues.csv', contentType: 'text/csv', content, createdBy: 'aad-lead' },
      60_000,
    );
    const file = await store.read(token);
    expect(file?.content).toBe(content);
    expect(file?.filename).toBe('issues.csv');
    clock.advance(61_000);
    expect(await store.read(token)).toBeUndefined();
  });

  it('reads unknown or malformed tokens as missing', async () => {
    const store = await ExportStore.open(testTables(), new ManualClock());
    expect(await store.read('0'.repeat(64))).toBeUndefined();
    expect(await store.read("x' or PartitionKey ne '")).toBeUndefined();
  });
});
