import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { SavedConversations } from '../../src/conversations/saved.js';

/** The forget marker as the store keeps it, counting reads. */
function fakeStore() {
  const s = {
    token: '',
    reads: 0,
    listeners: [] as (() => void)[],
    forgetMarker: async () => {
      s.reads++;
      return s.token;
    },
    onForgotten: (l: () => void) => void s.listeners.push(l),
  };
  return s;
}

describe('the cache of conversations already saved', () => {
  it('reads the forget marker at most once per half minute, however many turns, and drops every entry when it changed', async () => {
    const store = fakeStore();
    const clock = new ManualClock('2026-12-01T08:00:00Z');
    const saved = new SavedConversations(store, clock);
    expect(await saved.has('chat-a')).toBe(false);
    saved.add('chat-a');
    for (let i = 0; i < 100; i++) expect(await saved.has('chat-a')).toBe(true);
    expect(store.reads).toBe(1);

    // Forgotten on another instance: this one keeps its entry until its next read of the marker, then drops it.
    store.token = 'after-a-forget';
    clock.advance(29_000);
    expect(await saved.has('chat-a')).toBe(true);
    clock.advance(1_000);
    expect(await saved.has('chat-a')).toBe(false);
    expect(store.reads).toBe(2);
  });

  it('drops every entry at once when a forget ran on this instance', async () => {
    const store = fakeStore();
    const saved = new SavedConversations(store, new ManualClock());
    await saved.has('chat-a');
    saved.add('chat-a');
    for (const l of store.listeners) l();
    expect(await saved.has('chat-a')).toBe(false);
    expect(store.reads).toBe(1);
  });

  it('turns arriving together share one read of the marker, and a read that fails is not tried again by every turn', async () => {
    const store = fakeStore();
    const clock = new ManualClock('2026-12-01T08:00:00Z');
    const saved = new SavedConversations(store, clock);
    const all = await Promise.all(Array.from({ length: 50 }, () => saved.has('chat-a')));
    expect(all.every((h) => h === false)).toBe(true);
    expect(store.reads).toBe(1);

    // Storage stops answering: the turn that found the read due sees the failure (the bot logs it and goes on);
    // the turns after it do not each wait on storage again until the next period.
    clock.advance(30_000);
    store.forgetMarker = async () => {
      store.reads++;
      throw new Error('storage not answering');
    };
    await expect(saved.has('chat-a')).rejects.toThrow('storage not answering');
    for (let i = 0; i < 20; i++) await saved.has('chat-a');
    expect(store.reads).toBe(2);
  });

  it('drops what it cached while it could not read the marker, at the first read that succeeds', async () => {
    const store = fakeStore();
    const clock = new ManualClock('2026-12-01T08:00:00Z');
    const saved = new SavedConversations(store, clock);
    const read = store.forgetMarker;
    store.forgetMarker = async () => {
      throw new Error('storage not answering');
    };
    await expect(saved.has('chat-a')).rejects.toThrow();
    saved.add('chat-a');
    // A forget on another instance meanwhile; then storage answers again.
    store.token = 'after-a-forget';
    store.forgetMarker = read;
    clock.advance(30_000);
    expect(await saved.has('chat-a')).toBe(false);
  });
});
