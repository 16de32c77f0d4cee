import { WatchedFile } from '../files/watched-file.js';
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

/** What one read of the file gave: a plan, or the problems that kept it out (never thrown: the watcher keeps going). */
type Read = { plan: Plan; text: string } | { problem: string } | undefined;

export async function openPlanFile(
  file: string,
  opts: {
    rollout(): Rollout;
    store: Pick<SendStore, 'saveGoodPlan' | 'lastGoodPlan'>;
    onInvalid(problem: string): void;
    onChange?(plan: Plan): void;
    pollMs?: number;
  },
): Promise<PlanFile> {
  const read = (text: string, source: string): Read => {
    try {
      return { plan: parsePlan(text, opts.rollout(), source), text };
    } catch (error) {
      return { problem: (error as Error).message };
    }
  };
  const watched = await WatchedFile.open<Read>(file, { parse: read, missing: undefined, pollMs: opts.pollMs });
  let lastGood: Plan | undefined;
  const take = async (value: Read, atStart: boolean) => {
    if (value && 'plan' in value) {
      lastGood = value.plan;
      await opts.store.saveGoodPlan(value.text);
      if (!atStart) opts.onChange?.(value.plan);
      return;
    }
    if (!value) {
      lastGood = undefined; // the file was removed: no plan
      return;
    }
    opts.onInvalid(value.problem);
    if (atStart) {
      // Bad when the app started: the plan last known good, if it still reads.
      const text = await opts.store.lastGoodPlan();
      const kept = text ? read(text, 'last good plan') : undefined;
      if (kept && 'plan' in kept) lastGood = kept.plan;
    }
  };
  await take(watched.current, true);
  watched.on('changed', (value) => void take(value, false).catch(() => {}));
  return {
    get current() {
      return lastGood ?? EMPTY_PLAN;
    },
    reload: () => watched.reload(),
    close: () => watched.close(),
  };
}
