export {
  GuidanceLibrary,
  type GuidanceLibraryOptions,
  type GuidanceSnapshot,
  type ReloadedEvent,
} from './library.js';
export { type LoadedGuidance, type LoadOptions, loadGuidanceDir, type SkippedDoc } from './load.js';
export { parseGuidanceDoc } from './parse.js';
export { githubSlug } from './slug.js';
export type { GuidanceDoc, GuidanceMeta, GuidanceSection } from './types.js';
