import { parseInWorker, workerParser } from '../files/parse-in-worker.js';
import { WatchedFile } from '../files/watched-file.js';
import type { Rollout } from '../rollout/index.js';
import type { Schedule } from './model.js';
import { buildSchedule, EMPTY_SCHEDULE_FILE, type ScheduleFile } from './schedule.js';

/**
 * A session takes about 500-750 bytes as the sample writes them and the file may hold 500 (schedule.ts),
 * so about 370 KB at the most; 512 KB leaves room for comments and `changes` lists.
 */
export const SCHEDULE_MAX_BYTES = 512 * 1024;

const PARSE_SCHEDULE = workerParser(import.meta.url, './schedule', 'parseScheduleFile');

/**
 * The schedule file (`OFFICE_HOURS_FILE`), kept current without a restart, read in a worker thread so a large
 * file holds no user's turn. A file that can't be read (or is over SCHEDULE_MAX_BYTES, refused unread) keeps
 * the last good version; single bad sessions are named when the schedule is built (buildSchedule).
 */
export function openScheduleFile(
  file: string,
  opts: { onWarning?: (message: string) => void; pollMs?: number; debounceMs?: number } = {},
): Promise<WatchedFile<ScheduleFile>> {
  return WatchedFile.open(file, {
    ...opts,
    missing: EMPTY_SCHEDULE_FILE,
    parse: (text, source) => parseInWorker<ScheduleFile>(PARSE_SCHEDULE, text, source),
    maxBytes: SCHEDULE_MAX_BYTES,
  });
}

/**
 * The schedule in force from the two files it depends on: rebuilt (and its problems reported, each naming
 * the session and field) only when the schedule file or the rollout file changed. Each is built on the one
 * before: a session whose entry turns bad is served as it last was (buildSchedule's `previous`).
 */
export function liveSchedule(
  file: () => ScheduleFile,
  rollout: () => Pick<Rollout, 'cohorts' | 'groups'>,
  source: string,
  onProblem: (message: string) => void = () => {},
): () => Schedule {
  let built: { file: ScheduleFile; rollout: object; schedule: Schedule } | undefined;
  return () => {
    const f = file();
    const r = rollout();
    if (!built || built.file !== f || built.rollout !== r) {
      const schedule = buildSchedule(f, r, source, built?.schedule);
      for (const problem of schedule.problems) onProblem(problem);
      built = { file: f, rollout: r, schedule };
    }
    return built.schedule;
  };
}
