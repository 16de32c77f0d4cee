/**
 * Adoption: measures of success against a baseline, the figures the bot computes (rolled up daily), pulse
 * surveys, the dashboard's data and the weekly digest. Plain functions and classes over plain data; no
 * botbuilder, no HTTP. Tables and keys: docs/storage-adoption.md.
 */
export * from './cards.js';
export { dayIn } from './daily.js';
export { DigestJob } from './digest.js';
export { FigureStore, imsMeasure } from './figures.js';
export { writesDecimalComma } from './numbers.js';
export { dropShownImportCards, FigureImports, hasCard, IMPORT_POST, importCardUpdate, type ImportView } from './figure-imports.js';
export * from './measures.js';
export { MeasuresFile } from './measures-file.js';
export * from './metrics.js';
export { AdoptionPersonalData } from './privacy.js';
export { broadcastAudienceResolver } from './audience.js';
export { reachWithin } from './pulse-reach.js';
export { type AdoptionCaller, audienceOf, PulseService } from './pulse-service.js';
export { sentNotice } from './pulse.js';
export { PulseStore } from './pulse-store.js';
export { BroadcastCommunications, OfficeHoursFigures } from './providers.js';
export { AdoptionRollup, IssueEventRecorder } from './rollup.js';
export { AdoptionService } from './service.js';
export { AggregateStore, EventStore, StateStore } from './store.js';
export { ADOPTION_COMMANDS, ADOPTION_VERBS } from './verbs.js';
