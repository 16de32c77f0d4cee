import { DateTime } from 'luxon';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Send } from '../../src/broadcast/model.js';
import { parsePlan } from '../../src/broadcast/plan.js';
import { occurrenceSendId } from '../../src/broadcast/service.js';
import { mapLimit } from '../../src/map-limit.js';
import { reads } from '../support/table-reads.js';
import { fixture, type Fixture, LEAD } from './support.js';

/*
 * `plan` as a rollout grows: every send stays stored (a daily tip sends every day, every `send` adds one), and a
 * press must read what its page shows, not every send there is. Rows and calls are counted, not timed.
 */

const PLAN = `timeZone: Africa/Lusaka
messages:
  - id: daily-tip
    stage: adoption
    title: Today's tip
    body: A tip.
    audience: champions
    when: { every: "FREQ=DAILY", at: "09:00", from: 2026-01-01, until: 2027-12-31 }
${Array.from({ length: 6 }, (_, i) => `  - id: note-${i}
    stage: launch
    title: Note ${i}
    body: A note.
    audience: champions
    when: manual
`).join('')}`;

function sendOf(f: Fixture, s: Partial<Send> & Pick<Send, 'id' | 'source' | 'messageId' | 'createdAt'>): Omit<Send, 'etag'> {
  return {
    content: { title: 'x', body: 'x', links: [] },
    audience: { kind: 'champions' },
    audienceLabel: 'the champions',
    status: 'done',
    dueAt: s.createdAt,
    startedAt: s.createdAt,
    finishedAt: s.createdAt,
    requestedBy: null,
    notify: '',
    total: 3,
    cursor: '',
    chunks: 1,
    attempt: 1,
    ackFor: s.id,
    cohortId: '',
    occurrence: '',
    cancelledBy: null,
    counts: { pending: 0, sent: 3, failed: 0, blocked: 0, notInstalled: 0, cancelled: 0 },
    ...s,
  };
}

/** `n` days of the daily tip that went, up to the day before `f`'s clock, and `n` sends of note-5 typed by hand. */
async function history(f: Fixture, from: number, n: number): Promise<void> {
  const today = DateTime.fromJSDate(f.clock.now(), { zone: 'Africa/Lusaka' }).startOf('day');
  const rows: Omit<Send, 'etag'>[] = [];
  for (let i = from; i < from + n; i++) {
    const day = today.minus({ days: i + 1 }).set({ hour: 9 });
    const at = day.toJSDate();
    rows.push(sendOf(f, { id: occurrenceSendId('daily-tip', '', at), source: 'plan', messageId: 'daily-tip', occurrence: `all@${day.toISODate()}`, createdAt: at.toISOString() }));
    rows.push(sendOf(f, { id: `note-5.m${String(i).padStart(8, '0')}`, source: 'manual', messageId: 'note-5', createdAt: day.minus({ hours: 2 }).toUTC().toISO()! }));
  }
  await mapLimit(rows, 16, async (s) => {
    await f.b.sends.create(s);
    await f.b.sends.finish(s.id);
  });
}

afterEach(() => vi.restoreAllMocks());

describe('plan, with a long history of sends', () => {
  it('reads as much for a press after a year of daily sends as after ten days, and still shows the last send', { timeout: 120_000 }, async () => {
    const f = await fixture();
    f.plan.current = parsePlan(PLAN, { cohorts: [], groups: [] });
    const page = async () => {
      const p = await f.b.service.planPage(LEAD, { kind: 'start' });
      if (!('items' in p)) throw new Error(p.text);
      return p;
    };
    await history(f, 0, 10);
    const week = await reads(page);
    expect(week.value.items.map((i) => i.id)).toEqual(['daily-tip', 'note-0', 'note-1', 'note-2', 'note-3', 'note-4']);
    await history(f, 10, 300);
    const year = await reads(page);
    expect(year.value.items).toEqual(week.value.items);
    expect(year.value.items[0]!.status).toContain('Sent 10 Jan 2027');
    expect(year.rows).toBeLessThanOrEqual(week.rows);
    expect(year.calls).toBeLessThanOrEqual(week.calls);
  });
});
