import { NotChecked, parseInWorker, workerParser } from '../files/parse-in-worker.js';
import { WatchedFile } from '../files/watched-file.js';
import type { Rollout } from '../rollout/model.js';
import { EMPTY_PLAN, type Plan } from './model.js';
import type { PlanRollout } from './plan.js';
import type { SendStore } from './sends.js';

/**
 * `COMM_PLAN_FILE`, kept current without a restart. A file with any problem is never half-applied: the
 * last good plan stays in force (kept in Tables, so it survives a restart too) and `onInvalid` is told,
 * with every problem named by message id and field. The plan is checked against the rollout file too, so
 * `recheck` runs the same when only the rollout file changed (a cohort the plan names was removed, or added).
 */
export interface PlanFile {
  readonly current: Plan;
  reload(): Promise<boolean>;
  /** Reads the plan file again against the rollout as it is now: taken if it fits, else told (the last good stays). */
  recheck(): Promise<void>;
  close(): void;
}

/**
 * A key message takes about 550-700 bytes as the sample writes them; a plan may hold 200 (plan.ts), each
 * body up to 4,000 characters, so a full plan of long messages stays under 1 MB. Reading and checking that
 * much (YAML, every recurrence rule) takes seconds, so it runs in a worker thread (parse-in-worker.ts).
 */
export const PLAN_MAX_BYTES = 1024 * 1024;

const PARSE_PLAN = workerParser(import.meta.url, './plan', 'parsePlanFile');

/** What one read of the file gave: a plan, or the problems that kept it out (never thrown: the watcher keeps going). */
type Read = { plan: Plan; text: string } | { problem: string; why: PlanRefusal } | undefined;

/** Why a plan was not taken: the file's problems, or its check did not finish (a crashed or hung parser). */
export type PlanRefusal = 'file' | 'check';

export async function openPlanFile(
  file: string,
  opts: {
    rollout(): Rollout;
    store: Pick<SendStore, 'saveGoodPlan' | 'lastGoodPlan'>;
    onInvalid(problem: string, why: PlanRefusal): void;
    onChange?(plan: Plan): void;
    /** A plan taken (at start too) that has something to tell the rollout team (Plan.notes). */
    onNotes?(notes: string[]): void;
    pollMs?: number;
  },
): Promise<PlanFile> {
  // A worker that crashed or hung keeps the last good plan too, but is told as a check that did not finish.
  const read = async (text: string, source: string): Promise<Read> => {
    const { cohorts, groups } = opts.rollout();
    try {
      return { plan: await parseInWorker<Plan>(PARSE_PLAN, text, source, { input: { cohorts, groups } satisfies PlanRollout }), text };
    } catch (error) {
      return { problem: (error as Error).message, why: error instanceof NotChecked ? 'check' : 'file' };
    }
  };
  // A file over PLAN_MAX_BYTES is refused unread, and told like a malformed one: at start too (the last good stays).
  const watched = await WatchedFile.open<Read>(file, {
    parse: read,
    missing: undefined,
    pollMs: opts.pollMs,
    maxBytes: PLAN_MAX_BYTES,
    tooLarge: (problem) => ({ problem, why: 'file' }),
  });
  let lastGood: Plan | undefined;
  const take = async (value: Read, atStart: boolean) => {
    if (value && 'plan' in value) {
      lastGood = value.plan;
      await opts.store.saveGoodPlan(value.text);
      if (!atStart) opts.onChange?.(value.plan);
      if (value.plan.notes?.length) opts.onNotes?.(value.plan.notes);
      return;
    }
    if (!value) {
      lastGood = undefined; // the file was removed: no plan
      return;
    }
    opts.onInvalid(value.problem, value.why);
    if (atStart) {
      // Bad when the app started: the plan last known good, if it still reads.
      const text = await opts.store.lastGoodPlan();
      const kept = text ? await read(text, 'last good plan') : undefined;
      if (kept && 'plan' in kept) lastGood = kept.plan;
    }
  };
  // One take at a time: a plan-file save and a rollout-file save close together end with the later one.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => (queue = queue.then(work, work));
  await take(watched.current, true);
  watched.on('changed', (value) => void enqueue(() => take(value, false)).catch(() => {}));
  // The rollout changed: the same file, parsed again against it, goes the same way as an edit of the file.
  const recheck = async () => {
    await watched.reload({ force: true });
    await queue;
  };
  return {
    get current() {
      return lastGood ?? EMPTY_PLAN;
    },
    reload: () => watched.reload(),
    recheck,
    close: () => watched.close(),
  };
}
