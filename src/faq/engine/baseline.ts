import MiniSearch from 'minisearch';
import type { GuidanceSection } from '../docs/types.js';

/**
 * The yardstick of the eval: plain BM25 as minisearch does it with default options, over the
 * same sections (fields heading + text), "answered" whenever anything matched.
 */
export interface BaselineIndex {
  search(
    question: string,
    limit?: number,
  ): { answered: boolean; results: { section: GuidanceSection; score: number }[] };
}

export function buildBaseline(sections: GuidanceSection[]): BaselineIndex {
  const mini = new MiniSearch<{ id: number; heading: string; text: string }>({ fields: ['heading', 'text'] });
  mini.addAll(sections.map((section, id) => ({ id, heading: section.heading, text: section.text })));
  return {
    search(question, limit = 5) {
      const hits = mini.search(question).slice(0, limit);
      return {
        answered: hits.length > 0,
        results: hits.map((hit) => ({ section: sections[hit.id as number]!, score: hit.score })),
      };
    },
  };
}
