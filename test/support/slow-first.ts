import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that spend longest waiting (scale-out instances, browsers, pacing and crash recovery), in the
 * order they start. A fresh clone has no timings cached, so without this the longest file could start
 * last and leave one worker idle for minutes; the rest keep Vitest's own order.
 */
const SLOW = [
  'test/broadcast/crash.test.ts',
  'test/http/officehours-held.test.ts',
  'test/storage/embedded.test.ts',
  'test/outbound/crash.test.ts',
  'test/e2e/tab.e2e.test.ts',
  'test/http/broadcast.test.ts',
  'test/http/privacy-held.test.ts',
  'test/build/production.test.ts',
  'test/http/faq-gaps.test.ts',
  'test/production/instances.test.ts',
  'test/outbound/limits.test.ts',
  'test/http/tab-api-board.test.ts',
  'test/e2e/playground-ui.e2e.test.ts',
];

export default class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW.indexOf(relative(f.project.config.root, f.moduleId).replaceAll('\\', '/'));
      return i < 0 ? SLOW.length : i;
    };
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}
