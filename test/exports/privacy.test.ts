import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ExportPersonalData } from '../../src/exports/privacy.js';
import { ExportStore } from '../../src/exports/store.js';
import { testTables } from '../support/storage.js';

describe('forget, and the download files still live', () => {
  it("deletes the person's own files (their `my data` download) and leaves everyone else's", async () => {
    const store = await ExportStore.open(testTables(), new ManualClock('2026-11-30T08:00:00Z'));
    const file = (createdBy: string, content: string) =>
      store.save({ filename: 'my-data-2026-11-30.json', contentType: 'application/json', content, createdBy });
    const hers = await file('aad-zoe', '{"about":{"name":"Zoe Zimmer"}}');
    const his = await file('aad-yann', '{"about":{"name":"Yann"}}');
    const part = new ExportPersonalData(store);
    const zoe = { ids: ['aad-zoe', '29:zoe'], name: 'Zoe Zimmer' };

    expect((await part.describe(zoe)).holdings).toEqual([expect.objectContaining({ kind: 'exports.files', count: 1 })]);
    await part.forget(zoe);

    // Her link no longer serves her data; his still works.
    expect(await store.read(hers.token)).toBeUndefined();
    expect((await store.read(his.token))?.content).toContain('Yann');
    expect((await part.describe(zoe)).holdings).toEqual([]);
  });
});
