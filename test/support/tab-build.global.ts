import { buildTab } from '../../scripts/build-tab.js';

/** The dashboard tab is bundled from tab/src before any test serves it (the bundle is git-ignored). */
export default async function setup(): Promise<void> {
  await buildTab();
}
