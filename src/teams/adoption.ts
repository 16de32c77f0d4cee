import {
  ADOPTION_COMMANDS,
  ADOPTION_VERBS,
  type AdoptionCaller,
  type AdoptionService,
  audienceOf,
  dayIn,
  imsMeasure,
  measureFormCard,
  measuresCard,
  pulseAnsweredCard,
  pulseClosedCard,
  pulseCard,
  pulseComposeCard,
  pulseResultsCard,
  type PulseAudienceGroups,
  type PulseService,
  sentNotice,
  importCard,
  importedNotice,
  IMPORT_POST,
  writesDecimalComma,
} from '../adoption/index.js';
import type { PostStore } from '../conversations/posts.js';
import type { Clock } from '../clock.js';
import { allows, refusalFor } from '../roles/permissions.js';
import { personOf } from '../roles/roles.js';
import type { CardActionResult, RolloutDeskBot, Turn } from './bot.js';
import { cardPostOf, timeZoneOf } from './turn.js';

export interface AdoptionWiring {
  adoption: AdoptionService;
  pulses: PulseService;
  clock: Clock;
  /** Where the dashboard opens (a Teams deep link, or the tab's page). */
  dashboardUrl: () => string;
  /** The rollout's user groups and cohorts, as a pulse's audience choices. */
  audiences: () => PulseAudienceGroups;
  /** Where a large import's card is, for its job to redraw it as batches land. */
  posts: Pick<PostStore, 'save'>;
  /** The time zone saved with the person's 1:1 chat (by user key), for a card press that carries none. */
  savedZone: (userKey: string) => Promise<string | undefined>;
}

const callerOf = (turn: Turn): AdoptionCaller => ({ person: personOf(turn.actor), role: turn.role });

/** The adoption feature's command and card verbs: parse, call the services, render their results. */
export function registerAdoption(bot: RolloutDeskBot, w: AdoptionWiring): void {
  const measures = async (turn: Turn, extra: { notice?: string; good?: boolean; errors?: readonly string[]; from?: number } = {}): Promise<CardActionResult> => {
    const overview = await w.adoption.overview();
    // A card press often carries no time zone: the one Teams gave on the person's messages, else UTC. Unread (storage
    // trouble) it is UTC's day, not a failed card.
    const zone = timeZoneOf(turn.context.activity) ?? (await w.savedZone(turn.actor.aadObjectId ?? turn.actor.id).catch(() => undefined));
    return {
      card: measuresCard({
        statuses: overview.measures,
        asOf: overview.asOf,
        canEdit: allows(turn.role, 'adoption.measures'),
        version: w.adoption.measuresVersion,
        // The figure's date as the reader would write it today: UTC's is tomorrow on an evening west of UTC.
        today: dayIn(w.clock.now(), zone),
        dashboardUrl: w.dashboardUrl(),
        notice: extra.notice,
        noticeColor: extra.notice ? (extra.good ? 'Good' : 'Attention') : 'Default',
        errors: extra.errors,
        from: extra.from,
      }),
    };
  };

  bot.command(ADOPTION_COMMANDS.adoption, async (turn) => {
    const res = await measures(turn);
    await turn.reply(res.card!);
  });
  bot.verb(ADOPTION_VERBS.show, (turn, data) => measures(turn, { from: data.from }));

  // ---- measures ----------------------------------------------------------------------------------

  bot.verb(ADOPTION_VERBS.form, async (turn, data) => {
    const measure = data.id ? w.adoption.measures.find((m) => m.id === data.id) : undefined;
    if (data.id && !measure) return measures(turn, { notice: `There is no measure "${data.id}" any more.` });
    return { card: measureFormCard({ measure, version: w.adoption.measuresVersion }) };
  });

  bot.verb(ADOPTION_VERBS.save, async (turn, data) => {
    const { mode, version, measureId, ...input } = data;
    const edit = mode === 'add' ? ({ kind: 'add', input } as const) : ({ kind: 'update', id: measureId, input } as const);
    const res = await w.adoption.editMeasure(callerOf(turn), edit, version);
    if (res.ok) {
      turn.log.info({ mode, measure: measureId || input.id }, 'measure saved');
      return measures(turn, { notice: 'Saved to the measures file.', good: true });
    }
    const current = mode === 'update' ? w.adoption.measures.find((m) => m.id === measureId) : undefined;
    if (res.stale) {
      return {
        card: measureFormCard({
          measure: current,
          values: mode === 'add' ? input : undefined,
          errors: { form: 'Someone changed the measures since this card was made: here they are now. Make your change again.' },
          version: res.version,
        }),
      };
    }
    return { card: measureFormCard({ measure: current, values: input, errors: res.errors, version }) };
  });

  bot.verb(ADOPTION_VERBS.remove, async (turn, data) => {
    const res = await w.adoption.editMeasure(callerOf(turn), { kind: 'remove', id: data.measureId }, data.version);
    if (res.ok) return measures(turn, { notice: `Removed "${data.measureId}".`, good: true });
    if (res.stale) return measures(turn, { notice: 'Someone changed the measures since that card was made; nothing was removed. Here they are now.' });
    return measures(turn, { notice: res.errors.form ?? 'Nothing was removed.' });
  });

  bot.verb(ADOPTION_VERBS.enterFigure, async (turn, data) => {
    // Typed in Teams, a figure carries the reader's decimal mark, as on the tab and in pasted cells: their locale says which.
    const res = await w.adoption.enterFigure(callerOf(turn), data, 'card', writesDecimalComma(turn.context.activity.locale) ? 'comma-locale' : 'point');
    if (!res.ok) return measures(turn, { notice: res.message });
    const name = imsMeasure(data.measure, w.adoption.measures)?.name ?? data.measure;
    const old = res.replaced[0];
    const replaced = old ? ` It replaces ${old.value} entered by ${old.enteredBy || 'someone'}.` : '';
    return measures(turn, { notice: `Saved: ${data.value.trim()} for ${name} on ${data.date.trim()}.${replaced}`, good: true });
  });

  bot.verb(ADOPTION_VERBS.importFigures, async (turn, data) => {
    // Cells pasted from a spreadsheet carry the reader's decimal mark: their locale says which.
    const res = await w.adoption.importFigures(callerOf(turn), data.csv, 'csv', writesDecimalComma(turn.context.activity.locale));
    if (!res.ok) return measures(turn, { notice: res.message, errors: res.errors });
    if ('staged' in res) {
      // Checked and staged: written off the turn, this card following it (saved before the job can redraw it).
      const post = cardPostOf(turn.context);
      if (post) await w.posts.save(IMPORT_POST, res.staged.id, post);
      w.adoption.startImport(res.staged.id);
      turn.log.info({ import: res.staged.id, figures: res.staged.total }, 'figure import staged');
      return { card: importCard(res.staged) };
    }
    turn.log.info({ figures: res.saved }, 'figures imported');
    return measures(turn, { notice: importedNotice(res.saved, res.replaced.length, res.replaced), good: true });
  });

  bot.verb(ADOPTION_VERBS.importStatus, async (turn, data) => {
    const view = await w.adoption.importStatus(callerOf(turn), data.importId);
    if (!view) return measures(turn, { notice: 'There is no such import.' });
    return { card: importCard(view) };
  });

  // ---- pulses --------------------------------------------------------------------------------------

  bot.verb(ADOPTION_VERBS.compose, async () => ({
    card: pulseComposeCard({ draftId: w.pulses.newDraft(), minAnswers: w.pulses.minAnswers, audiences: w.audiences() }),
  }));

  bot.verb(ADOPTION_VERBS.send, async (turn, data) => {
    const { audience, people, audienceTyped, draftId, ...input } = data;
    const res = await w.pulses.send(callerOf(turn), input, audienceOf(audience, people, audienceTyped, w.audiences()), draftId);
    if (res.kind === 'invalid') {
      const card = pulseComposeCard({ draftId: draftId ?? w.pulses.newDraft(), values: data, errors: res.errors, minAnswers: w.pulses.minAnswers, audiences: w.audiences() });
      return { card };
    }
    if (!res.again) turn.log.info({ pulse: res.pulse.id, sentTo: res.pulse.sentTo, unreachable: res.pulse.unreachable ?? 0 }, 'pulse sent');
    const results = await w.pulses.results(callerOf(turn), res.pulse.id);
    return { card: pulseResultsCard(results!, w.dashboardUrl(), sentNotice(res.pulse, res.again)) };
  });

  bot.verb(ADOPTION_VERBS.answer, async (turn, data) => {
    const { pulseId, ...answers } = data;
    const res = await w.pulses.answer(callerOf(turn), pulseId, answers);
    if (res.kind === 'message') return { message: res.text };
    if (res.kind === 'closed') return { card: pulseClosedCard(res.pulse, res.answers) };
    if (res.kind === 'form') return { card: pulseCard(res.pulse, w.pulses.minAnswers, res.answers, res.notice) };
    return { card: pulseAnsweredCard(res.pulse, res.answers, res.replaced) };
  });

  bot.verb(ADOPTION_VERBS.change, async (turn, data) => {
    const res = await w.pulses.answerForm(callerOf(turn), data.pulseId);
    if (res.kind === 'closed') return { card: pulseClosedCard(res.pulse, res.answers) };
    if (res.kind !== 'form') return { message: res.kind === 'message' ? res.text : '' };
    return { card: pulseCard(res.pulse, w.pulses.minAnswers, res.answers) };
  });

  bot.verb(ADOPTION_VERBS.results, async (turn, data) => {
    const results = await w.pulses.results(callerOf(turn), data.pulseId);
    if (!results) return { message: allows(turn.role, 'adoption.pulse.results') ? 'There is no such pulse.' : refusalFor('adoption.pulse.results') };
    return { card: pulseResultsCard(results, w.dashboardUrl()) };
  });
}
