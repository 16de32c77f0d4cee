import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The app's root folder: the parent of `src/` when run with tsx, of `dist/` when run compiled. Both trees
 * put this file one level below the root, so the folders shipped beside the code resolve the same way.
 */
export const APP_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Adaptive Card templates (schema 1.5 JSON). */
export const CARDS_DIR = path.join(APP_ROOT, 'cards');
/** The tab's static files. */
export const TAB_DIR = path.join(APP_ROOT, 'tab');
