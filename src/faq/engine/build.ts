import type { GuidanceSection } from '../docs/types.js';
import { prepareRerank } from './rerank.js';
import { SpellingVocabulary } from './spelling.js';
import { buildSynonymTable, type SynonymTable } from './synonyms.js';
import { buildTranslations, type Translations } from './translation.js';
import { stem, words } from './text.js';
import { DEFAULT_TUNING, type EngineTuning } from './tuning.js';

/** Sections holding one term, with the term's saturated BM25F weight in each (idf applied at query time). */
export interface Postings {
  sections: Uint32Array;
  saturated: Float32Array;
}

export interface FaqIndex {
  sections: GuidanceSection[];
  postings: Map<string, Postings>;
  idf: Map<string, number>;
  /** idf of a term no section has: what an unknown word would weigh. */
  unknownIdf: number;
  spelling: SpellingVocabulary;
  synonyms: SynonymTable;
  /** Term → sections whose own heading holds it, in section order. */
  headingPostings: Map<string, Uint32Array>;
  /** Present when `translationWeight` > 0. */
  translations?: Translations;
  tuning: EngineTuning;
}

interface FieldSpec {
  weight: number;
  b: number;
  text: (section: GuidanceSection, index: number) => string;
}

/** The general-English table, built once; with a glossary, one table per glossary seen. */
let sharedSynonyms: SynonymTable | undefined;
const glossaryTables = new WeakMap<object, SynonymTable>();

export interface BuildOptions {
  /** The organisation's own words (`GLOSSARY_FILE`), read as exact equivalents. */
  glossary?: { groups: readonly (readonly string[])[] };
}

function synonymsFor(glossary: BuildOptions['glossary']): SynonymTable {
  if (!glossary || glossary.groups.length === 0) return (sharedSynonyms ??= buildSynonymTable());
  let table = glossaryTables.get(glossary);
  if (!table) {
    table = buildSynonymTable(undefined, undefined, glossary.groups);
    glossaryTables.set(glossary, table);
  }
  return table;
}

/**
 * Precomputes everything a search needs: per term, the sections holding it and its BM25F
 * weight there, so a query only multiplies by idf and adds up.
 */
export function buildIndex(
  sections: GuidanceSection[],
  tuning: Partial<EngineTuning> = {},
  options: BuildOptions = {},
): FaqIndex {
  const config: EngineTuning = { ...DEFAULT_TUNING, ...tuning };
  const childrenText = descendantsText(sections, config.shortSectionChars);
  const allFields: FieldSpec[] = [
    { weight: config.headingWeight, b: config.headingB, text: (s) => s.heading },
    {
      weight: config.pathWeight,
      b: config.headingB,
      // A doc's top section is headed by the doc's title already: counted once, as its heading.
      text: (s) => [...(s.heading === s.docTitle ? [] : [s.docTitle]), ...s.headingPath.slice(0, -1)].join('\n'),
    },
    { weight: config.bodyWeight, b: config.bodyB, text: (s) => proseOf(s.text) },
    { weight: config.exampleWeight, b: config.bodyB, text: (s) => examplesOf(s.text) },
    { weight: config.childrenWeight, b: config.bodyB, text: (_s, i) => childrenText[i] ?? '' },
  ];
  const fields = allFields.filter((field) => field.weight > 0);

  const wordCounts = new Map<string, number>();
  // termFrequencies[field][section] → term → count
  const termFrequencies = fields.map((field) =>
    sections.map((section, i) => {
      const counts = new Map<string, number>();
      for (const word of words(field.text(section, i))) {
        wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
        const term = stem(word);
        counts.set(term, (counts.get(term) ?? 0) + 1);
      }
      return counts;
    }),
  );
  const lengths = termFrequencies.map((perSection) =>
    perSection.map((counts) => {
      let total = 0;
      for (const count of counts.values()) total += count;
      return total;
    }),
  );
  const averages = lengths.map(
    (perSection) => perSection.reduce((sum, n) => sum + n, 0) / Math.max(1, perSection.length) || 1,
  );

  // Combined BM25F pseudo-frequency per (term, section).
  const combined = new Map<string, Map<number, number>>();
  fields.forEach((field, f) => {
    termFrequencies[f]!.forEach((counts, i) => {
      const norm = 1 - field.b + (field.b * lengths[f]![i]!) / averages[f]!;
      for (const [term, count] of counts) {
        let perSection = combined.get(term);
        if (!perSection) {
          perSection = new Map();
          combined.set(term, perSection);
        }
        perSection.set(i, (perSection.get(i) ?? 0) + (field.weight * count) / norm);
      }
    });
  });

  const total = sections.length;
  const postings = new Map<string, Postings>();
  const idf = new Map<string, number>();
  for (const [term, perSection] of combined) {
    const ids = new Uint32Array(perSection.size);
    const saturated = new Float32Array(perSection.size);
    let k = 0;
    // Section order, so a membership test is a binary search.
    for (const [i, tf] of [...perSection].sort((a, b) => a[0] - b[0])) {
      ids[k] = i;
      saturated[k] = (tf * (config.k1 + 1)) / (config.k1 + tf);
      k++;
    }
    postings.set(term, { sections: ids, saturated });
    idf.set(term, bm25Idf(total, perSection.size));
  }

  const headingLists = new Map<string, number[]>();
  sections.forEach((section, i) => {
    for (const term of new Set(words(section.heading).map(stem))) {
      const list = headingLists.get(term) ?? [];
      list.push(i);
      headingLists.set(term, list);
    }
  });
  const headingPostings = new Map<string, Uint32Array>();
  for (const [term, list] of headingLists) headingPostings.set(term, Uint32Array.from(list));
  if (config.rerank > 0) prepareRerank(sections);

  return {
    sections,
    postings,
    idf,
    unknownIdf: bm25Idf(total, 0),
    spelling: new SpellingVocabulary(wordCounts),
    synonyms: synonymsFor(options.glossary),
    headingPostings,
    ...(config.translationWeight > 0 ? { translations: buildTranslations(sections) } : {}),
    tuning: config,
  };
}

/**
 * Table rows, as the docs module renders them (cells joined by " | "), hold example data
 * ("household_id | Household ID") more than explanation, so they get a field of their own
 * with a lower weight: a scenario word in a question shouldn't win on an example table.
 */
const isTableRow = (line: string) => line.includes(' | ');
function proseOf(text: string): string {
  return text
    .split('\n')
    .filter((line) => !isTableRow(line))
    .join('\n');
}
function examplesOf(text: string): string {
  return text.split('\n').filter(isTableRow).join('\n');
}

function bm25Idf(total: number, withTerm: number): number {
  return Math.log(1 + (total - withTerm + 0.5) / (withTerm + 0.5));
}

/**
 * For each section, the headings and text of the sections nested under it. A heading that only
 * introduces sub-sections ("Managing forms without a server") has little text of its own, yet
 * it is the right answer for a question about all of them.
 */
function descendantsText(sections: GuidanceSection[], shortChars: number): string[] {
  const out = sections.map(() => '');
  sections.forEach((section, i) => {
    // Text before a doc's first heading is not a parent of what follows; a section with text of
    // its own is about that text, and its sub-sections speak for themselves.
    if (section.level === 0 || section.text.length >= shortChars) return;
    const parts: string[] = [];
    for (let j = i + 1; j < sections.length; j++) {
      const next = sections[j]!;
      if (next.doc !== section.doc || next.level <= section.level) break;
      parts.push(next.heading, next.text);
    }
    out[i] = parts.join('\n');
  });
  return out;
}
