export { loadGuidanceDir } from './load.js';
