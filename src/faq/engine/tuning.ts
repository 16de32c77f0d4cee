/**
 * Knobs of the retrieval model. Ordinary BM25F settings plus the weights of the query
 * expansions; set once by reasoning and a coarse check on half of the ODK dev questions,
 * confirmed on the other half (a per-half grid search over-fitted and was dropped).
 */
export interface EngineTuning {
  /** BM25 term-frequency saturation. */
  k1: number;
  /** Field weights: own heading, ancestors' headings + doc title, prose, tables/examples, sub-sections. */
  headingWeight: number;
  pathWeight: number;
  bodyWeight: number;
  exampleWeight: number;
  childrenWeight: number;
  /** Length normalisation (0 = none, 1 = full) for heading fields and for text fields. */
  headingB: number;
  bodyB: number;
  /** Below this many characters of its own, a section is also indexed by its sub-sections' text. */
  shortSectionChars: number;
  /**
   * idf is raised to this power: < 1 flattens it, so one rare scenario word ("pregnancy") in
   * a question counts less against the two ordinary words that name the actual task.
   */
  idfPower: number;
  /** Query-side weights of a typo repair, a word-family variant and a synonym-group member. */
  typoWeight: number;
  variantWeight: number;
  relatedWeight: number;
  /** Query-side weight of an unknown word read without its prefix ("resend" → send). */
  prefixWeight: number;
  /** A second section from a doc already in the results is scored down by this factor (result diversity). */
  sameDocFactor: number;
  /**
   * A question word whose synonym-group member is in a section's own heading (asked "wipe",
   * heading says "Reset") adds this × the word's idf weight, outside BM25F saturation. Manuals
   * name a task in the heading with their own word; the question's literal words mostly match
   * scenario text in other sections' bodies, and a synonym at `relatedWeight` in the
   * heading field alone can't compete with that.
   */
  headingSynonymBonus: number;
  /**
   * The same outside-saturation bonus for the question's own word (or its spelling or family
   * variant) in the section's own heading, so a synonym in one heading can't beat the word itself
   * in another: asked "dashboard", "Where do I find the dashboards?" beats "Can I make my own charts?".
   */
  headingWordBonus: number;
  /** Ranking weight of an error code typed in a question ("FL-403"), against 1 for a word. */
  codeBoost: number;
  /** A direct sub-section of the best section scoring at least this share of it is listed second. */
  subsectionRatio: number;

  /**
   * A candidate whose heading asks with the question's own wh-word ("who …", "when …", "why …") is
   * scored up by this share: the question word is a stop word for matching, yet it says which
   * kind of answer is wanted (a person, a date, a reason).
   */
  askedLikeBonus: number;

  /**
   * In a question told with its context first ("the battery died in the middle of a visit, did I lose
   * everything"), the words of the part that asks (opening with how / what / can I / did …) rank with
   * 1 + this weight; the context's words stay at 1: the context says where, the asking part what is
   * wanted. 0: off. Confidence is judged without it.
   */
  askingPartBonus: number;

  /**
   * Query words are expanded with the doc terms that go with them in the docs (`translation.ts`): up to
   * `translationTerms` per known word, at `translationWeight` × their strength, only terms at least
   * `translationMinLift` times likelier there than anywhere, taken from the text under the headings that
   * use the word (IBM Model 1's direction: headings as the questions their text answers).
   * Ranking only: confidence and refusal are judged without them, on the section cited first, which they
   * may only put first when the question's own words answer both it and their own best. 0 weight: off.
   */
  translationWeight: number;
  translationTerms: number;
  translationMinLift: number;

  /** Confidence below this → "not answered". */
  answerThreshold: number;
  /** Confidence is lowered by this × the share of the question's weight in words the docs never use. */
  unknownPenalty: number;
  /**
   * A question not answered as a whole is answered from one of its clauses ("… and make a pivot
   * table") only when that clause alone reaches this confidence: stricter than `answerThreshold`,
   * since a short clause of an off-topic question easily matches something.
   */
  clauseThreshold: number;
  /**
   * A question is not answered when the best section lacks, in every form, one of its words that
   * carries at least `missingWordShare` of the question's weight, unless confidence reaches
   * `missingWordConfidence`: "can I get a new office chair" matches "office" well and "chair"
   * nowhere near it, so it is about something else. 0 turns the rule off.
   */
  missingWordShare: number;
  missingWordConfidence: number;

  /**
   * 1: the engine's top `RERANK_DEPTH` candidates are reordered by the learned linear re-ranker
   * (`rerank.ts`, weights fitted by `scripts/faq-train-rerank.ts` on the tuning sets' answerable
   * questions); whether a question is answered, and its confidence, stay the lexical engine's own. 0: off
   * (the hand-tuned order alone). Figures: docs/faq-experiments.md.
   */
  rerank: number;
}

export const DEFAULT_TUNING: EngineTuning = {
  k1: 1.2,
  headingWeight: 2,
  pathWeight: 1,
  bodyWeight: 1,
  exampleWeight: 0.5,
  childrenWeight: 0.3,
  headingB: 0.3,
  bodyB: 0.75,
  shortSectionChars: 100,
  idfPower: 0.7,
  typoWeight: 0.8,
  variantWeight: 0.9,
  relatedWeight: 0.5,
  prefixWeight: 0.8,
  sameDocFactor: 0.7,
  headingSynonymBonus: 0.6,
  headingWordBonus: 0.3,
  codeBoost: 2,
  subsectionRatio: 0.3,
  askedLikeBonus: 0.6,
  askingPartBonus: 0.2,
  translationWeight: 0.5,
  translationTerms: 3,
  translationMinLift: 3,
  answerThreshold: 0.2,
  unknownPenalty: 0.3,
  clauseThreshold: 0.4,
  missingWordShare: 0.4,
  missingWordConfidence: 0.45,
  rerank: 1,
};

/**
 * Reads tuning overrides from JSON (`faq:eval --tuning`), so a variant of the engine can be
 * measured without editing code. Unknown knobs and non-numbers are errors naming the key:
 * a typo must not silently measure the default engine.
 */
export function parseTuning(json: string): Partial<EngineTuning> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('tuning: not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('tuning: expected a JSON object such as {"idfPower": 0.8}');
  }
  const out: Partial<Record<keyof EngineTuning, number>> = {};
  for (const [key, setting] of Object.entries(value)) {
    if (!Object.hasOwn(DEFAULT_TUNING, key)) {
      throw new Error(`tuning: unknown knob "${key}" (known: ${Object.keys(DEFAULT_TUNING).join(', ')})`);
    }
    if (typeof setting !== 'number' || !Number.isFinite(setting) || setting < 0) {
      throw new Error(`tuning: "${key}" must be a number ≥ 0`);
    }
    out[key as keyof EngineTuning] = setting;
  }
  return out;
}
