export { buildIndex, type FaqIndex } from './build.js';
export { looksNotEnglish } from './language.js';
export { openFaqLibrary } from './library.js';
export { bestPassage } from './passage.js';
export { search, warmUp } from './search.js';
export { DEFAULT_TUNING, type EngineTuning, parseTuning } from './tuning.js';
