import type { Clock } from '../clock.js';
import { holdings, isSubject, type PersonalData, type Pseudonym, type Subject, type Tally } from '../privacy/personal-data.js';
import { personHash } from './events.js';
import type { FigureImports, ImportView } from './figure-imports.js';
import type { Figure, FigureStore } from './figures.js';
import { answerLabel, type Answers, type Pulse, respondentKey } from './pulse.js';
import type { PulseStore } from './pulse-store.js';
import type { EventStore } from './store.js';

/**
 * What the adoption figures hold about a person: their pulse answers and their place among a pulse's
 * recipients (stored under a salted hash of their key, which still points at them), the pulses they sent
 * and the IMS figures they entered, and the issue events they acted in (a one-way hash, to count distinct
 * people). `forget` moves each answer to the stand-in's key — still one answer, so results and counts stay —
 * and deletes their recipient rows; pulses and figures keep their content with the stand-in as sender or
 * enterer; events take the stand-in's hash. A large import they started and still running names them on its
 * job row: `forget` puts the stand-in there first, and the job reads it before each batch (figure-imports.ts),
 * so batches written after forget carry the stand-in too. The daily sketches of active people hold no id to take out.
 * `expire` deletes the answer and recipient rows of pulses closed before the retention period, keeping
 * their scale and choice answers (without keys) on the pulse so results and trends stay (its summary is
 * counted again from them first, and the free-text pages deleted: pulse-store expireAnswers).
 */
export class AdoptionPersonalData implements PersonalData {
  readonly feature = 'adoption';

  constructor(
    private readonly d: { pulses: PulseStore; figures: FigureStore; imports?: Pick<FigureImports, 'jobsOf' | 'forgetImporter'>; events: EventStore; clock: Clock },
  ) {}

  /** The respondent keys the person may have in a pulse (one per key they go by, case folded). */
  private keysIn(pulse: Pulse, subject: Subject): string[] {
    return [...new Set(subject.ids.map((id) => respondentKey(pulse, id)))];
  }

  private async find(subject: Subject) {
    const pulses = await this.d.pulses.all();
    const answers: { pulse: Pulse; key: string; answers: Answers; at: string }[] = [];
    const recipientOf: { pulse: Pulse; key: string }[] = [];
    for (const pulse of pulses) {
      for (const key of this.keysIn(pulse, subject)) {
        const row = await this.d.pulses.answerRow(pulse.id, key);
        if (row) answers.push({ pulse, key, ...row });
        if (await this.d.pulses.wasSentTo(pulse.id, key)) recipientOf.push({ pulse, key });
      }
    }
    const sent = pulses.filter((p) => isSubject(subject, p.createdById));
    const all = await this.d.figures.all();
    const figures = all.filter((f) => isSubject(subject, f.enteredById));
    // A later figure records whose it replaced (shown to the rollout team on the dashboard).
    const replacedOf = all.filter((f) => isSubject(subject, f.replaced?.enteredById));
    const actors = [...new Set(subject.ids.map(personHash))];
    const events = await this.d.events.countByActor(actors);
    const imports: ImportView[] = (await this.d.imports?.jobsOf(subject)) ?? [];
    return { answers, recipientOf, sent, figures, replacedOf, actors, events, imports };
  }

  private tally(f: Awaited<ReturnType<AdoptionPersonalData['find']>>): Tally {
    return {
      holdings: holdings(
        { kind: 'adoption.pulseAnswers', label: 'pulse answers they gave (still counted, person removed)', count: f.answers.length, action: 'anonymise' },
        { kind: 'adoption.pulseRecipients', label: 'pulses sent to them (deleted)', count: f.recipientOf.length, action: 'delete' },
        { kind: 'adoption.pulsesSent', label: 'pulses they sent (kept, sender anonymised)', count: f.sent.length, action: 'anonymise' },
        { kind: 'adoption.figures', label: 'IMS figures they entered (kept, person anonymised)', count: f.figures.length, action: 'anonymise' },
        { kind: 'adoption.figureImports', label: 'figure imports they started, still running (kept, importer anonymised)', count: f.imports.length, action: 'anonymise' },
        { kind: 'adoption.figuresReplaced', label: 'IMS figures of theirs a later figure replaced (noted on it; person anonymised)', count: f.replacedOf.length, action: 'anonymise' },
        { kind: 'adoption.events', label: 'issue actions counted in the adoption figures (still counted, person anonymised)', count: f.events, action: 'anonymise' },
      ),
    };
  }

  async describe(subject: Subject): Promise<Tally> {
    return this.tally(await this.find(subject));
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    const f = await this.find(subject);
    return {
      pulseAnswers: f.answers.map((a) => ({
        pulse: a.pulse.id,
        title: a.pulse.title,
        at: a.at,
        answers: a.pulse.questions.filter((q) => a.answers[q.id] !== undefined).map((q) => ({ question: q.text, answer: answerLabel(q, a.answers[q.id]) })),
      })),
      pulsesReceived: f.recipientOf.map((r) => ({ pulse: r.pulse.id, title: r.pulse.title, sentAt: r.pulse.sentAt })),
      pulsesSent: f.sent.map((p) => ({ pulse: p.id, title: p.title, audience: p.audience, sentAt: p.sentAt })),
      figuresEntered: f.figures.map((x: Figure) => ({ measure: x.measureId, date: x.date, value: x.value, enteredAt: x.enteredAt, via: x.via })),
      figuresOfTheirsReplaced: f.replacedOf.map((x: Figure) => ({ measure: x.measureId, date: x.date, theirValue: x.replaced?.value, replacedWith: x.value })),
      figureImportsRunning: f.imports.map((x) => ({ import: x.id, startedAt: x.at, via: x.via, figures: x.total, writtenSoFar: x.written })),
      issueActionsCounted: f.events,
    };
  }

  async forget(subject: Subject, pseudonym: Pseudonym): Promise<Tally> {
    // Their running imports first: batches written from here on carry the stand-in, so the figures found below are
    // all there are under their name (one written meanwhile under it is written again: FigureImports.run).
    await this.d.imports?.forgetImporter(subject, pseudonym);
    const f = await this.find(subject);
    for (const a of f.answers) {
      const stand = respondentKey(a.pulse, pseudonym.id);
      await this.d.pulses.moveAnswer(a.pulse.id, a.key, stand);
      // Still one answer, so the counts stand. Its free text as last counted is shown under a key derived from theirs:
      // moved to the stand-in's here, so nothing keyed to them is left once forget is done. A count that read the
      // answers before the move cannot write the old pages back: its page writes are guarded by the claim the
      // re-key takes (PulseStore's `~pages` row), so it starts again from the answers as they are now.
      await this.d.pulses.rekeyTexts(a.pulse, a.key, stand);
      await this.d.pulses.requestRecount(a.pulse.id, this.d.clock.now());
    }
    for (const r of f.recipientOf) await this.d.pulses.removeRecipient(r.pulse.id, r.key);
    for (const p of f.sent) await this.d.pulses.replace({ ...p, createdBy: pseudonym.name, createdById: pseudonym.id });
    for (const x of f.figures) await this.d.figures.replaceEnteredBy(x, pseudonym);
    for (const x of f.replacedOf) await this.d.figures.replaceReplacedBy(x, pseudonym);
    await this.d.events.replaceActor(f.actors, personHash(pseudonym.id));
    return this.tally(f);
  }

  /** Answer and recipient rows of pulses closed before `before`, up to `limit` rows a run. */
  async expire(before: Date, limit: number): Promise<number> {
    const cutoff = before.toISOString();
    let deleted = 0;
    for (const pulse of await this.d.pulses.all()) {
      if (deleted >= limit) break;
      if (pulse.closesAt >= cutoff) continue;
      deleted += await this.d.pulses.expireAnswers(pulse, limit - deleted);
    }
    return deleted;
  }
}
