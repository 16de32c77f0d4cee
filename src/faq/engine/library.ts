import { GuidanceLibrary, type GuidanceLibraryOptions } from '../docs/library.js';
import { buildIndex, type FaqIndex } from './build.js';

/** The guidance folder, served as a live FAQ index: what the bot opens at start-up. */
export function openFaqLibrary(
  dir: string,
  options: Omit<GuidanceLibraryOptions<FaqIndex>, 'buildIndex'> = {},
): Promise<GuidanceLibrary<FaqIndex>> {
  return GuidanceLibrary.open(dir, { ...options, buildIndex: (sections) => buildIndex(sections) });
}
