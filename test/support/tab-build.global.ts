import { buildTab } from '../../scripts/build-tab.js';
import { oncePerRun } from './once-per-run.js';

/** The dashboard tab is bundled from tab/src before any test serves it (the bundle is git-ignored), once per run. */
export default async function setup(): Promise<() => Promise<void>> {
  const built = await oncePerRun('tab-build', () => buildTab(), async () => {});
  return built.release;
}
