import { GuidanceLibrary, type GuidanceLibraryOptions } from '../docs/library.js';
import type { GuidanceSection } from '../docs/types.js';
import { GlossaryFile } from '../glossary.js';
import { buildIndex, type FaqIndex } from './build.js';

export interface FaqLibraryOptions extends Omit<GuidanceLibraryOptions<FaqIndex>, 'buildIndex' | 'onClose'> {
  /** The organisation's glossary (`GLOSSARY_FILE`); reloaded on change like the docs. */
  glossaryFile?: string;
  /** More sections to rank with the docs (champions' curated answers); `library.rebuild` after they change. */
  extraSections?: () => GuidanceSection[];
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
  const { glossaryFile, extraSections, ...rest } = options;
  const glossary = glossaryFile
    ? await GlossaryFile.open(glossaryFile, {
        ...(rest.onWarning ? { onWarning: rest.onWarning } : {}),
        ...(rest.debounceMs !== undefined ? { debounceMs: rest.debounceMs } : {}),
        ...(rest.pollMs !== undefined ? { pollMs: rest.pollMs } : {}),
      })
    : undefined;
  const library = await GuidanceLibrary.open(dir, {
    ...rest,
    buildIndex: (sections) =>
      buildIndex(
        extraSections ? [...sections, ...extraSections()] : sections,
        {},
        glossary ? { glossary: glossary.current } : {},
      ),
    ...(glossary ? { onClose: () => glossary.close() } : {}),
  });
  glossary?.on('changed', () => library.rebuild(glossary.file));
  return library;
}
