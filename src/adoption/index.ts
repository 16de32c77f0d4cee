/**
 * Adoption: measures of success against a baseline, the figures the bot computes (rolled up daily), pulse
 * surveys, the dashboard's data and the weekly digest. Plain functions and classes over plain data; no
 * botbuilder, no HTTP. Tables and keys: docs/storage-adoption.md.
 */
export * from './cards.js';
export { DigestJob, type DigestSchedule, digestWeekDue } from './digest.js';
export { FigureStore } from './figures.js';
export * from './measures.js';
export { MeasuresFile } from './measures-file.js';
export * from './metrics.js';
export { defaultAudienceResolver } from './audience.js';
export { type AdoptionCaller, type AudienceResolver, audienceOf, type PulseAudience, PulseService } from './pulse-service.js';
export { PulseStore } from './pulse-store.js';
export { AdoptionRollup, IssueEventRecorder, type RollupSources } from './rollup.js';
export { AdoptionService } from './service.js';
export { AggregateStore, EventStore, StateStore } from './store.js';
export { ADOPTION_COMMANDS, ADOPTION_VERBS } from './verbs.js';
