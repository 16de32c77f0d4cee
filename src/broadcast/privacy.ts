import { holdings, isSubject, type PersonalData, type Pseudonym, type Subject, type Tally } from '../privacy/personal-data.js';
import type { Person } from '../roles/roles.js';
import type { Celebration, CelebrationStore } from './celebrations.js';
import type { AckStore, DeliveryRows } from './deliveries.js';
import type { Send } from './model.js';
import type { SendStore } from './sends.js';
import type { WinStore } from './wins.js';

/**
 * What the communication plan holds about a person: a delivery row for each message sent to them, their
 * "Got it"s, the sends they started or cancelled (and whose report they get), the celebrations that name
 * them or that they posted, and their kudos. `forget` deletes their delivery rows and acknowledgements,
 * puts their pseudonym where a send or a celebration keeps the record, and moves their kudos to it (counts
 * stay). `expire` deletes the delivery rows and acknowledgements of sends that finished before the
 * retention period (each send keeps its counts), and kudos given before it (each celebration keeps its count).
 */
export class BroadcastPersonalData implements PersonalData {
  readonly feature = 'broadcast';

  constructor(
    private readonly d: { sends: SendStore; deliveries: DeliveryRows; acks: AckStore; celebrations: CelebrationStore; wins: Pick<WinStore, 'championWinsOf' | 'drop'> },
  ) {}

  /** Everything found, read once: rows by point reads per send and key (a rollout has hundreds of sends). */
  private async find(subject: Subject) {
    const sends = await this.d.sends.all();
    const received: { send: Send; key: string; state: string; at: string }[] = [];
    const acknowledged: { send: Send; key: string; at: string }[] = [];
    for (const send of sends) {
      for (const key of subject.ids) {
        const row = await this.d.deliveries.get(send.id, key);
        if (row && row.kind === 'user') received.push({ send, key, state: row.state, at: row.at });
      }
      for (const key of new Set(subject.ids.map((k) => k.toLowerCase()))) {
        const at = await this.d.acks.when(send.id, key);
        if (at !== undefined) acknowledged.push({ send, key, at });
      }
    }
    const isThem = (p: Person | null) => Boolean(p && isSubject(subject, p.id));
    const started = sends.filter((s) => isThem(s.requestedBy) || isThem(s.cancelledBy) || isSubject(subject, s.notify) || listsThem(subject, s));
    const cancelledPlan = [...(await this.d.sends.cancelledBy())].filter(([, by]) => isSubject(subject, by)).map(([id]) => id);
    const celebrations = await this.d.celebrations.all();
    const named = celebrations.filter((c) => c.people.some((p) => isSubject(subject, p.id)) || isThem(c.by));
    const kudos: { celebration: Celebration; key: string; at: string }[] = [];
    for (const c of celebrations) {
      for (const key of new Set(subject.ids.map((k) => k.toLowerCase()))) {
        const at = await this.d.celebrations.kudosAt(c.id, key);
        if (at !== undefined) kudos.push({ celebration: c, key, at });
      }
    }
    // The plan file is the rollout team's own: forget cannot edit it, so it says where they are still named.
    const plan = await this.d.sends.lastGoodPlan();
    const inPlanFile = subject.ids.some((id) => id.length >= 8 && plan?.toLowerCase().includes(id.toLowerCase()));
    // The record that their champion-of-the-month win was posted is keyed by their id.
    const wins = await this.d.wins.championWinsOf(subject.ids);
    return { received, acknowledged, started, cancelledPlan, named, kudos, inPlanFile, wins };
  }

  async describe(subject: Subject): Promise<Tally> {
    const f = await this.find(subject);
    return {
      holdings: holdings(
        { kind: 'broadcast.deliveries', label: 'records of announcements sent to them (deleted)', count: f.received.length, action: 'delete' },
        { kind: 'broadcast.acks', label: '"Got it"s they gave (deleted)', count: f.acknowledged.length, action: 'delete' },
        { kind: 'broadcast.sends', label: 'sends they started, cancelled, get the report of or were listed in (kept, person anonymised)', count: f.started.length + f.cancelledPlan.length, action: 'anonymise' },
        { kind: 'broadcast.celebrations', label: 'celebrations naming them or posted by them (kept, person anonymised)', count: f.named.length, action: 'anonymise' },
        { kind: 'broadcast.kudos', label: 'kudos they gave (counted, person removed)', count: f.kudos.length, action: 'anonymise' },
        { kind: 'broadcast.wins', label: 'records that their champion-of-the-month win was posted (deleted)', count: f.wins.length, action: 'delete' },
      ),
      notes: [
        ...(f.named.length ? ['Celebration posts already in the support channel still show their name in Teams: a channel owner can delete those posts.'] : []),
        ...(f.inPlanFile ? ['The communication plan file lists them by id in an audience: take them out of the file, or the plan sends to them again.'] : []),
      ],
    };
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    const f = await this.find(subject);
    return {
      announcementsReceived: f.received.map((r) => ({ send: r.send.id, message: r.send.content.title ?? '', state: r.state, at: r.at })),
      acknowledged: f.acknowledged.map((a) => ({ send: a.send.id, message: a.send.content.title ?? '', at: a.at })),
      sendsStartedOrCancelled: f.started.map((s) => ({
        send: s.id,
        message: s.content.title ?? '',
        startedByYou: Boolean(s.requestedBy && isSubject(subject, s.requestedBy.id)),
        cancelledByYou: Boolean(s.cancelledBy && isSubject(subject, s.cancelledBy.id)),
        reportToYou: isSubject(subject, s.notify),
        addressedToYouById: listsThem(subject, s),
        createdAt: s.createdAt,
      })),
      planMessagesCancelled: f.cancelledPlan,
      celebrations: f.named.map((c) => ({
        celebration: c.id,
        what: c.what,
        at: c.at,
        postedByYou: Boolean(c.by && isSubject(subject, c.by.id)),
        namesYou: c.people.some((p) => isSubject(subject, p.id)),
      })),
      kudosGiven: f.kudos.map((k) => ({ celebration: k.celebration.id, at: k.at })),
      championOfTheMonth: f.wins.map((w) => w.month),
    };
  }

  async forget(subject: Subject, pseudonym: Pseudonym): Promise<Tally> {
    const tally = await this.describe(subject);
    const f = await this.find(subject);
    const stand = (p: Person | null): Person | null => (p && isSubject(subject, p.id) ? { id: pseudonym.id, name: pseudonym.name } : p);
    for (const r of f.received) await this.d.deliveries.remove(r.send.id, r.key);
    for (const a of f.acknowledged) await this.d.acks.remove(a.send.id, a.key);
    for (const s of f.started) {
      await this.d.sends.change(s.id, (cur) =>
        isSubject(subject, cur.requestedBy?.id) || isSubject(subject, cur.cancelledBy?.id) || isSubject(subject, cur.notify) || listsThem(subject, cur)
          ? {
              requestedBy: stand(cur.requestedBy),
              cancelledBy: stand(cur.cancelledBy),
              // Nobody gets the report any more: a pseudonym is never sent anything.
              notify: isSubject(subject, cur.notify) ? '' : cur.notify,
              audience:
                cur.audience.kind === 'users'
                  ? { kind: 'users', userIds: cur.audience.userIds.map((id) => (isSubject(subject, id) ? pseudonym.id : id)) }
                  : cur.audience,
            }
          : undefined,
      );
    }
    for (const id of f.cancelledPlan) await this.d.sends.setCancelledBy(id, pseudonym.id);
    for (const c of f.named) {
      await this.d.celebrations.replacePeople(c.id, (cur) => ({
        people: cur.people.map((p) => (isSubject(subject, p.id) ? { id: pseudonym.id, name: pseudonym.name } : p)),
        by: stand(cur.by),
      }));
    }
    for (const k of f.kudos) await this.d.celebrations.moveKudos(k.celebration.id, k.key, pseudonym.id);
    // Deleted, not moved: their resolutions now count for the stand-in, who is no champion, so it never fires again.
    for (const w of f.wins) await this.d.wins.drop(w.rowKey);
    return tally;
  }

  /** Delivery rows and acknowledgements of sends finished before `before`, and kudos given before it; up to `limit` rows a run. */
  async expire(before: Date, limit: number): Promise<number> {
    const cutoff = before.toISOString();
    let deleted = 0;
    for (const s of await this.d.sends.all()) {
      if (deleted >= limit) break;
      const ended = s.finishedAt || (s.status === 'cancelled' ? s.createdAt : '');
      if (!(s.status === 'done' || s.status === 'cancelled') || !ended || ended >= cutoff) continue;
      deleted += await this.d.deliveries.removeSome(s.id, limit - deleted);
      if (deleted < limit) deleted += await this.d.acks.removeSome(s.id, limit - deleted);
    }
    if (deleted < limit) deleted += await this.d.celebrations.expireKudos(before, limit - deleted);
    return deleted;
  }
}

/** A send addressed to a list of people that names them. */
function listsThem(subject: Subject, send: Send): boolean {
  return send.audience.kind === 'users' && send.audience.userIds.some((id) => isSubject(subject, id));
}
