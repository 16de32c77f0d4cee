import { GuidanceLibrary, type GuidanceLibraryOptions } from '../docs/library.js';
import { GlossaryFile } from '../glossary.js';
import { buildIndex, type FaqIndex } from './build.js';

export interface FaqLibraryOptions extends Omit<GuidanceLibraryOptions<FaqIndex>, 'buildIndex' | 'onClose'> {
  /** The organisation's glossary (`GLOSSARY_FILE`); reloaded on change like the docs. */
  glossaryFile?: string;
}

/**
 * The guidance folder, served as a live FAQ index with the organisation's glossary: what the bot
 * opens at start-up. A bad glossary at start throws (naming the entry); a bad edit later is
 * reported and the previous glossary kept. A glossary change rebuilds the index.
 */
export async function openFaqLibrary(
  dir: string,
  options: FaqLibraryOptions = {},
): Promise<GuidanceLibrary<FaqIndex>> {
  const { glossaryFile, ...rest } = options;
  const glossary = glossaryFile
    ? await GlossaryFile.open(glossaryFile, {
        ...(rest.onWarning ? { onWarning: rest.onWarning } : {}),
        ...(rest.debounceMs !== undefined ? { debounceMs: rest.debounceMs } : {}),
        ...(rest.pollMs !== undefined ? { pollMs: rest.pollMs } : {}),
      })
    : undefined;
  const library = await GuidanceLibrary.open(dir, {
    ...rest,
    buildIndex: (sections) => buildIndex(sections, {}, glossary ? { glossary: glossary.current } : {}),
    ...(glossary ? { onClose: () => glossary.close() } : {}),
  });
  glossary?.on('changed', () => library.rebuild(glossary.file));
  return library;
}
