import type { WatchedFile } from '../files/watched.js';
import { WatchedFile as Watched } from '../files/watched.js';
import type { Rollout } from '../rollout/model.js';
import { EMPTY_PLAN, type Plan } from './model.js';
import { parsePlan } from './plan.js';
import type { SendStore } from './sends.js';

/**
 * `COMM_PLAN_FILE`, kept current without a restart. A file with any problem is never half-applied: the
 * last good plan stays in force (kept in Tables, so it survives a restart too) and `onInvalid` is told,
 * with every problem named by message id and field.
 */
export interface PlanFile {
  readonly current: Plan;
  reload(): Promise<boolean>;
  close(): void;
}

export async function openPlanFile(
  file: string,
  opts: {
    rollout(): Rollout;
    store: Pick<SendStore, 'saveGoodPlan' | 'lastGoodPlan'>;
    onInvalid(message: string): void;
    onChange?(plan: Plan): void;
    pollMs?: number;
  },
): Promise<PlanFile> {
  let invalidAtStart = false;
  let lastGood: Plan | undefined;
  const watched: WatchedFile<{ plan: Plan; text: string } | undefined> = await Watched.open(file, {
    parse: (text, source) => ({ plan: parsePlan(text, opts.rollout(), source), text }),
    missing: () => undefined,
    tolerateInvalidOnOpen: true,
    pollMs: opts.pollMs,
    onChange: (value) => {
      if (!value) return;
      lastGood = value.plan;
      opts.store.saveGoodPlan(value.text).catch(() => {});
      opts.onChange?.(value.plan);
    },
    onInvalid: (message) => {
      invalidAtStart = lastGood === undefined;
      opts.onInvalid(message);
    },
  });
  if (watched.current) {
    lastGood = watched.current.plan;
    await opts.store.saveGoodPlan(watched.current.text);
  } else if (invalidAtStart) {
    // The file was bad when the app started: the plan last known good, if it still reads.
    const text = await opts.store.lastGoodPlan();
    try {
      if (text) lastGood = parsePlan(text, opts.rollout(), 'last good plan');
    } catch {
      lastGood = undefined;
    }
  }
  return {
    get current() {
      return lastGood ?? EMPTY_PLAN;
    },
    reload: () => watched.reload(),
    close: () => watched.close(),
  };
}
